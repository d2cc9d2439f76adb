## taxdisk-sim: its errors and --help (sim-help-<path>; the English is clap's doc comment).

sim-error = taxdisk-sim: {$error}
sim-control-refused = the simulator refused: {$message}
sim-help-root = Simulated tax-control disk (金税盘) and tax bureau for benches and tests
sim-help-arg-lang = Language of the messages: zh-CN or en. Default: the locale (LC_ALL, LC_MESSAGES, LANG) starting with zh is Chinese, anything else English.
sim-help-serve = Serve simulated disks on TCP (disk port + control port each), optionally over USB/IP and with the bureau.
sim-help-bureau = Run only the simulated tax bureau's HTTP JSON API.
sim-help-control = Send one control request to a running `taxdisk-sim serve` and print the answer as JSON.
sim-help-control-clock = Read the disk clock (GetClock).
sim-help-control-set-clock = Set the disk clock (SetClock): RFC 3339 or unix seconds.
sim-help-control-advance = Move the disk clock forward (Advance): seconds, or with s/m/h/d suffix (90m, 2h, 31d).
sim-help-control-run-free = Clock follows real time (on) or only control requests (off) (RunFree).
sim-help-control-power-cycle = Power off and on: login lost, flash kept (PowerCycle).
sim-help-control-plug = Plug the disk in (Plug(true)); it boots from its flash.
sim-help-control-unplug = Unplug the disk (Plug(false)): no frame gets an answer.
sim-help-control-power-cut-after = Cut the power during the Nth flash program/erase from now, 1 = the next (PowerCutAfter).
sim-help-control-fault = Fault the NTH disk frame from now, 1 = the next (FrameFault).
sim-help-control-clear-faults = Disarm every fault (ClearFaults).
sim-help-control-snapshot = Keep a copy of the flash image under NAME (Snapshot).
sim-help-control-restore = Put the snapshot NAME back and power-cycle (Restore).
sim-help-control-drop-snapshot = Forget the snapshot NAME and free its memory (DropSnapshot).
sim-help-control-latency = Real-disk latency model on or off (Latency).
sim-help-control-stats = Flash and frame counters (Stats).
