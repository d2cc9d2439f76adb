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

## Values of taxdisk-sim's options (and taxdisk's --start-time) that do not parse.
sim-args-no-bureau = give --bureau-key HEX or --bureau ADDR
sim-args-snapshot-name = snapshot name `{$name}` is longer than 32 bytes
sim-args-time-too-large = `{$value}`: too many seconds
sim-args-time = `{$value}` is neither unix seconds nor RFC 3339 (e.g. 2026-11-26T09:00:00+08:00)
sim-args-time-range = `{$value}`: the simulated clock runs from 2000-01-01 to 9998-12-31 (China time)
sim-args-not-hex = `{$value}` is not hex
sim-args-not-sm2-key = not an SM2 public key ({$bytes} bytes; expected SEC1: 65 starting 04, or 33 starting 02/03)
sim-args-not-uncompressed = not an uncompressed point
sim-args-size = `{$value}`: expected a size like 4M or 1048576
sim-args-size-suffix = `{$value}`: unknown size suffix
sim-args-too-large = `{$value}`: too large
sim-args-duration = `{$value}`: expected seconds or e.g. 90m, 2h, 31d
sim-args-duration-unit = `{$value}`: unknown unit (s, m, h, d)
sim-args-too-long = `{$value}`: too long
sim-args-fault-action = `{$value}`: expected drop-answer, drop-request, corrupt-answer, duplicate-answer, delay:MS or late-answer
sim-error-in = {$what}: {$error}
sim-signals = signal handlers
sim-admin-token = administrator token

## The example session after `taxdisk-sim serve --help`.
sim-help-serve-after =
    Example session (one shell serving, one for the host, one for the bench):

      $ taxdisk-sim serve --image bench.img --bureau 127.0.0.1:7463 --bureau-db bureau.db \
            --serial 661234567890 --seed 1 --clock manual --start-time 2026-11-26T09:00:00+08:00
      (the host connects to tcp:127.0.0.1:7461 and the bureau API at http://127.0.0.1:7463)
      $ taxdisk-sim control advance 2h            # "Ok": the disk clock moves 2 hours
      $ taxdisk-sim control clock                 # {"{"}"Clock":1795662000{"}"}
      $ taxdisk-sim control snapshot before-issue # a copy of the flash, in memory
      $ taxdisk-sim control fault 1 drop-answer   # the next disk frame is handled, its answer lost
      $ taxdisk-sim control power-cut-after 3     # the 3rd flash write from now tears; no answer
      $ taxdisk-sim control power-cycle           # the host must log in again (NotLoggedIn)
      $ taxdisk-sim control restore before-issue  # back to the snapshot, power-cycled
      $ taxdisk-sim control stats                 # {"{"}"Stats":{"{"}"flash_reads":..,"frames":..{"}"}{"}"}
      $ kill -TERM <pid>                          # image synced, exit 0; serve again to continue

    For tests and benches, bind port 0 and read the ports from the one JSON line of
    --print-ports:

      $ taxdisk-sim serve --listen 127.0.0.1:0 --control 127.0.0.1:0 --bureau-key 04ab... --print-ports
    {"  {\"disk\":\"127.0.0.1:40211\",\"control\":\"127.0.0.1:40212\",\"bureau\":null,\"bureau_key\":\"04ab...\",\"usbip\":null,"}
       "disks":[{"{"}"serial":"661000000001","disk":"127.0.0.1:40211","control":"127.0.0.1:40212","bus_id":null{"}"}]{"}"}

    Logs go to stderr (RUST_LOG=debug shows every connection and bad frame).

## Each option's help (PREFIX-arg-<id> for the root's, PREFIX-<path>-arg-<id> for a subcommand's); the English is the doc comment's first paragraph, as clap shows it (a test compares them).
sim-help-serve-arg-listen = Address of the disk-protocol port (port 0: any free port, see --print-ports).
sim-help-serve-arg-control = Address of the control port (port 0: any free port).
sim-help-serve-arg-image = Flash image file: reopened if it exists (at its own size, whatever --flash-size says), else created blank (a factory-state disk). Without it the flash lives in memory and is lost at exit. Give it several times to serve several disks, one per image: disk i (from 0) has serial --serial + i, seed --seed + i, ports --listen + i and --control + i (port 0: a free port each) and USB/IP bus id 1-(i+1).
sim-help-serve-arg-serial = Device serial (金税盘编号, 12 digits). Tokens must name it.
sim-help-serve-arg-seed = Seed of the disk's RNG (its key pair at provisioning): the same seed and clock script give the same bytes.
sim-help-serve-arg-start_time = Disk clock at start: RFC 3339 (2026-11-26T09:00:00+08:00, ...Z) or unix seconds. Default: now. On a restart from an image give a time no earlier than the newest invoice, or the disk refuses to issue (D3 ClockError).
sim-help-serve-arg-clock = `free`: the clock runs with real time; `manual`: it moves only by control requests.
sim-help-serve-arg-latency = Turn on the real-disk latency model (each answer takes as long as on a USB disk with a secure element: ~120 ms to issue, 800 ms to provision). Can be switched by Latency(bool).
sim-help-serve-arg-flash_size = Flash size (K, M suffixes, powers of two from 64K to 256M).
sim-help-serve-arg-bureau_key = The bureau public key the disk is manufactured with, SEC1 hex (uncompressed 04.. or compressed 02../03..), as `taxdisk-sim bureau --print-ports` prints it.
sim-help-serve-arg-bureau = Also serve the simulated bureau's HTTP API on ADDR, and manufacture the disk with its key.
sim-help-serve-arg-bureau_db = The bureau's SQLite state file (with --bureau; created if missing, in memory if absent), or a `postgres://` URL.
sim-help-serve-arg-bureau_seed = Seed of the bureau key when its state is first created (with --bureau).
sim-help-serve-arg-admin_token_file = The bureau's administrator (tax office) token, in a file: read if the file exists, else made at random and written there (0600). Without it a new token is printed on stderr at start. Taxpayer software never needs it; registration and provisioning do.
sim-help-serve-arg-usbip = Also export the disks as USB devices over USB/IP on ADDR (default 127.0.0.1:3240 when the flag has no value): bus id 1-1 (1-2, ... for more --image), VID 1209 PID 0001, the same frames as the disk port. A bench attaches one with `usbip attach -r HOST -b 1-1`.
sim-help-serve-arg-print_ports = Print the bound addresses and the bureau key as one JSON line on stdout once serving: {"{"}"disk":ADDR,"control":ADDR,"bureau":URL|null,"bureau_key":HEX,"usbip":ADDR|null, "disks":[{"{"}"serial":DIGITS,"disk":ADDR,"control":ADDR,"bus_id":"1-1"|null{"}"},...]{"}"} (disk and control: disk 0's).
sim-help-bureau-arg-listen = Address of the HTTP API (port 0: any free port, see --print-ports).
sim-help-bureau-arg-db = SQLite state file (created if missing), or a `postgres://USER:PASS@HOST:PORT/DB` URL; in memory if absent.
sim-help-bureau-arg-seed = Seed of the bureau key when the state is first created.
sim-help-bureau-arg-admin_token_file = The administrator (tax office) token, in a file: read if the file exists, else made at random and written there (0600). Without it a new token is printed on stderr at start.
sim-help-bureau-arg-print_ports = Print {"{"}"bureau":URL,"bureau_key":HEX{"}"} as one JSON line on stdout once serving.
sim-help-control-arg-addr = Address of the simulator's control port.
sim-help-control-set-clock-arg-time = The new time.
sim-help-control-advance-arg-by = How far.
sim-help-control-run-free-arg-on = on or off.
sim-help-control-power-cut-after-arg-n = Which operation, from 1.
sim-help-control-fault-arg-action = drop-answer, drop-request, corrupt-answer, duplicate-answer, delay:MS or late-answer.
sim-help-control-fault-arg-nth = Which frame, from 1.
sim-help-control-snapshot-arg-name = Up to 32 bytes.
sim-help-control-restore-arg-name = A name given to snapshot.
sim-help-control-drop-snapshot-arg-name = A name given to snapshot.
sim-help-control-latency-arg-on = on or off.

# The long help of each command (`--help`), where it has one.
sim-help-root-long =
    Simulated tax-control disk (金税盘) and tax bureau for hardware-in-the-loop benches and tests. Start with `taxdisk-sim serve --help`: the two ports, the control messages and an example session.
sim-help-serve-long =
    Serve simulated tax disks over TCP (and USB/IP) for hardware-in-the-loop benches: one disk,
    or one per --image when it is given several times (see Several disks below).

    Two ports are opened for each disk:

      disk port (--listen, default 127.0.0.1:7461)
          The disk protocol exactly as on USB: COBS-encoded frames (header, postcard payload,
          CRC-32, ended by one 0x00 byte), frame type 0 (request) answered by frame type 1.
          Several connections may be open; frames are handled one at a time and the disk's own
          session rule (D14) keeps a second host session out while one is logged in. Frames reach
          the disk as sent: a frame that fails its checks gets no answer, one of another protocol
          version is answered UnsupportedVersion, as from a real disk.

      control port (--control, default 127.0.0.1:7462)
          The simulator's control channel (taxdisk_protocol::control): the same framing with frame
          type 2 (ControlRequest) answered by type 3 (ControlResponse), command id 0, payload the
          postcard encoding of the message. Requests:
            GetClock                 read the disk clock
            SetClock(t)              set the clock (bench control, not the D3 token path)
            Advance(secs)            move the clock forward
            RunFree(bool)            clock follows real time (true) or moves only when told
            PowerCycle               power off and on: login and RAM state lost, flash kept
            Plug(bool)               unplug (no answers at all) / plug in (boots from flash)
            PowerCutAfter(n)         cut the power during the nth flash program/erase from now
            FrameFault{"{"}nth, action{"}"}  the nth disk frame from now: DropAnswer, DropRequest,
                                     CorruptAnswer, DuplicateAnswer, DelayAnswer(ms) or
                                     LateAnswer (held back, sent in front of the next answer)
            ClearFaults              disarm every fault
            Snapshot(name)           keep a copy of the flash image in memory (8 at most)
            DropSnapshot(name)       forget a snapshot
            Restore(name)            put a snapshot back, then power-cycle
            Latency(bool)            real-disk latency model on/off
            Stats                    flash and frame counters
          `taxdisk-sim control` sends them from a shell.

      USB/IP port (--usbip [ADDR], default 127.0.0.1:3240; off without the flag)
          The same disk as a USB device over USB/IP, bus id 1-1: VID 1209 PID 0001, the device
          serial as serial string, one vendor-specific interface (ff/54/01) with bulk OUT 0x01 and
          IN 0x81 (high speed, 512-byte packets) carrying the disk port's frames (same disk, same
          sessions, same faults). `usbip list -r HOST` lists it, `usbip attach -r HOST -b 1-1`
          plugs it into a Linux PC (vhci-hcd). Unplug/Plug on the control port take it away and
          bring it back; PowerCycle reboots the disk behind its attachment (login lost, the
          attachment kept). One port serves every disk, each under its own bus id.

    Several disks: give --image once per disk (--image a.img --image b.img). Disk i (from 0) has
    serial --serial + i, seed --seed + i, bus id 1-(i+1), and its own disk and control ports: with
    port 0 each gets a free port; otherwise disk i is on --listen + i and --control + i, and ranges
    that overlap are refused (the default 7461/7462 are one apart: give e.g. --control
    127.0.0.1:7471). Each image is locked by this process and synced at exit. The bureau of
    --bureau is shared: every disk is manufactured with its key. --print-ports lists every disk.

    The flash lives in --image (created if missing, reopened next time: the disk keeps its
    identity, rolls and invoices across restarts). Every flash write is written through to the
    file before the disk answers; SIGINT or SIGTERM stops the server after the frame in progress,
    syncs the image to stable storage and exits 0.

    The disk verifies bureau tokens with the key it is manufactured with: give it with
    --bureau-key, or start the simulated bureau in this process with --bureau ADDR and the disk
    uses that bureau's key.
sim-help-bureau-long =
    Run only the simulated tax bureau (局端): its HTTP JSON API on --listen, its state in the SQLite file --db (created if missing; without --db the state lives in memory and is lost at exit), or in the PostgreSQL database of a --db postgres://USER:PASS@HOST:PORT/DB URL, which several bureau processes (on several machines) may share: each is the same bureau. The bureau's SM2 key is made at the first open of the state (from --seed if given) and kept in it; --print-ports prints the URL and the key, to pass to `taxdisk-sim serve --bureau-key`. SIGINT/SIGTERM stop it after the requests in flight.
sim-help-control-long =
    Send one control request to the control port of a running `taxdisk-sim serve` and print the answer as one JSON line ({"{"}"Clock":<unix secs>{"}"}, {"{"}"Stats":{"{"}...{"}"}{"}"}, "Ok"). Exits 1 if the simulator answers Error or cannot be reached.

## `serve --bureau` / `bureau` without --admin-token-file: the token said once on stderr
sim-new-admin-token = bureau administrator token (tax office steps): {$token}
sim-new-admin-token-hint = (give --admin-token-file FILE to keep it in a private file instead)

## Log lines (tracing): the message of each; the fields after it stay as they are
log-usbip-answer-dropped = host reads no answers; answer dropped
log-usbip-exporting = exporting over USB/IP
log-accept-failed = accept failed
log-too-many-connections = too many connections; closing this one
log-cannot-clone-socket = cannot clone the socket; closing it
log-usbip-closing = closing a USB/IP connection
log-usbip-off-bus = USB/IP: disk off the bus
log-usbip-on-bus = USB/IP: disk on the bus
log-control = control
log-port-full = port full: closing its oldest connection
log-cannot-start-thread = cannot start a connection thread
log-cannot-clone-stream = cannot clone the stream
log-oversize-closed = connection closed after oversize frames
log-connection-panicked = a connection panicked while handling a frame; power-cycling the disk
log-serving = serving
log-listener-panicked = a listener thread panicked
log-shutdown = shutdown
log-server-shutdown = server shutdown
log-bureau-failure = bureau failure
log-bureau-thread-panicked = bureau server thread panicked
log-bureau-listener = bureau listener
log-bureau-stopped = bureau server stopped
log-stopping = stopping
log-stopped = stopped; flash image synced
log-bureau-serving = bureau serving
log-schema-migrated = schema migrated
log-wal-restart-failed = restarting the WAL failed
log-deferred-fold-failed = folding the issuing journal into the database failed; it stays journaled and is tried again
log-deferred-rows-there = some pending rows of the issuing journal were in the database already and were left as they were
log-deferred-record-refused = the database refused a signed record of the issuing journal; its invoice stays pending for repair (H11)
log-deferred-one-by-one = the database refused a fold of the issuing journal as a whole; folding its entries one by one
log-deferred-recovered = folded in an issuing journal left by a process that ended before folding it
log-deferred-remove-failed = removing the folded issuing journal failed
log-wal-checkpoint-failed = background WAL checkpoint failed
log-credential-unreadable = bureau credential not readable from the store
log-disk-state = disk state {$from} -> {$to}
