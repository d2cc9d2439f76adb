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
