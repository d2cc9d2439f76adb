## 金税盘的线路错误：protocol::WireError 每个错误码一条（键 wire-<名称>）。
## FAQ 引用了真实软件提示的，逐字照录（注明 FAQ 问题号）。

# 0x0001 wire
wire-Malformed = 请求数据无法解码
# 0x0002 wire
wire-UnknownCommand = 未知命令
# 0x0003 wire
wire-UnsupportedVersion = 不支持的协议版本
# 0x0004 D14
wire-Busy = 金税盘正被其他会话使用
# 0x0005 D13
wire-StorageFault = 金税盘存储故障
# 0x0006 D13
wire-StorageFull = 金税盘记录已满：请上传发票并清卡以释放空间
# 0x0007 wire
wire-BadArgument = 参数超出范围
# 0x0100 D1
wire-NotProvisioned = 金税盘尚未初始发行
# 0x0101 D1
wire-AlreadyProvisioned = 金税盘已经初始发行
# 0x0102 D2
wire-NotLoggedIn = 未登录金税盘
# 0x0103 D2
wire-WrongPin = 金税盘口令错误
# 0x0104 D2
wire-PinBlocked = 金税盘口令已锁定：需要税务局的解锁令牌
# 0x0200 D10
wire-BadSignature = 令牌签名无效
# 0x0201 D10
wire-WrongDevice = 令牌属于另一个金税盘
# 0x0202 D10
wire-Replayed = 令牌已经使用过
# 0x0203 D12
wire-UnknownEvents = 回执中有金税盘没有的记录
# 0x0300 D3
wire-ClockError = 金税盘时钟早于最新开具的发票
# 0x0400 D4 — FAQ 4.8 的提示
wire-NoBlankNumber = 无发票信息，不能开票
# 0x0401 D4
wire-RollNotFound = 发票卷不存在
# 0x0402 D4
wire-RollOverlap = 发票卷与已读入的发票卷号段重叠
# 0x0403 D4 — FAQ 4.21(4) 原文
wire-ReturnBeforeReport = 征期起始日开始，至读入征期报税成功标志期间，不能执行退回发票操作
# 0x0404 D4
wire-TooManyRolls = 读入的发票卷过多
# 0x0405 F2
wire-BadRollCode = 发票代码与发票种类不符
# 0x0500 D5
wire-KindNotAuthorized = 金税盘没有该票种授权
# 0x0501 D5
wire-OverSingleLimit = 不含税金额超过单张发票开票限额
# 0x0502 D5 — FAQ 4.10 的提示
wire-ZeroTotal = 非空白作废发票，合计金额不能为零
# 0x0503 D8
wire-Locked = 金税盘已锁死：请抄报税并清卡
# 0x0504 D5 — FAQ 9.1 原文
wire-PeriodNotReported = 抄报税不成功则不能开具发票
# 0x0505 D9 — FAQ 4.9 的提示
wire-OfflineHoursExceeded = 有未上传的发票，不允许开票
# 0x0506 D9
wire-OfflineAmountExceeded = 离线开具累计限额已满：请上传发票
# 0x0507 D9 — FAQ 4.9 的提示
wire-UploadDeadlinePassed = 有未上传的发票，不允许开票
# 0x0508 D11
wire-OilStockShort = 成品油库存不足
# 0x0509 D6
wire-OriginalNotFound = 金税盘中没有对应的蓝字发票
# 0x050A D6
wire-OriginalVoided = 对应的蓝字发票已作废
# 0x050B D6
wire-ReversalNotAllowed = 这张红字发票不能冲红该蓝字发票
# 0x050C D6
wire-SignMismatch = 金额正负与蓝字/红字发票不符
# 0x050D D5
wire-RequestIdConflict = 请求编号已用于另一张发票
# 0x050E D11
wire-OilNotAuthorized = 没有成品油企业授权，或授权已过有效期
# 0x0600 D7
wire-InvoiceNotFound = 金税盘中没有这张发票
# 0x0601 D7 — FAQ 5.1(2) 原文
wire-NotCurrentPeriod = 必须为当月开具且未抄税
# 0x0602 D7 — FAQ 5.8 原文
wire-AlreadyReported = 已经抄税的发票不能作废，包括正数发票和负数发票
# 0x0603 D7
wire-AlreadyVoided = 该发票已作废
# 0x0604 D7
wire-VoidNotAllowed = 电子发票不能作废：请开具红字发票
# 0x0605 D7 — FAQ 8.6 原文
wire-OilSpecialNoVoid = 成品油专用发票不能作废, 只能冲红
# 0x0700 D8
wire-PeriodNotFinished = 该月尚未结束
# 0x0701 D8
wire-PeriodNotCopyable = 该月现在不能抄税
# 0x0702 D8
wire-NotCopied = 清卡前请先抄税

## 错误的显示：提示、规则编号（括号内）和错误码。
wire-line = {$message}({$rule})，错误码 {$code}

## 金税盘命令（protocol::CommandId）的名称。
command-Ping = 连通测试
command-GetInfo = 读取金税盘信息
command-Login = 登录
command-ChangePin = 修改口令
command-Logout = 退出登录
command-Provision = 初始发行
command-GetStatus = 状态查询
command-GetPublicKey = 读取公钥
command-ApplyUpdate = 参数更新
command-SetClock = 时钟设置
command-ListRolls = 发票库存查询
command-LoadRolls = 读入发票
command-ReturnRoll = 发票退回
command-VoidBlank = 未开发票作废
command-Issue = 发票开具
command-Void = 发票作废
command-ReadInvoice = 发票查询
command-LastIssued = 最近开具发票
command-ListPending = 未上传记录查询
command-AckUpload = 上传回执
command-CopyTax = 抄税
command-ClearCard = 清卡
command-OilStock = 成品油库存查询
command-LoadOilStock = 成品油库存下载
command-ReturnOilStock = 成品油库存退回
command-Unblock = 口令解锁
command-ReadEvent = 读取记录
command-ApplyReportReceipt = 读入报税成功标志

## 标识符的格式检查（F2-F7）。
format-length = {$field}：{$found} 位，应为 {$expected} 位
format-or = 或
format-character = {$field}：第 {$position} 个字符不允许
format-checksum = {$field}：校验位不符
format-month = {$field}：月份应为 01-12
format-kind-mismatch = {$field}：与发票种类不符
format-range = {$field}：超出范围
format-rate = 税率未生效(F7)
format-to = 至
