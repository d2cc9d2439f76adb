## taxdisk-sim：错误和 --help（sim-help-<路径>）。

sim-error = taxdisk-sim：错误：{$error}
sim-control-refused = 模拟器拒绝：{$message}
sim-help-root = 供测试台和测试使用的模拟金税盘和模拟税务局
sim-help-arg-lang = 消息的语言：zh-CN 或 en。默认按区域设置（LC_ALL、LC_MESSAGES、LANG）：以 zh 开头为中文，其余为英文。
sim-help-serve = 在 TCP 上提供模拟金税盘（每个盘一个金税盘端口 + 控制端口），可选通过 USB/IP 提供，并可同时运行税务局。
sim-help-bureau = 只运行模拟税务局（局端）的 HTTP JSON 接口。
sim-help-control = 向运行中的 `taxdisk-sim serve` 发送一个控制请求，并以 JSON 输出回答。
sim-help-control-clock = 读取金税盘时钟（GetClock）。
sim-help-control-set-clock = 设置金税盘时钟（SetClock）：RFC 3339 或 Unix 秒数。
sim-help-control-advance = 拨快金税盘时钟（Advance）：秒数，或带 s/m/h/d 后缀（90m、2h、31d）。
sim-help-control-run-free = 时钟随真实时间走（on）或只随控制请求走（off）（RunFree）。
sim-help-control-power-cycle = 断电再上电：登录丢失，闪存保留（PowerCycle）。
sim-help-control-plug = 插入金税盘（Plug(true)）；它从闪存启动。
sim-help-control-unplug = 拔出金税盘（Plug(false)）：任何帧都得不到回答。
sim-help-control-power-cut-after = 在从现在起第 N 次闪存写入/擦除时断电，1 为下一次（PowerCutAfter）。
sim-help-control-fault = 使从现在起第 N 个金税盘帧出错，1 为下一个（FrameFault）。
sim-help-control-clear-faults = 撤销所有故障（ClearFaults）。
sim-help-control-snapshot = 以 NAME 保存闪存映像的副本（Snapshot）。
sim-help-control-restore = 恢复快照 NAME 并断电重启（Restore）。
sim-help-control-drop-snapshot = 删除快照 NAME 并释放内存（DropSnapshot）。
sim-help-control-latency = 打开或关闭真实金税盘延迟模型（Latency）。
sim-help-control-stats = 闪存和帧计数（Stats）。

## taxdisk-sim 选项（以及 taxdisk 的 --start-time）的值无法解析。
sim-args-no-bureau = 请给出 --bureau-key HEX 或 --bureau ADDR
sim-args-snapshot-name = 快照名 `{$name}` 超过 32 字节
sim-args-time-too-large = `{$value}`：秒数过大
sim-args-time = `{$value}` 既不是 unix 秒数，也不是 RFC 3339 时间（例如 2026-11-26T09:00:00+08:00）
sim-args-time-range = `{$value}`：模拟时钟的范围是 2000-01-01 至 9998-12-31（北京时间）
sim-args-not-hex = `{$value}` 不是十六进制
sim-args-not-sm2-key = 不是 SM2 公钥（{$bytes} 字节；应为 SEC1 格式：65 字节以 04 开头，或 33 字节以 02/03 开头）
sim-args-not-uncompressed = 不是非压缩点
sim-args-size = `{$value}`：应为大小，例如 4M 或 1048576
sim-args-size-suffix = `{$value}`：未知的大小单位
sim-args-too-large = `{$value}`：过大
sim-args-duration = `{$value}`：应为秒数，或例如 90m、2h、31d
sim-args-duration-unit = `{$value}`：未知的时间单位（s、m、h、d）
sim-args-too-long = `{$value}`：过长
sim-args-fault-action = `{$value}`：应为 drop-answer、drop-request、corrupt-answer、duplicate-answer、delay:MS 或 late-answer
sim-error-in = {$what}：{$error}
sim-signals = 信号处理
sim-admin-token = 管理员令牌

## `taxdisk-sim serve --help` 末尾的示例会话。
sim-help-serve-after =
    示例会话（一个 shell 提供服务，一个运行主机端，一个运行测试台）：

      $ taxdisk-sim serve --image bench.img --bureau 127.0.0.1:7463 --bureau-db bureau.db \
            --serial 661234567890 --seed 1 --clock manual --start-time 2026-11-26T09:00:00+08:00
      （主机连接 tcp:127.0.0.1:7461，税务局 API 在 http://127.0.0.1:7463）
      $ taxdisk-sim control advance 2h            # "Ok"：金税盘时钟前进 2 小时
      $ taxdisk-sim control clock                 # {"{"}"Clock":1795662000{"}"}
      $ taxdisk-sim control snapshot before-issue # 闪存的副本，保存在内存中
      $ taxdisk-sim control fault 1 drop-answer   # 下一帧照常处理，但应答丢失
      $ taxdisk-sim control power-cut-after 3     # 从现在起第 3 次闪存写入时断电；没有应答
      $ taxdisk-sim control power-cycle           # 主机须重新登录（NotLoggedIn）
      $ taxdisk-sim control restore before-issue  # 回到快照，并重新上电
      $ taxdisk-sim control stats                 # {"{"}"Stats":{"{"}"flash_reads":..,"frames":..{"}"}{"}"}
      $ kill -TERM <pid>                          # 镜像已同步，退出码 0；再次 serve 即可继续

    测试和测试台可绑定端口 0，从 --print-ports 输出的那一行 JSON 读取端口：

      $ taxdisk-sim serve --listen 127.0.0.1:0 --control 127.0.0.1:0 --bureau-key 04ab... --print-ports
    {"  {\"disk\":\"127.0.0.1:40211\",\"control\":\"127.0.0.1:40212\",\"bureau\":null,\"bureau_key\":\"04ab...\",\"usbip\":null,"}
       "disks":[{"{"}"serial":"661000000001","disk":"127.0.0.1:40211","control":"127.0.0.1:40212","bus_id":null{"}"}]{"}"}

    日志写到标准错误（RUST_LOG=debug 显示每个连接和每个坏帧）。

## 每个选项的说明（根命令的为 PREFIX-arg-<id>，子命令的为 PREFIX-<path>-arg-<id>）。
sim-help-serve-arg-listen = 金税盘协议端口的地址（端口 0：任一空闲端口，见 --print-ports）。
sim-help-serve-arg-control = 控制端口的地址（端口 0：任一空闲端口）。
sim-help-serve-arg-image = 闪存镜像文件：存在则重新打开（按其自身大小，不论 --flash-size），否则新建空白镜像（出厂状态的金税盘）。不给出时闪存在内存中，退出即丢失。多次给出可提供多个金税盘，每个镜像一个：第 i 个（从 0 起）的编号为 --serial + i、种子为 --seed + i、端口为 --listen + i 和 --control + i（端口 0：各取空闲端口）、USB/IP 总线号为 1-(i+1)。
sim-help-serve-arg-serial = 金税盘编号（12 位）。令牌必须写明此编号。
sim-help-serve-arg-seed = 金税盘随机数发生器的种子（发行时的密钥对）：相同的种子和时钟脚本产生相同的字节。
sim-help-serve-arg-start_time = 启动时的金税盘时钟：RFC 3339（2026-11-26T09:00:00+08:00、...Z）或 unix 秒数。默认：当前时间。从镜像重启时给出的时间不得早于最新一张发票，否则金税盘拒绝开具（D3 ClockError）。
sim-help-serve-arg-clock = `free`：时钟随真实时间走；`manual`：只随控制请求移动。
sim-help-serve-arg-latency = 打开真实金税盘的延迟模型（每个应答耗时与带安全芯片的 USB 金税盘相同：开具约 120 毫秒，发行 800 毫秒）。可用 Latency(bool) 切换。
sim-help-serve-arg-flash_size = 闪存大小（后缀 K、M，从 64K 到 256M 的 2 的幂）。
sim-help-serve-arg-bureau_key = 金税盘出厂时对应的税务局公钥，SEC1 十六进制（非压缩 04.. 或压缩 02../03..），即 `taxdisk-sim bureau --print-ports` 输出的值。
sim-help-serve-arg-bureau = 同时在 ADDR 上提供模拟税务局的 HTTP API，并用其密钥生产金税盘。
sim-help-serve-arg-bureau_db = 税务局的 SQLite 状态文件（与 --bureau 同用；不存在则创建，不给出则在内存中），或 `postgres://` URL。
sim-help-serve-arg-bureau_seed = 首次创建税务局状态时税务局密钥的种子（与 --bureau 同用）。
sim-help-serve-arg-admin_token_file = 存放税务局管理员（税务机关）令牌的文件：文件存在则读取，否则随机生成并写入（0600）。不给出时启动时在标准错误输出新令牌。纳税人软件不需要它；登记和发行需要。
sim-help-serve-arg-usbip = 同时在 ADDR 上通过 USB/IP 把金税盘导出为 USB 设备（选项无值时默认 127.0.0.1:3240）：总线号 1-1（更多 --image 时为 1-2 等），VID 1209 PID 0001，与金税盘端口相同的帧。测试台用 `usbip attach -r HOST -b 1-1` 挂载。
sim-help-serve-arg-print_ports = 开始服务后在标准输出以一行 JSON 输出绑定的地址和税务局公钥：{"{"}"disk":ADDR,"control":ADDR,"bureau":URL|null,"bureau_key":HEX,"usbip":ADDR|null, "disks":[{"{"}"serial":DIGITS,"disk":ADDR,"control":ADDR,"bus_id":"1-1"|null{"}"},...]{"}"}（disk 和 control 为第 0 个金税盘的）。
sim-help-bureau-arg-listen = HTTP API 的地址（端口 0：任一空闲端口，见 --print-ports）。
sim-help-bureau-arg-db = SQLite 状态文件（不存在则创建），或 `postgres://USER:PASS@HOST:PORT/DB` URL；不给出则在内存中。
sim-help-bureau-arg-seed = 首次创建状态时税务局密钥的种子。
sim-help-bureau-arg-admin_token_file = 存放管理员（税务机关）令牌的文件：文件存在则读取，否则随机生成并写入（0600）。不给出时启动时在标准错误输出新令牌。
sim-help-bureau-arg-print_ports = 开始服务后在标准输出以一行 JSON 输出 {"{"}"bureau":URL,"bureau_key":HEX{"}"}。
sim-help-control-arg-addr = 模拟器控制端口的地址。
sim-help-control-set-clock-arg-time = 新的时间。
sim-help-control-advance-arg-by = 前进多少。
sim-help-control-run-free-arg-on = on 或 off。
sim-help-control-power-cut-after-arg-n = 第几次操作，从 1 起。
sim-help-control-fault-arg-action = drop-answer、drop-request、corrupt-answer、duplicate-answer、delay:MS 或 late-answer。
sim-help-control-fault-arg-nth = 第几帧，从 1 起。
sim-help-control-snapshot-arg-name = 最多 32 字节。
sim-help-control-restore-arg-name = 快照的名称。
sim-help-control-drop-snapshot-arg-name = 快照的名称。
sim-help-control-latency-arg-on = on 或 off。

# The long help of each command (`--help`), where it has one.
sim-help-root-long =
    供硬件在环测试台和测试使用的模拟金税盘和模拟税务局。请从 `taxdisk-sim serve --help` 看起：两个端口、控制消息和一段示例会话。
sim-help-serve-long =
    为硬件在环测试台在 TCP（及 USB/IP）上提供模拟金税盘：一个金税盘，或多次给出 --image 时每个镜像一个（见下文“多个金税盘”）。

    每个金税盘打开两个端口：

      金税盘端口（--listen，默认 127.0.0.1:7461）
          与 USB 上完全相同的金税盘协议：COBS 编码的帧（帧头、postcard 载荷、CRC-32，以一个
          0x00 字节结束），帧类型 0（请求）由帧类型 1 应答。可同时打开多个连接；帧逐个处理，
          金税盘自身的会话规则（D14）在一个主机会话登录期间拒绝第二个会话。帧按发送的原样到达
          金税盘：校验失败的帧没有应答，其他协议版本的帧应答 UnsupportedVersion，与真实金税盘相同。

      控制端口（--control，默认 127.0.0.1:7462）
          模拟器的控制通道（taxdisk_protocol::control）：相同的分帧，帧类型 2（ControlRequest）
          由类型 3（ControlResponse）应答，命令号 0，载荷为消息的 postcard 编码。请求：
            GetClock                 读取金税盘时钟
            SetClock(t)              设置时钟（测试台控制，不走 D3 令牌流程）
            Advance(secs)            时钟前进
            RunFree(bool)            时钟随真实时间走（true），或只在被告知时移动
            PowerCycle               断电再上电：登录和内存状态丢失，闪存保留
            Plug(bool)               拔出（完全不应答）/ 插入（从闪存启动）
            PowerCutAfter(n)         从现在起第 n 次闪存写入/擦除时断电
            FrameFault{"{"}nth, action{"}"}  从现在起第 nth 个金税盘帧：DropAnswer、DropRequest、
                                     CorruptAnswer、DuplicateAnswer、DelayAnswer(ms) 或
                                     LateAnswer（扣住应答，放在下一个应答之前发出）
            ClearFaults              解除所有故障
            Snapshot(name)           在内存中保存闪存镜像的副本（最多 8 个）
            DropSnapshot(name)       删除一个快照
            Restore(name)            恢复一个快照，然后断电重启
            Latency(bool)            真实金税盘延迟模型开/关
            Stats                    闪存和帧计数
          `taxdisk-sim control` 可从命令行发送这些请求。

      USB/IP 端口（--usbip [ADDR]，默认 127.0.0.1:3240；不给该选项则关闭）
          通过 USB/IP 把同一个金税盘作为 USB 设备提供，总线号 1-1：VID 1209 PID 0001，金税盘
          编号作为序列号字符串，一个厂商自定义接口（ff/54/01），批量 OUT 0x01 和 IN 0x81（高速，
          512 字节包）承载金税盘端口的帧（同一个金税盘、同样的会话、同样的故障）。
          `usbip list -r HOST` 可列出它，`usbip attach -r HOST -b 1-1` 把它插入一台 Linux 电脑
          （vhci-hcd）。控制端口的 Unplug/Plug 把它拔走和插回；PowerCycle 在保持连接的情况下
          重启其后的金税盘（登录丢失，连接保留）。一个端口提供所有金税盘，各有自己的总线号。

    多个金税盘：每个金税盘给一次 --image（--image a.img --image b.img）。第 i 个金税盘（从 0 起）
    的编号为 --serial + i、种子为 --seed + i、总线号为 1-(i+1)，并有自己的金税盘端口和控制端口：
    端口为 0 时各取一个空闲端口；否则第 i 个在 --listen + i 和 --control + i 上，范围重叠的设置
    会被拒绝（默认的 7461/7462 只差一：请给出例如 --control 127.0.0.1:7471）。每个镜像由本进程
    锁定，退出时同步。--bureau 的税务局是共用的：每个金税盘都以它的密钥制造。--print-ports
    列出每个金税盘。

    闪存保存在 --image 中（不存在则新建，下次重新打开：金税盘的身份、发票卷和发票在重启后
    仍在）。每次闪存写入都在金税盘应答之前写入文件；SIGINT 或 SIGTERM 在处理完当前帧后停止
    服务，把镜像同步到稳定存储并以 0 退出。

    金税盘用它制造时的密钥验证税务局令牌：用 --bureau-key 给出，或用 --bureau ADDR 在本进程中
    启动模拟税务局，金税盘即使用该税务局的密钥。
sim-help-bureau-long =
    只运行模拟税务局（局端）：HTTP JSON 接口在 --listen 上，状态保存在 SQLite 文件 --db 中（不存在则新建；不给 --db 时状态只在内存中，退出即丢失），或保存在 --db postgres://用户:口令@主机:端口/库 所指的 PostgreSQL 数据库中，多个税务局进程（可在多台机器上）可共用它：它们是同一个税务局。税务局的 SM2 密钥在首次打开状态时生成（给出 --seed 时由它生成）并保存在状态中；--print-ports 输出 URL 和密钥，供 `taxdisk-sim serve --bureau-key` 使用。SIGINT/SIGTERM 在处理完进行中的请求后停止。
sim-help-control-long =
    向运行中的 `taxdisk-sim serve` 的控制端口发送一个控制请求，并以一行 JSON 输出回答（{"{"}"Clock":<unix 秒数>{"}"}、{"{"}"Stats":{"{"}...{"}"}{"}"}、"Ok"）。模拟器回答 Error 或无法连接时退出码为 1。

## `serve --bureau` / `bureau` 未给出 --admin-token-file：令牌只在标准错误上显示一次
sim-new-admin-token = 税务局管理员令牌（税务机关的操作用）：{$token}
sim-new-admin-token-hint = （给出 --admin-token-file 文件 可把它保存在只有你能读的文件中）

## 日志（tracing）的消息；其后的字段原样保留
log-usbip-answer-dropped = 主机不读取回答；回答已丢弃
log-usbip-exporting = 通过 USB/IP 导出
log-accept-failed = 接受连接失败
log-too-many-connections = 连接过多；关闭此连接
log-cannot-clone-socket = 无法复制套接字；关闭它
log-usbip-closing = 关闭一个 USB/IP 连接
log-usbip-off-bus = USB/IP：金税盘已从总线拔出
log-usbip-on-bus = USB/IP：金税盘已接入总线
log-control = 控制请求
log-port-full = 端口已满：关闭最早的连接
log-cannot-start-thread = 无法启动连接线程
log-cannot-clone-stream = 无法复制数据流
log-oversize-closed = 收到超长帧后连接已关闭
log-connection-panicked = 某连接处理帧时崩溃；金税盘断电重启
log-serving = 正在服务
log-listener-panicked = 某监听线程崩溃
log-shutdown = 关闭出错
log-server-shutdown = 服务器关闭出错
log-bureau-failure = 税务局内部错误
log-bureau-thread-panicked = 税务局服务线程崩溃
log-bureau-listener = 税务局监听出错
log-bureau-stopped = 税务局服务已停止
log-stopping = 正在停止
log-stopped = 已停止；闪存映像已同步
log-bureau-serving = 税务局正在服务
log-schema-migrated = 数据库结构已升级
log-wal-restart-failed = 重新开始 WAL 失败
log-deferred-fold-failed = 将开票日志并入数据库失败；记录仍保存在日志中，稍后重试
log-deferred-rows-there = 开票日志中的部分待开具记录已在数据库中，保持原样
log-deferred-record-refused = 数据库拒绝了开票日志中的一条签名记录；该发票保持待开具状态，等待修复（H11）
log-deferred-one-by-one = 数据库拒绝整批并入开票日志；改为逐条并入
log-deferred-recovered = 已并入一个进程在结束前未并入的开票日志
log-deferred-remove-failed = 删除已并入的开票日志失败
log-wal-checkpoint-failed = 后台 WAL 检查点失败
log-credential-unreadable = 无法从数据库读取税务局凭据
log-disk-state = 金税盘状态 {$from} -> {$to}
