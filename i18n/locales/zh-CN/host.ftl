## 开票软件（host）的错误（host::l10n）。FAQ 引用了真实软件提示或答复的，逐字照录，后接规则编号。

## host::disk::DiskError
disk-refused = 金税盘拒绝{$command}：{$error}{$detail}
disk-detail-tries = ；还可尝试 {$n} 次
disk-detail-storage = ；金税盘已停止：记录可读到第 {$n} 条
disk-detail-other = （详情 {$n}）
disk-busy = 金税盘拒绝{$command}：金税盘正被其他会话使用(D14)，错误码 0x0004；请关闭另一个程序或稍后再试
disk-timeout = 金税盘（{$link}）在 {$attempts} 次、每次 {$ms} 毫秒内没有回答{$command}
disk-corrupted = 金税盘对{$command}的回答 {$attempts} 次均已损坏：{$last}
disk-transport = 与金税盘的连接失败：{$error}
disk-encode = {$command}无法编码：{$error}
disk-protocol = 金税盘对{$command}的回答不符合协议：{$what}

## host::bureau_client::BureauError
bureau-client-bad-url = 安全接入服务器地址 {$url} 无效：应为 http://主机:端口（FAQ 2.1）
bureau-client-unreachable = 无法连接税务局 {$url}（{$reason}）；请检查安全接入服务器地址（FAQ 2.1）和网络
bureau-client-timeout = 税务局 {$url} 在 {$secs} 秒内没有回答 {$path}
bureau-client-refused = 税务局拒绝 {$path}：{$message} [{$code}, {$rule}]
bureau-client-http = {$url} 的服务器对 {$path} 回答 HTTP {$status}，不是税务局的错误：{$snippet}
bureau-client-needs-office = 税务局拒绝 {$path}：这是税务机关的操作，本软件没有该税务局的管理员令牌（taxdisk：--bureau-admin-token-file 文件）[{$code}, {$rule}]
bureau-client-bad-answer = 无法读取税务局对 {$path} 的回答：{$reason}

## host::workflow::ClearCardFailure：FAQ 9.10 每个原因各有一条（H12）
clear-no-server = 由于没有设置安全接入服务器地址造成，请设置地址并测试成功(H12)
clear-network = 由于网络异常造成，请检查网络连接是否正常(H12)：{$error}
clear-not-declared = 由于本月没有申报或申报数据错误，请将数据修改正确，重新申报后再清卡(H12)：所属期 {$period} 在税务局没有申报；若刚申报，可能由于网络有延迟，申报数据没能马上进征管系统，需要等待或排队清卡（FAQ 9.10(4)）
clear-not-reported = 所属期 {$period} 尚未上报汇总：请先上报汇总(H12)
clear-upload-incomplete = 所属期 {$period} 的发票没有全部报送：请上传后再清卡(H11)
clear-not-finished = 所属期 {$period} 尚未结束，下月才能清卡(H12)
clear-data-mismatch = 由于本月没有申报或申报数据错误，请将数据修改正确，重新申报后再清卡(H12)：所属期 {$period} 的申报或汇总与发票不符：{$message}
clear-refused = 税务局拒绝清卡(H12)：{$error}
clear-disk = 金税盘拒绝清卡令牌(H12)：{$error}

## host::workflow::WorkflowError
wf-not-logged-in = {$action}被拒绝：没有用户登录；请用用户名、密码和金税盘口令登录(H2)
wf-no-bureau = {$action}需要连接税务局，但没有设置安全接入服务器地址(H1)
wf-connection-test = 初始化被拒绝：与 {$url} 的连接测试失败，未保存任何设置(H1)：{$error}
wf-void-not-permitted = 开具人与作废人必须是同一人，管理员可以作废所有人开具的发票(H9)：发票 {$id} 由其他用户开具
wf-rule = {$what}被拒绝：{$problem}({$rule})
wf-issue-unknown = 发票 {$id} 可能已签名也可能没有（{$error}）；它保持待处理状态：请执行发票修复(H8, H11)
wf-batch = 发票 {$at}：{$error}（在它之前已完成的发票：{$done}）
wf-return-before-report = 征期起始日开始，至读入征期报税成功标志期间，不能执行退回发票操作(D4)：税务局尚未收到 {$period} 的上报汇总
wf-clear-card = 清卡失败：{$error}
wf-medium = 介质文件 {$path}：{$problem}({$rule})
wf-io = 文件 {$path}：{$error}
wf-export = 发票数据导出失败(H16)：{$error}
wf-print = 打印被拒绝(H18)：{$error}

## host::store::StoreError
store-sql = 数据库错误：{$error}
store-io = 文件错误：{$error}
store-schema-too-new = 数据库的结构版本 {$found} 比本软件的 {$supported} 新
store-corrupt = 保存的数据已损坏：{$what}
store-initialization = {$what}(H1)
store-field = {$field}：{$problem}({$rule})
store-name-taken = 开票员和管理员的名字不能相同(H2)：用户名 {$name} 已被使用，开票员的名字须与管理员及其他每个用户都不同
store-category-taken = 分类名称不能重复(H5)：名称 {$name} 已被分类 {$id} 使用
store-wrong-password = 用户名或密码错误(H2)
store-permission = 没有权限：{$what}({$rule})
store-coding-disabled = 金税盘只有机动车销售统一发票和二手车销售统一发票票种授权，所以禁止维护和调用商品编码和客户编码库(H6)
store-not-found = 找不到{$what}
store-state = {$what}的状态是{$state}；{$problem}({$rule})
store-hash = 密码散列失败：{$error}

## host::invoice::InvoiceError
inv-no-lines = 发票没有商品行(H7)
inv-needs-list = 商品明细过多，超出票面行数：{$lines} 行，票面最多 {$max} 行；请利用“清单”功能开具(H7)
inv-list-not-allowed = 不允许带清单：{$reason}({$rule})
inv-vehicle-lines = {$kind}只有一行（车辆），实际有 {$found} 行(H7)
inv-quantity-price = 第 {$line} 行：数量 × 单价 = {$product}，与金额 {$amount} 相差超过 0.01(H7)
inv-line-tax = 第 {$line} 行：税额 {$tax} 与金额 × 税率 = {$expected} 相差超过 0.06(H7)
inv-total-tax = 合计税额与各行金额 × 税率之和相差 {$deviation}，超过 1.27(H7)
inv-line-problem = 第 {$line} 行：{$problem}({$rule})
inv-precision = 第 {$line} 行：{$field}超过 2 位小数(F8)
inv-overflow = {$field}过大(F8)
inv-rate = 第 {$line} 行：税率 {$rate} 不在现行税率之内{$hint}(F7)
inv-zero-rate-special = 第 {$line} 行：增值税专用发票不能开具 0 税率(H7)
inv-discount-first = 第 {$line} 行：折扣行不能在第一行(H7)
inv-discount-after = 第 {$line} 行：折扣行不能跟在另一折扣行之后(H7)
inv-discount-mismatch = 第 {$line} 行：折扣行的{$field}与被折扣行不同(H7)
inv-discount-request = 折扣：{$problem}(H7)
inv-discount-on-red = 《红字增值税专用发票信息表》不可以带折扣(H10)：第 {$line} 行是折扣行
inv-sign = 第 {$line} 行：{$field}必须为{$expected}({$rule})
inv-zero-total = 非空白作废发票，合计金额不能为零(D5)
inv-missing = 必须填写{$field}(H7)
inv-too-long = 格式错误或超过允许的最大长度(H7)：{$field}超过 {$max} 字节
inv-control = {$field}：第 {$position} 个字符是控制字符（U+{$code}）；发票只能填写可打印的文字(H7)
inv-currency = 不支持美元、日元及欧元等货币，需要换算成人民币开具(H7)：{$found}
inv-text = 格式错误或超过允许的最大长度(H7)：{$field}第 {$position} 个字符 {$found} 不允许；请切换输入法，切换到半角或者默认选择英文状态
inv-format = {$error}
inv-kind-fields = {$problem}(H7)
inv-red-ref = {$problem}(H10)

## 登录时未能自动完成的步骤（LoginReport.notes）。
note-online-update = 网上变更：{$error}
note-upload = 发票上传：{$error}
note-report-postponed = 上报汇总推迟：{$error}
note-offline = 上报汇总推迟：无法连接税务局；已抄税，可继续开票(H12)
note-no-bureau = 没有设置安全接入服务器地址：未上报汇总；请使用办税厅抄报(H12)
note-receipt = 金税盘未读入税务局对 {$period} 的报税成功标志：{$error}
note-report-refused = {$period} 的上报汇总被拒绝：{$error}

## 开票软件自己表述的问题（WorkflowError::Rule）。
void-not-current = 必须为当月开具且未抄税：当月为 {$current}，这张发票属于 {$period}
red-form-used = 一张信息表只能对应开具一张红字发票，不能重复使用：信息表 {$number} 已使用
red-form-not-approved = 信息表 {$number} 的状态为 {$state}，尚未审核通过

## 应答丢失的操作，登录时再次发送（host::workflow::intents；D4、D7、D11）。
intent-blank-void = 空白作废 {$count} 份{$kind}
intent-return-roll = 退回{$kind}发票卷 {$code}（自 {$first} 起）
intent-return-oil = 退回成品油类别 {$category} 库存 {$quantity}（千分之一单位）
intent-blank-voided = 发票卷 {$code} 号码 {$first}-{$last} 已空白作废(D7)
intent-oil-returned = 税务局已接收金税盘的退回回执(D11)
intent-answer-lost = 金税盘的应答丢失（{$error}）；尚不知是否已完成：下一条命令登录后以同一请求号再次发送，保证只做一次
note-intent-done = 应答丢失前开始的{$what}已完成，且只做一次：{$done}
note-intent-unknown = 应答丢失前开始的{$what}结果仍未知（{$error}）；下次登录时将再次发送
note-intent-not-done = 应答丢失前开始的{$what}未完成：{$error}
note-intents-failed = 此前开始的操作：{$error}

## 发票卷退回（host::workflow::RollReturn::lines；D4、FAQ 4.20）。
out-roll-returned = 已退回{$kind}发票卷 {$code}，号码 {$first}-{$last}（空白 {$count} 份），时间 {$time}；回执由金税盘 {$serial} 签名(D4)
out-receipt-accepted = 税务局已接收退回回执（FAQ 4.20）
out-receipt-not-received-why = 税务局尚未收到退回回执：{$why}；请到税务局发票窗口办理（FAQ 4.20）
out-receipt-not-received = 税务局尚未收到退回回执；请到税务局发票窗口办理（FAQ 4.20）

## 变更的每一项（host::l10n::update_change；D10、H17）。
update-limits = {$kind}：单张发票开票限额 {$single}，离线开票时限 {$hours} 小时，离线开票总金额 {$amount}
update-authorized = {$kind}：已授权
update-withdrawn = {$kind}：已取消授权
update-oil = 成品油：{$role}
update-oil-until = 成品油：{$role}，有效期至 {$until}
update-used-car = 二手车：{$role}
update-company-name = 企业名称：{$name}
update-taxpayer-id = 纳税人识别号：{$id}

## 与金税盘的链路（TransportError）。
transport-timeout = 金税盘在 {$ms} 毫秒内无应答
transport-disconnected = 金税盘已断开：{$reason}
transport-bad-frame = 金税盘发来坏帧：{$error}
transport-oversize = {$bytes} 字节的帧超过最大帧长（{$max} 字节）
transport-io = {$context}：{$error}
transport-usb = USB：{$error}
transport-no-disk-resolve-why = {$a} 处没有金税盘：地址无法解析（{$b}）
transport-no-disk-resolve = {$a} 处没有金税盘：地址无法解析
transport-no-disk-tcp = tcp {$a} 处没有金税盘（{$b}）；`taxdisk-sim serve` 是否在运行？
transport-no-disk-usb = USB 上没有 {$a} 的金税盘；已连接：{$b}
transport-no-usb = USB 上找不到金税盘（VID {$a} PID {$b}）：本机无法使用 USB（libusb：{$c}）
transport-no-disk-plugged = USB 上找不到金税盘（VID {$a} PID {$b}）；是否已插好？

## host::tokens::TokenError（一致性测试的令牌来源）
token-key = 税务局密钥：{$error}
token-sign = 签名{$what}失败：{$error}
token-secret = 税务局私钥：{$error}
token-unsupported = 此令牌来源不能生成{$what}

## taxdisk_protocol::sign::SignError
sign-bad-secret = SM2 私钥无效
sign-bad-public-key = SM2 公钥无效
sign-bad-signature = SM2 签名验证不通过
sign-message-too-long = 消息过长，无法签名

## 模拟器的控制通道（taxdisk_protocol::control::client）
control-io = 控制通道{$context}失败：{$error}
control-no-address = 控制端口地址 {$address} 无法解析
control-timeout = 控制通道在 {$ms} 毫秒内没有回答
control-closed = 模拟器关闭了控制连接
control-frame = 控制帧无效：{$error}
