//! [`SimDisk`]: the firmware core running in-process on the emulated SPI NOR chip, with a
//! virtual clock, a seeded RNG, power control and fault injection (std).
//!
//! - Flash: [`crate::flash::chip::EmulatedChip`] behind the real driver
//!   [`crate::flash::SpiNor`], in memory or mirrored to an image file (persistent across runs).
//! - Clock: virtual, moved by [`SimDisk::advance`] / [`SimDisk::set_time`], or running free with
//!   real time ([`ControlRequest::RunFree`]). The firmware gets it with every frame.
//! - RNG: ChaCha20 seeded from [`SimConfig::seed`]; same seed and same clock script give the
//!   same bytes (signatures are deterministic).
//! - Power: [`SimDisk::power_cycle`] (RAM state lost, flash kept), unplug, and power cuts at the
//!   Nth flash program/erase ([`ControlRequest::PowerCutAfter`]): the cut leaves the operation
//!   torn, the request in flight gets no answer, and the disk boots again from the flash (as if
//!   re-plugged) before the next frame.
//! - Frame faults: the Nth frame from when armed has its request dropped, its answer dropped,
//!   corrupted (one byte), duplicated, delayed by a time or held back to the next answer, as
//!   the one injector, `taxdisk_protocol::fault`, means each.
//! - Latency model (off by default, [`SimConfig::latency`]): a real disk answers in USB time
//!   plus its secure element's work. Figures chosen (per command, added before the answer):
//!   see [`latency_ms`].

use crate::firmware::{Firmware, FirmwareConfig, FwState, Transition};
use crate::flash::SpiNor;
use crate::flash::chip::{ChipStats, EmulatedChip};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use taxdisk_protocol::control::{
    self, ControlRequest, ControlResponse, FrameFaultAction, SimStats,
};
use taxdisk_protocol::fault::FaultPlan;
use taxdisk_protocol::frame::{
    MAX_ENCODED, MAX_FRAME, decode_frame, decode_response, encode_request,
};
use taxdisk_protocol::types::{DeviceSerial, PublicKey};
use taxdisk_protocol::{
    CommandId, DecodeError, FrameHandler, Refusal, Request, Response, Timestamp, WireError,
};

/// Default flash size: 64 MiB, a W25Q512-class chip: 16,380 journal sectors = 262,080 event
/// records (D13 asks for at least 200,000).
pub const DEFAULT_FLASH_BYTES: usize = 64 << 20;

/// The `detail` of the refusal [`SimDisk::request`] returns when the disk gave no answer
/// (unplugged, power cut, dropped frame); the error is then `StorageFault`.
pub const NO_ANSWER: u32 = u32::MAX;

/// Bytes of a program or erase that take effect when [`ControlRequest::PowerCutAfter`] cuts it.
pub const CUT_BYTE: usize = 100;

/// The latest time the simulated clock is set or moved to (31 December 9998, China time):
/// every period the disk may be asked about (the next month included) stays a valid
/// `YYYYMM`, so a disk never answers bytes the host cannot decode.
pub const LATEST_TIME: Timestamp = Timestamp::cst(9998, 12, 31, 23, 59);

/// The longest answer delay a frame fault may ask for, in milliseconds.
pub const MAX_DELAY_MS: u32 = 30_000;

/// How many named snapshots a simulator keeps at once (each is a copy of the whole flash).
pub const MAX_SNAPSHOTS: usize = 8;

/// How a simulated disk is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Device serial (F6).
    pub serial: DeviceSerial,
    /// Seed of the disk's RNG (key generation).
    pub seed: u64,
    /// The bureau public key the disk is manufactured with.
    pub bureau_key: PublicKey,
    /// The virtual clock at start.
    pub start_time: Timestamp,
    /// Flash size; rounded up to a power of two, at least 64 KiB.
    pub flash_bytes: usize,
    /// Image file of the flash: opened if it exists (the disk keeps its state), else created.
    pub image: Option<PathBuf>,
    /// Whether the latency model is on.
    pub latency: bool,
    /// How long to wait for another process to release the image file (one image, one
    /// process: [`crate::flash::chip::EmulatedChip::open_waiting`]); zero fails at once.
    pub image_lock_wait: std::time::Duration,
}

impl SimConfig {
    /// A config with seed 0, [`DEFAULT_FLASH_BYTES`], no image file and no latency.
    pub fn new(serial: DeviceSerial, bureau_key: PublicKey, start_time: Timestamp) -> Self {
        SimConfig {
            serial,
            seed: 0,
            bureau_key,
            start_time,
            flash_bytes: DEFAULT_FLASH_BYTES,
            image: None,
            latency: false,
            image_lock_wait: std::time::Duration::ZERO,
        }
    }
}

/// Why a simulated disk could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The flash image file could not be opened, created or read.
    #[error("flash image {path}: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The flash size is not usable (too large).
    #[error("flash size {0} bytes is not supported (64 KiB to 256 MiB)")]
    FlashSize(usize),
}

/// The latency model's delay of a command, in milliseconds. Figures are those of a USB
/// full-speed tax disk whose secure element signs in ~100 ms (real Aisino disks issue 5-10
/// invoices per second): one USB round trip 2 ms, a read from its flash +3 ms, a PIN check
/// 50 ms, an SM2 signature 100 ms, a token verification 150 ms, key generation 800 ms.
pub fn latency_ms(id: CommandId) -> u64 {
    use CommandId::*;
    match id {
        Ping => 2,
        GetInfo | GetStatus | GetPublicKey | ListRolls | OilStock => 5,
        Login | ChangePin | Logout => 50,
        ReadInvoice | LastIssued | ListPending | ReadEvent => 10,
        Issue | Void | VoidBlank | ReturnRoll | ReturnOilStock | CopyTax => 120,
        LoadRolls | ApplyUpdate | SetClock | AckUpload | ClearCard | LoadOilStock | Unblock
        | ApplyReportReceipt => 150,
        Provision => 800,
    }
}

type Fw = Firmware<SpiNor<EmulatedChip>, ChaCha20Rng>;

/// A simulated tax disk in this process.
#[derive(Debug)]
pub struct SimDisk {
    cfg: SimConfig,
    fw: Option<Fw>,
    /// Virtual clock; when running free, the time at `since`.
    time: Timestamp,
    run_free_since: Option<Instant>,
    plugged: bool,
    /// The frame faults armed through the control channel (the one injector's plan).
    faults: FaultPlan,
    snapshots: HashMap<String, Vec<u8>>,
    latency: bool,
    frames: u64,
    power_cycles: u64,
    seq: u32,
    /// Firmware state transitions already written to the log.
    logged_transitions: u64,
    /// Tells watchers (the USB/IP export) when the disk is plugged in, unplugged or cycled.
    plug_watch: tokio::sync::watch::Sender<PlugState>,
    /// Whether a delay fault is left to the caller ([`SimDisk::defer_delays`]).
    defer_delays: bool,
    /// The delay the last answer still owes, when deferred.
    owed_delay: Duration,
    /// Told the disk's time whenever a control request moves its clock.
    clock_follower: Option<ClockFollower>,
}

/// What a transport that shows the disk on a bus follows ([`SimDisk::plug_events`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlugState {
    /// Plugged in (`ControlRequest::Plug`).
    pub plugged: bool,
    /// Power cycles so far: a change while plugged in is a power loss and a boot (the USB/IP
    /// export keeps its attachment through it; see `serve::usbip`).
    pub power_cycles: u64,
}

/// A clock that follows the disk's ([`SimDisk::follow_clock`]).
pub struct ClockFollower(Box<dyn Fn(Timestamp) + Send>);

impl std::fmt::Debug for ClockFollower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClockFollower")
    }
}

impl SimDisk {
    /// Builds a disk: opens the image file if the config names one that exists (persistent),
    /// else starts from a blank flash (factory state).
    pub fn new(cfg: SimConfig) -> Result<SimDisk, SimError> {
        let cap = cfg.flash_bytes.max(64 << 10).next_power_of_two();
        let chip =
            match &cfg.image {
                Some(path) => EmulatedChip::open_waiting(path, cap, cfg.image_lock_wait).map_err(
                    |source| SimError::Image {
                        path: path.clone(),
                        source,
                    },
                )?,
                None => EmulatedChip::new(cap).ok_or(SimError::FlashSize(cfg.flash_bytes))?,
            };
        let nor = SpiNor::new(chip).map_err(|_| SimError::FlashSize(cfg.flash_bytes))?;
        let rng = ChaCha20Rng::seed_from_u64(cfg.seed);
        let fw = Firmware::boot(
            FirmwareConfig {
                serial: cfg.serial.clone(),
                bureau_key: cfg.bureau_key,
            },
            nor,
            rng,
        );
        let mut disk = SimDisk {
            time: cfg.start_time,
            latency: cfg.latency,
            cfg,
            fw: Some(fw),
            run_free_since: None,
            plugged: true,
            faults: FaultPlan::default(),
            snapshots: HashMap::new(),
            frames: 0,
            power_cycles: 0,
            seq: 0,
            logged_transitions: 0,
            plug_watch: tokio::sync::watch::Sender::new(PlugState {
                plugged: true,
                power_cycles: 0,
            }),
            defer_delays: false,
            owed_delay: Duration::ZERO,
            clock_follower: None,
        };
        disk.log_transitions();
        Ok(disk)
    }

    fn fw(&self) -> &Fw {
        // `fw` is only None inside power_cycle, which puts it back before returning.
        self.fw
            .as_ref()
            .expect("firmware present outside power_cycle")
    }

    fn fw_mut(&mut self) -> &mut Fw {
        // See `fw`.
        self.fw
            .as_mut()
            .expect("firmware present outside power_cycle")
    }

    /// Whether the disk is plugged in (`ControlRequest::Plug`) and how often it was power-cycled,
    /// and every change of them from now on: a transport that can show the disk coming and
    /// going (USB/IP) follows it.
    pub fn plug_events(&self) -> tokio::sync::watch::Receiver<PlugState> {
        self.plug_watch.subscribe()
    }

    /// The config the disk was built with.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The virtual clock (the time given to the firmware; the disk adds its own clock offset
    /// set by clock tokens, D3).
    pub fn now(&self) -> Timestamp {
        match self.run_free_since {
            Some(since) => self.time.plus_secs(since.elapsed().as_secs()),
            None => self.time,
        }
    }

    /// Moves the virtual clock forward.
    pub fn advance(&mut self, secs: u64) {
        let now = self.now();
        self.time = now.plus_secs(secs);
        if self.run_free_since.is_some() {
            self.run_free_since = Some(Instant::now());
        }
    }

    /// Sets the virtual clock (bench control; the D3 path is a clock token).
    pub fn set_time(&mut self, t: Timestamp) {
        self.time = t;
        if self.run_free_since.is_some() {
            self.run_free_since = Some(Instant::now());
        }
    }

    /// Power off and on: login and RAM state lost, flash kept; an armed power cut is disarmed.
    pub fn power_cycle(&mut self) {
        let Some(fw) = self.fw.take() else { return };
        // The key is a pure function of the flash's secret: keep the derived one (the boot
        // below takes it only if the secret still matches).
        let key = fw.derived_key().cloned();
        let (mut nor, rng) = fw.into_parts();
        nor.spi_mut().disarm();
        nor.spi_mut().power_on();
        self.power_cycles += 1;
        let cycles = self.power_cycles;
        self.plug_watch.send_modify(|p| p.power_cycles = cycles);
        let cfg = FirmwareConfig {
            serial: self.cfg.serial.clone(),
            bureau_key: self.cfg.bureau_key,
        };
        let mut fw = Firmware::boot(cfg, nor, rng);
        if let Some(k) = key {
            fw.preload_key(k);
        }
        self.fw = Some(fw);
        self.logged_transitions = 0;
        self.log_transitions();
    }

    /// Writes the firmware's new state transitions to the `tracing` log.
    fn log_transitions(&mut self) {
        let fw = self.fw();
        let total = fw.transition_count();
        let new = total.saturating_sub(self.logged_transitions) as usize;
        let kept = fw.transitions().count();
        for t in fw.transitions().skip(kept.saturating_sub(new)) {
            tracing::info!(
                serial = %self.cfg.serial,
                at = %t.at,
                "{}",
                taxdisk_i18n::t!("log-disk-state", from = t.from, to = t.to)
            );
        }
        self.logged_transitions = total;
    }

    /// The firmware's life-cycle state.
    pub fn state(&self) -> FwState {
        self.fw().state()
    }

    /// The firmware's newest state transitions.
    pub fn transitions(&self) -> Vec<Transition> {
        self.fw().transitions().copied().collect()
    }

    /// The emulated chip's counters.
    pub fn chip_stats(&self) -> ChipStats {
        self.fw().flash().spi().stats()
    }

    /// The emulated chip (read-only: memory, counters).
    pub fn chip(&self) -> &EmulatedChip {
        self.fw().flash().spi()
    }

    /// Arms a power cut at the `nth` flash program/erase from now, after `byte` bytes of it.
    pub fn cut_power_at(&mut self, nth: u64, byte: usize) {
        self.fw_mut().flash_mut().spi_mut().cut_power_at(nth, byte);
    }

    /// Handles a request at the current clock, through encoded frames. `None` when the disk
    /// gave no answer (unplugged, power cut, dropped frame, garbled answer).
    pub fn try_request(
        &mut self,
        session: u32,
        req: &Request,
    ) -> Option<Result<Response, Refusal>> {
        self.seq = self.seq.wrapping_add(1);
        let mut frame = [0u8; MAX_ENCODED];
        let n = encode_request(self.seq, session, req, &mut frame).ok()?;
        let mut out = vec![0u8; 2 * MAX_ENCODED];
        let m = self.handle_frame(&frame[..n], &mut out);
        if m == 0 {
            return None;
        }
        let first = out[..m].iter().position(|b| *b == 0).map_or(m, |i| i + 1);
        let mut scratch = [0u8; MAX_FRAME];
        let (h, payload) = decode_frame(&out[..first], &mut scratch).ok()?;
        if h.seq != self.seq {
            return None;
        }
        decode_response(&h, payload).ok()
    }

    /// Handles a request through encoded frames (a convenience for tests). No answer becomes
    /// `Err(Refusal { error: StorageFault, detail: NO_ANSWER })`.
    pub fn request(&mut self, session: u32, req: Request) -> Result<Response, Refusal> {
        self.try_request(session, &req).unwrap_or(Err(Refusal {
            error: WireError::StorageFault,
            detail: NO_ANSWER,
        }))
    }

    /// Handles an encoded control frame
    /// ([`taxdisk_protocol::frame::FrameType::ControlRequest`]) and writes the encoded
    /// answer. Returns 0 for anything else.
    pub fn handle_control_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        let mut scratch = [0u8; MAX_FRAME];
        let Ok((h, payload)) = decode_frame(frame, &mut scratch) else {
            return 0;
        };
        let resp = match control::decode_request(&h, payload) {
            Ok(req) => self.control(req),
            Err(DecodeError::FrameType(_)) => return 0,
            Err(_) => ControlResponse::error("control request does not decode"),
        };
        control::encode_response(&h, &resp, out).unwrap_or(0)
    }

    /// Runs a control request (clock, power, faults, snapshots, latency, stats).
    pub fn control(&mut self, req: ControlRequest) -> ControlResponse {
        let moves_clock = matches!(
            req,
            ControlRequest::SetClock(_) | ControlRequest::Advance(_) | ControlRequest::RunFree(_)
        );
        let resp = self.control_inner(req);
        if moves_clock
            && resp == ControlResponse::Ok
            && let Some(f) = &self.clock_follower
        {
            (f.0)(self.now());
        }
        resp
    }

    fn control_inner(&mut self, req: ControlRequest) -> ControlResponse {
        match req {
            ControlRequest::GetClock => ControlResponse::Clock(self.now()),
            ControlRequest::SetClock(t) if t > LATEST_TIME => {
                ControlResponse::error("the clock goes no further than 9998-12-31")
            }
            ControlRequest::SetClock(t) => {
                self.set_time(t);
                ControlResponse::Ok
            }
            ControlRequest::Advance(s) if self.now().0.saturating_add(s) > LATEST_TIME.0 => {
                ControlResponse::error("the clock goes no further than 9998-12-31")
            }
            ControlRequest::Advance(s) => {
                self.advance(s);
                ControlResponse::Ok
            }
            ControlRequest::RunFree(on) => {
                let now = self.now();
                self.time = now;
                self.run_free_since = on.then(Instant::now);
                ControlResponse::Ok
            }
            ControlRequest::PowerCycle => {
                self.power_cycle();
                ControlResponse::Ok
            }
            ControlRequest::Plug(on) => {
                if on && !self.plugged {
                    // Plugging in powers the disk up from its flash.
                    self.power_cycle();
                }
                self.plugged = on;
                self.plug_watch.send_modify(|p| p.plugged = on);
                ControlResponse::Ok
            }
            ControlRequest::PowerCutAfter(n) => {
                if n == 0 {
                    return ControlResponse::error("PowerCutAfter counts from 1");
                }
                self.cut_power_at(n as u64, CUT_BYTE);
                ControlResponse::Ok
            }
            ControlRequest::FrameFault { nth, action } => {
                if nth == 0 {
                    return ControlResponse::error("FrameFault counts from 1");
                }
                if let FrameFaultAction::DelayAnswer(ms) = action
                    && ms > MAX_DELAY_MS
                {
                    return ControlResponse::error("a delay is at most 30000 ms");
                }
                self.faults.arm(nth, action);
                ControlResponse::Ok
            }
            ControlRequest::ClearFaults => {
                self.faults.clear();
                self.fw_mut().flash_mut().spi_mut().disarm();
                ControlResponse::Ok
            }
            ControlRequest::Snapshot(name)
                if self.snapshots.len() >= MAX_SNAPSHOTS
                    && !self.snapshots.contains_key(name.as_str()) =>
            {
                ControlResponse::error("8 snapshots kept: reuse or drop one")
            }
            ControlRequest::Snapshot(name) => {
                let mem = self.chip().memory().to_vec();
                self.snapshots.insert(name.as_str().to_owned(), mem);
                ControlResponse::Ok
            }
            ControlRequest::DropSnapshot(name) => match self.snapshots.remove(name.as_str()) {
                Some(_) => ControlResponse::Ok,
                None => ControlResponse::error("no snapshot of that name"),
            },
            ControlRequest::Restore(name) => {
                let Some(mem) = self.snapshots.get(name.as_str()).cloned() else {
                    return ControlResponse::error("no snapshot of that name");
                };
                if self.fw_mut().flash_mut().spi_mut().load(&mem).is_err() {
                    return ControlResponse::error("restoring the flash image failed");
                }
                self.power_cycle();
                ControlResponse::Ok
            }
            ControlRequest::Latency(on) => {
                self.latency = on;
                ControlResponse::Ok
            }
            ControlRequest::Stats => ControlResponse::Stats(self.stats()),
        }
    }

    /// The simulator's counters.
    pub fn stats(&self) -> SimStats {
        let c = self.chip_stats();
        SimStats {
            flash_reads: c.reads,
            flash_programs: c.programs,
            flash_erases: c.erases,
            frames: self.frames,
            power_cycles: self.power_cycles,
        }
    }

    /// Leaves a `DelayAnswer` fault to the caller instead of sleeping in
    /// [`FrameHandler::handle_frame`]: a server that shares the disk between connections takes
    /// the delay with [`take_owed_delay`](Self::take_owed_delay) and waits it out after
    /// releasing the disk, so a delayed answer on one link does not freeze the others (the
    /// fault delays the answer on the link; the disk itself is not busy). The latency model
    /// is the disk's own work time and stays inside.
    pub fn defer_delays(&mut self, on: bool) {
        self.defer_delays = on;
    }

    /// The delay the last answer still owes (zero if none), with [`defer_delays`](Self::defer_delays) on.
    pub fn take_owed_delay(&mut self) -> Duration {
        std::mem::take(&mut self.owed_delay)
    }

    /// Calls `follow` with the disk's time after every control request that moves the clock
    /// (SetClock, Advance, RunFree): `taxdisk-sim serve` keeps the bureau it serves on the
    /// disk's clock this way.
    pub fn follow_clock(&mut self, follow: impl Fn(Timestamp) + Send + 'static) {
        self.clock_follower = Some(ClockFollower(Box::new(follow)));
    }
}

impl FrameHandler for SimDisk {
    fn handle_frame(&mut self, frame: &[u8], out: &mut [u8]) -> usize {
        if !self.plugged {
            return 0;
        }
        self.frames += 1;
        let fault = self.faults.next_frame();
        if fault == Some(FrameFaultAction::DropRequest) {
            return 0;
        }
        let started = Instant::now();
        let now = self.now();
        let answered = self.fw_mut().answer_frame(now, frame, out);
        let n = answered.len;
        self.log_transitions();
        if !self.chip().powered() {
            // The power was cut during the request: no answer; the disk comes back up from
            // its flash before the next frame.
            self.power_cycle();
            return 0;
        }
        if self.latency
            && n > 0
            && let Some(id) = answered.command
        {
            let want = Duration::from_millis(latency_ms(id));
            if let Some(rest) = want.checked_sub(started.elapsed()) {
                std::thread::sleep(rest);
            }
        }
        let (len, delay) = self.faults.apply(fault, out, n);
        if !delay.is_zero() {
            if self.defer_delays {
                self.owed_delay = delay;
            } else {
                std::thread::sleep(delay);
            }
        }
        len
    }
}
