## taxdisk 自己的文字：错误和每个开票流程命令的结果。

cli-error = 错误：{$error}
cli-no-session = 未登录：请先运行 `taxdisk login --user 用户名`(H2)
cli-prompt-missing = {$what}：没有提供密码（请在提示时输入，或用 TAXDISK_PASSWORD 或 --password）
cli-prompt-io = {$what}：无法读取密码：{$error}
cli-key-bad = 金税盘的公钥不是有效的 SM2 公钥
cli-key-bad-signature = 签名与金税盘的公钥验签不符(D5)
cli-file = {$path}：{$error}
cli-bench-disk = 金税盘：{$error}
cli-bench-bureau = 税务局：{$error}
cli-bench-store = 数据库：{$error}
cli-bench-invoice = 发票：{$error}
cli-demo-step = {$step}：{$error}
cli-demo-setup = 准备：{$error}
cli-suite-failed = 一致性测试：{$n} 个场景失败
cli-replay-different = 重放：{$n} 处不同
cli-faults-config = 故障演练：{$error}
cli-faults-setup = 故障演练：准备（{$step}）失败：{$error}
cli-faults-stuck = 故障演练：{$step} 在恢复后重试 {$tries} 次仍失败：{$error}
cli-data-folder = 数据文件夹 {$path}：{$error}
cli-sim-disk = 模拟金税盘：{$error}
cli-input = {$what}：{$error}
cli-usage-start-time = --start-time 设置进程内模拟器的时钟；网络或 USB 金税盘使用自己的时钟（用 taxdisk-sim serve --start-time 启动）
cli-usage-faults = --frame-faults 须为 0 到 0.5，--invoices 至少为 1
cli-faults-failed = 故障演练：有不变量未通过（见上文）
cli-usage-demo-invoices = --invoices 须为 10 到 200000
cli-usage-bench-tcp-bureau = 通过 tcp 测试需要 --bureau URL：该网络金税盘信任的税务局
cli-usage-bench-disk = 性能测试在新的模拟器上运行（不给 --disk），或在网络金税盘上运行：--disk tcp:主机:端口 和/或 --farm tcp:主机:端口（可重复）或 --farm-file 文件，并给 --bureau URL
cli-usage-bench-jobs-tcp = --jobs {$jobs} 会运行 {$jobs} 个新的进程内模拟金税盘；使用网络金税盘时，参与测试的就是所给的金税盘（--disk、--farm、--farm-file），请不要给 --jobs
cli-usage-bench-ranges = --invoices 至少为 1，--jobs（或网络金税盘数）为 1 到 64，--batch 为 1 到 10000
cli-bench-farm-file = 无法读取金税盘列表文件 {$path}：{$error}
cli-bench-farm-line = {$path} 第 {$line} 行：{$error}
cli-wrote = 已写出 {$path}
cli-verified = 签名验证通过；可自行用下面的命令核对：
cli-bad-kind = 未知的发票种类 {$kind}(F1)：请用 special、normal、electronic、roll、motor-vehicle、used-car 或发票类型代码
cli-bad-period = 所属期 {$period}：格式为 YYYYMM，月份 01-12
cli-bad-number = 发票号码 {$number}：8 位数字，1 到 99999999(F2)

## 发票种类（F1）和已开发票的状态，表格中的显示。
kind-special = 增值税专用发票
kind-normal = 增值税普通发票
kind-electronic = 增值税电子普通发票
kind-roll = 增值税普通发票（卷票）
kind-motor-vehicle = 机动车销售统一发票
kind-used-car = 二手车销售统一发票
state-pending = 待签名
state-issued = 未报送
state-uploaded = 已报送
state-voided = 已作废
state-abandoned = 已放弃
out-yes = 是
out-no = 否

## 会话（H1、H2、D1、H12）。
out-initialized = 初始化完成：管理员 {$name}；税务局 {$url} 连接测试成功(H1)
out-provisioned = 金税盘 {$serial} 已为 {$company}（{$tin}）初始发行，开票机号 {$machine}；锁死日期 {$lock}(D1)
out-logged-in = 已以 {$user} 身份登录金税盘 {$serial}（{$state}）
out-logged-out = 已退出登录
step-copied = 本月首次登录，已对 {$period} 抄税(H12)
step-reported = 已自动向税务局上报汇总 {$period}(H12)
step-receipt = 已将税务局对 {$period} 上报汇总的报税成功标志读入金税盘(D4)
step-cleared = 已对 {$period} 清卡(H12)
step-updates = 已写入税务局对本金税盘的 {$n} 项变更（网上变更，H17）
step-uploaded = 已上传 {$n} 条等待税务局的记录(H11)
step-note = 注意：{$note}

## 用户、客户、商品（H2、H5、H6）。
out-invoicer-added = 已新增开票员 {$name}（编号 {$id}），可开 {$kinds} 种发票
out-password-changed = 密码已修改
out-renamed = 用户名已改为 {$name}
out-customer-added = 已增加客户 {$id}
out-customer-auto-save-on = 开具发票的购方信息将自动保存到客户管理(H5)
out-customer-auto-save-off = 不再自动保存购方信息；可用 `customer add` 手工保存(H5)
out-category-added = 已增加客户分类 {$id}：{$name}
out-category-added-under = 已增加客户分类 {$id}：{$name}，属于 {$parent}
out-category-customers = {$n} 个客户
out-category-taken = --name {$name}：分类 {$id} 已使用这个名称；分类名称不能重复(H5)
out-category-unknown = {$flag} {$name}：没有这个名称的客户分类（见 `customer category list`）
out-product-added = 已增加商品 {$id}

## 开具、作废、红字（H8、H9、H10）。
out-issued = 已开具{$kind} {$code} {$number}（编号 {$id}，序号 {$counter}）{$uploaded}{$saved}
out-issued-uploaded = ，已上传
out-issued-not-uploaded = ，尚未上传
out-issued-buyer-saved = ，购方已保存到客户管理
out-draft-refused = 第 {$n} 张：{$error}
out-draft-not-issued = 第 {$n} 张未开具：{$error}
out-drafts-refused = {$total} 张中有 {$refused} 张未开具（见上文）；其余已开具
out-issue-input = 请给 --file 文件，或 --kind 种类 加 --item 商品行(H7)
out-voided-blank = 已作废{$kind}空白发票 {$n} 份，自 {$code} {$first} 起
out-voided = 已作废 {$code} {$number}（编号 {$id}）
out-void-input = 请给 --id 编号（可重复），或 --blank 份数 加 --kind 种类(H9)
out-issued-red = 已开具红字{$kind} {$code} {$number}（编号 {$id}）
out-issued-red-form = 已依据信息表 {$form} 开具红字{$kind} {$code} {$number}（编号 {$id}）
out-form-row = 信息表 {$id} {$state} {$number}
out-form-no-number = （尚无编号）
out-form-filled = 已填开信息表 {$id}（未上传）
out-form-deleted = 已删除信息表 {$id}

## 上传、修复、抄报税（H11、H12、B5）。
out-upload = 已发送 {$sent} 条记录，税务局接收 {$accepted} 条，{$marked} 条标为已报送；拒绝 {$rejected} 条
out-upload-rejected = 序号 {$counter} 被拒绝：{$message}（{$code}）
out-counter-report = 已将 {$period} 的办税厅抄报数据写入 {$path}(H12)
out-reported = 已上报汇总 {$period}：序号 {$first}..{$last}(H12)
out-declared = 已在税务局申报 {$period}(B5)
out-cleared = 已对 {$period} 清卡；下次锁死日期 {$lock}

## 发票卷（H13、D4）。
out-rolls-none = 没有待读入的购票信息：未读入任何发票（用 `taxdisk rolls buy` 购买）
out-roll-row = {$kind} {$code} {$first}-{$last} 已用 {$used} 剩余 {$left}
out-return-hint = {$error}；税务局可以连接时请运行 `taxdisk report`，然后再退回发票卷

## 状态查询（H14）。
out-status-disk = 金税盘 {$serial} 状态 {$state} 时钟 {$time} 所属期 {$period} 锁死日期 {$lock} 上传截止日期 {$deadline} 序号 {$counter}
out-status-roles = 成品油授权类型：{$oil}{$until}；二手车授权类型：{$car}
out-status-until = ，有效期至 {$time}
col-kind = 发票种类
col-auth = 授权
col-single-limit = 开票限额
col-hours = 离线时长
col-offline-amount = 离线限额
col-pending = 未上传
col-blank = 剩余份数
out-oil-stock = 成品油类别 {$category}：{$quantity} {$unit}

## 导出、打印、备份（H16、H18、H4），网上变更（H17）。
out-updates = 已写入 {$n} 项变更(H17)
out-exported = 已将 {$period} 的 {$invoices} 张发票、{$lines} 行明细导出到 {$path}（未含作废发票 {$voided} 张）
out-list-not-as-signed = （与税控盘签名的内容不符：请运行 `taxdisk repair`）
warn-list-not-as-signed = 警告：{$period} 有 {$count} 张发票在数据库中的内容与税控盘签名的不符，未显示其金额：请运行 `taxdisk repair` (H8)
err-export-not-as-signed = 有 {$count} 张发票未导出：数据库中的内容与税控盘签名的不符；请运行 `taxdisk repair` (H8)
out-printed = 已将发票 {$id} 打印到 {$path}
out-backup = 数据备份 {$name}
out-restored = 已恢复 {$name}
cli-bad-item = --item {$item}：{$why}；格式应为 名称:税收分类编码:税率%:数量:单价

## 修复（H8、FAQ 4.22）。
out-repair-scanned = 已扫描 {$events} 条金税盘记录：{$issued} 张待开发票确认为已开具，{$abandoned} 张作废未开，{$undecided} 张尚无定论，{$voided} 张已作废，{$unknown} 张在金税盘上但数据库中没有
out-repair-mismatch = 发票 {$id}（{$code} {$number}）与金税盘签名的内容不符：{$differences}；{$outcome}
out-repair-cannot-rebuild = 其内容无法从金税盘重建：请重新开具或恢复备份（FAQ 4.22）
out-repair-restored = 已恢复为签名时的数值
out-repair-unchanged = 未改动
out-repair-all-match = 读回的每张发票都与金税盘签名的内容一致
out-repair-note = 注意：{$note}

## 口令提示问的内容。
cli-password-for = {$user} 的密码
cli-password-for-new = 新开票员 {$user} 的密码
cli-bad-durability = 持久性 {$value}：请用 full 或 normal
cli-data-busy = 数据文件夹 {$a} 正被{$b}使用（另一个 taxdisk 命令）；已等待 {$c} 秒
cli-admin-token-empty = {$a}：管理员令牌文件为空
cli-embedded-bureau = 内置税务局（{$a}）：{$b}
cli-bad-disk = --disk {$value}：应为 sim:路径、tcp:主机:端口、usb、usb:编号 或 usb:总线.地址
cli-oil-unit = 请给出 --litres 或 --tonnes 之一(H15)
cli-oil-range = 成品油数量超出范围
cli-oil-positive = 成品油数量必须为正数(H15)
cli-bureau-offline = 离线：{$error}；在金税盘的离线开票限额内继续开票（D9），直到税务局应答
cli-bureau-never-reached = {$error}；本数据目录从未连通过税务局，尚不知道金税盘的税务局公钥
