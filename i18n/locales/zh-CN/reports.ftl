## 演示的汇总、一致性测试和性能测试报告。

demo-title = == taxdisk 演示：{$company} 一个月（{$month}）的开票 ==
demo-provisioned = 税务机关为 {$company}（{$tin}）初始发行金税盘 {$serial}
demo-initialized = 系统初始化(H1)：管理员 {$admin}，开票员 {$clerk}（全部票种）和 {$cashier}（电子发票和卷票），商品 {$products} 个，客户 {$customers} 个
demo-updates = 从税务局写入 {$changes} 项变更（成品油经销企业、二手车市场；H17），并下载汽油库存 {$litres} 升(D11)
demo-rolls = 网络读入发票(H13)：六种发票共 {$blank} 份空白发票
demo-offline = 第 {$day} 天：与税务局的网络中断；在金税盘的离线限额内继续开票(D9)
demo-back-online = 第 {$day} 天：网络恢复；手工上传发送 {$sent} 条记录，税务局确认到序号 {$through}(D12)
demo-offline-refused = 第 {$day} 天：金税盘不再允许离线开票：{$error}
demo-blank-void = 第 {$day} 天：两张污损的卷票自 {$first} 起做未开发票作废（D7，FAQ 5.2）
demo-evening-upload = 第 {$day} 天晚上：网络恢复；手工上传发送 {$sent} 条记录，税务局确认到序号 {$through}(D12)
demo-restocks = 票种不足时又网络购买 {$n} 卷发票，每卷 {$size} 份（H13；金税盘最多存 16 卷，D4）
demo-mix = 逐日开具：带折扣行 {$discount} 张（FAQ 4.7），带销货清单 {$list} 张（FAQ 4.11），收购发票 {$purchase} 张（FAQ 4.3），出口发票 {$export} 张（FAQ 4.2），成品油发票 {$oil} 张（FAQ 8.x）
demo-next-login = {$next}：本月首次登录自动抄税 {$copied} 并上报汇总 {$reported}（H12，FAQ 9.3）
demo-cleared = {$next}：已申报并对 {$month} 清卡；下次锁死日期 {$lock}(D8)
demo-col-uploaded = 已报送
demo-col-pending = 未报送
demo-col-voided = 作废
demo-col-red = 红字
demo-col-amount = 金额（元）
demo-col-tax = 税额（元）
demo-total = 合计
demo-issuing = 开具：{$n} 张发票，逐张每秒 {$rate} 张，每张都经校验、记录、金税盘签名并立即上传税务局（签名速度见 taxdisk bench）
demo-refusals = 遇到的拒绝（拒绝的规则）：
demo-none = 无
demo-files = 写出的文件：
demo-done = 用时 {$secs} 秒
demo-file-xlsx = xlsx，{$n} 张发票
demo-file-pdf = pdf，{$kind}
demo-file-pdf-list = pdf，带销货清单
demo-file-counter = 办税厅抄报介质
demo-file-db = 数据库（sqlite3）
demo-file-image = 金税盘闪存映像
demo-file-bureau = 税务局数据库

## taxdisk conformance 一致性测试表；JUnit 保持语言中立。
conf-title = 一致性测试：{$link}
conf-col-rule = 规则
conf-col-commands = 命令
conf-col-scenario = 场景
conf-col-result = 结果
conf-pass = 通过
conf-fail = 失败
conf-skip = 跳过
conf-summary = 共 {$total} 个场景：{$passed} 个通过，{$failed} 个失败，{$skipped} 个跳过
conf-junit = JUnit XML 已写入 {$path}

## taxdisk bench 性能测试。
bench-durability-full = synchronous=FULL：每次提交一次 fsync
bench-durability-normal = synchronous=NORMAL：WAL，进程崩溃后数据不丢
bench-label-durability = 数据库持久性：
bench-label-signer = 签名实现：
bench-label-raw = 纯 SM2 签名（单核）：
bench-label-one-disk = 端到端开具，1 个金税盘：
bench-label-latency = 每次调用延迟：
bench-label-farm = 端到端开具，{$jobs} 个金税盘：
bench-raw = {$rate} 次签名/秒  [调用之间共 {$n} 次签名]
bench-one-disk = {$rate} 张发票/秒  （为纯签名的 {$percent} %）  [{$n} 张发票，每次调用 {$batch} 张]
bench-latency = p50 {$p50}  p99 {$p99}
bench-farm = {$rate} 张发票/秒  （比 1 个金税盘提高 {$scaling} 倍，本机 {$cores} 核）
bench-label-farm-disk = {"  "}金税盘 {$disk}：
bench-farm-disk = {$rate} 张发票/秒  p50 {$p50}  p99 {$p99}  [{$n} 张发票]
bench-label-upload = 上传到税务局：
bench-label-farm-upload = 上传到税务局，全部金税盘：
bench-upload = {$events} 条记录，用时 {$secs} 秒：税务局每秒验签并保存 {$rate} 条
bench-farm-disk-lag = {"  "}上传滞后 {$lag}

## 故障测试报告（taxdisk faults；src/faults.rs）。不变量的细节保留英文。
faults-head = 故障测试：种子 {$seed}，{$invoices} 张发票，{$cuts} 次断电，帧故障率 {$rate} %
faults-workload = 工作量：
faults-invoices-issued = 已开发票
faults-invoices-issued-more = {"  "}（红字 {$red}，修复找回 {$found}；未签名作废 {$abandoned}）
faults-voids = 作废
faults-blank-voids = 空白作废
faults-uploads = 手工上传
faults-cleared = 已清卡所属期
faults-journal-events = 金税盘记录
faults-frames = 金税盘帧数
faults-injected = 注入的故障：
faults-power-cuts = 断电
faults-power-cuts-armed = {"  "}（预设 {$armed}）
faults-drop-request = 丢弃请求 DropRequest
faults-drop-answer = 丢弃应答 DropAnswer
faults-corrupt-answer = 损坏应答 CorruptAnswer
faults-duplicate-answer = 重复应答 DuplicateAnswer
faults-late-answer = 迟到应答
faults-frame-total = 帧故障合计
faults-recovery = 恢复：
faults-relogins = 重新登录
faults-repairs = 修复
faults-error-issue-outcome-unknown = 开具结果未知
faults-error-answer-lost = 应答丢失
faults-error-resend-refused = 重发被拒
faults-error-login-lost = 登录丢失
faults-error-stock-ran-out = 发票用完
faults-error-unexplained = 无法解释
faults-invariants = 不变量：
faults-inv-no-lost-invoice = 无丢失发票
faults-inv-no-doubled-invoice = 无重复发票
faults-inv-counters-monotonic = 序号单调递增
faults-inv-journal-intact-after-reboot = 重启后记录完好
faults-inv-store-and-disk-agree-after-repair = 修复后数据库与金税盘一致
faults-inv-blank-voids-exactly-once = 空白作废恰好一次
faults-inv-bureau-received-exactly-the-disk-s-events = 税务局收到的正是金税盘的记录
faults-inv-refusals-explained-by-the-faults = 拒绝均可由故障解释
faults-all-hold = 全部不变量成立，用时 {$secs} 秒
faults-violated = 不变量被违反，用时 {$secs} 秒
