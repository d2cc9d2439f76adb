//! The USB transport, through rusb with its vendored libusb (a fresh machine needs no system
//! package). The disk is found by [`VID`]/[`PID`] and its vendor-specific interface
//! ([`INTERFACE_CLASS`], [`INTERFACE_SUBCLASS`]); frames go out on the bulk OUT endpoint in
//! packets of the endpoint's max packet size ([`packetize`]) and come back on the bulk IN
//! endpoint, reassembled by the protocol's streaming decoder ([`reassemble`] is the same logic
//! as a pure function). Several disks: pick one by serial string or by bus and address
//! ([`UsbSelector`]); [`list_disks`] shows them. After an unplug the next send finds the disk
//! again.
//!
//! With no disk attached, opening fails with [`TransportError::NoDevice`] and one line:
//! `no tax disk found on USB (VID 1209 PID 0001); is it plugged in?`. A machine where libusb
//! cannot start (a container without `/dev/bus/usb`) gets a `NoDevice` line saying so.

use super::{Frame, FrameAssembler, Transport, TransportError, check_len};
use rusb::{Context, Device, DeviceHandle, Direction, TransferType, UsbContext};
use std::fmt;
use std::time::{Duration, Instant};
use taxdisk_protocol::DecodeError;
use taxdisk_protocol::usb::{
    EP_IN, EP_OUT, INTERFACE_CLASS, INTERFACE_SUBCLASS, MAX_PACKET_FULL_SPEED, PID, TIMEOUT_MS,
    VID, packets,
};

/// The line shown when no disk is attached.
pub fn no_disk_line() -> String {
    format!("no tax disk found on USB (VID {VID:04x} PID {PID:04x}); is it plugged in?")
}

/// Splits an encoded frame into bulk OUT packets of at most `max_packet` bytes (a zero
/// `max_packet` is treated as 1). No zero-length packet is needed: the frame's `0x00` delimiter
/// ends it.
pub fn packetize(frame: &[u8], max_packet: usize) -> Vec<&[u8]> {
    packets(frame, max_packet).collect()
}

/// Reassembles bulk IN packets into checked frames, in order: frames may cross packet
/// boundaries and one packet may end one frame and hold several more. A bad frame is its
/// [`DecodeError`]; a trailing partial frame is not returned.
pub fn reassemble<'a>(
    packets: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Result<Frame, DecodeError>> {
    let mut a = FrameAssembler::new();
    let mut out = Vec::new();
    for p in packets {
        a.feed(p);
        while let Some(f) = a.pop() {
            out.push(f);
        }
    }
    out
}

/// Picks the disk `selector` names among the attached ones (in bus/address order). No disk at
/// all is the [`no_disk_line`]; no match names the selector and lists what is attached.
pub fn select(selector: &UsbSelector, attached: &[UsbDiskInfo]) -> Result<usize, TransportError> {
    if attached.is_empty() {
        return Err(TransportError::NoDevice(no_disk_line()));
    }
    let hit = attached.iter().position(|d| match selector {
        UsbSelector::First => true,
        UsbSelector::Serial(s) => d.serial.as_deref() == Some(s.as_str()),
        UsbSelector::BusAddress { bus, address } => d.bus == *bus && d.address == *address,
    });
    hit.ok_or_else(|| {
        let list: Vec<String> = attached.iter().map(|d| d.to_string()).collect();
        TransportError::NoDevice(format!(
            "no tax disk with {selector} on USB; attached: {}",
            list.join("; ")
        ))
    })
}

/// Which disk to open when several are attached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum UsbSelector {
    /// The first one found (by bus, then address).
    #[default]
    First,
    /// The disk whose USB serial string is this (the device serial, F6).
    Serial(String),
    /// The disk at this bus number and device address.
    BusAddress {
        /// Bus number.
        bus: u8,
        /// Device address on the bus.
        address: u8,
    },
}

impl fmt::Display for UsbSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsbSelector::First => f.write_str("any"),
            UsbSelector::Serial(s) => write!(f, "serial {s}"),
            UsbSelector::BusAddress { bus, address } => write!(f, "bus {bus} address {address}"),
        }
    }
}

/// A tax disk seen on USB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsbDiskInfo {
    /// Bus number.
    pub bus: u8,
    /// Device address.
    pub address: u8,
    /// USB serial string, when it could be read.
    pub serial: Option<String>,
    /// Product string, when it could be read.
    pub product: Option<String>,
    /// Why the strings could not be read (e.g. permission denied), if so.
    pub problem: Option<String>,
}

impl fmt::Display for UsbDiskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bus {} address {}: serial {}",
            self.bus,
            self.address,
            self.serial.as_deref().unwrap_or("?")
        )?;
        if let Some(p) = &self.product {
            write!(f, " ({p})")?;
        }
        if let Some(p) = &self.problem {
            write!(f, " [{p}]")?;
        }
        Ok(())
    }
}

fn usb_context() -> Result<Context, TransportError> {
    Context::new().map_err(|e| {
        TransportError::NoDevice(format!(
            "no tax disk found on USB (VID {VID:04x} PID {PID:04x}): USB is not available on this \
             machine (libusb: {e})"
        ))
    })
}

fn usb_err(what: &str, e: rusb::Error) -> TransportError {
    match e {
        rusb::Error::NoDevice => TransportError::Disconnected(format!("{what}: disk unplugged")),
        rusb::Error::Access => TransportError::Usb(format!(
            "{what}: permission denied; allow access to VID {VID:04x} PID {PID:04x} (udev rule)"
        )),
        rusb::Error::Busy => TransportError::Usb(format!(
            "{what}: the disk's interface is claimed by another program"
        )),
        e => TransportError::Usb(format!("{what}: {e}")),
    }
}

/// Endpoints of the disk's interface, from its descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Endpoints {
    interface: u8,
    out: u8,
    inp: u8,
    max_packet: usize,
    /// Max packet size of the bulk IN endpoint: the length of every IN transfer.
    in_max_packet: usize,
}

/// Finds the vendor-specific tax-disk interface of a device matching VID/PID.
fn find_interface(dev: &Device<Context>) -> Option<Endpoints> {
    let d = dev.device_descriptor().ok()?;
    if d.vendor_id() != VID || d.product_id() != PID {
        return None;
    }
    let config = dev.active_config_descriptor().ok()?;
    for iface in config.interfaces() {
        for alt in iface.descriptors() {
            if alt.class_code() != INTERFACE_CLASS || alt.sub_class_code() != INTERFACE_SUBCLASS {
                continue;
            }
            let mut ep = Endpoints {
                interface: alt.interface_number(),
                out: EP_OUT,
                inp: EP_IN,
                max_packet: MAX_PACKET_FULL_SPEED,
                in_max_packet: MAX_PACKET_FULL_SPEED,
            };
            let (mut found_out, mut found_in) = (false, false);
            for e in alt.endpoint_descriptors() {
                if e.transfer_type() != TransferType::Bulk {
                    continue;
                }
                match e.direction() {
                    Direction::Out if !found_out => {
                        ep.out = e.address();
                        // Bits 0..10 are the size; 0 would be a broken descriptor.
                        ep.max_packet = usize::from(e.max_packet_size() & 0x7FF).max(1);
                        found_out = true;
                    }
                    Direction::In if !found_in => {
                        ep.inp = e.address();
                        ep.in_max_packet = usize::from(e.max_packet_size() & 0x7FF).max(1);
                        found_in = true;
                    }
                    _ => {}
                }
            }
            if found_out && found_in {
                return Some(ep);
            }
        }
    }
    None
}

fn read_strings(dev: &Device<Context>) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(d) = dev.device_descriptor() else {
        return (None, None, Some("no device descriptor".into()));
    };
    match dev.open() {
        Ok(h) => (
            h.read_serial_number_string_ascii(&d).ok(),
            h.read_product_string_ascii(&d).ok(),
            None,
        ),
        Err(rusb::Error::Access) => (None, None, Some("permission denied".into())),
        Err(e) => (None, None, Some(e.to_string())),
    }
}

fn candidates(ctx: &Context) -> Result<Vec<(Device<Context>, Endpoints)>, TransportError> {
    let list = ctx
        .devices()
        .map_err(|e| usb_err("listing USB devices", e))?;
    let mut v: Vec<_> = list
        .iter()
        .filter_map(|d| find_interface(&d).map(|e| (d, e)))
        .collect();
    v.sort_by_key(|(d, _)| (d.bus_number(), d.address()));
    Ok(v)
}

/// Lists the tax disks attached to USB.
pub fn list_disks() -> Result<Vec<UsbDiskInfo>, TransportError> {
    let ctx = usb_context()?;
    Ok(candidates(&ctx)?
        .into_iter()
        .map(|(d, _)| {
            let (serial, product, problem) = read_strings(&d);
            UsbDiskInfo {
                bus: d.bus_number(),
                address: d.address(),
                serial,
                product,
                problem,
            }
        })
        .collect())
}

struct Link {
    handle: DeviceHandle<Context>,
    ep: Endpoints,
    bus: u8,
    address: u8,
    serial: Option<String>,
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.handle.release_interface(self.ep.interface);
    }
}

/// A disk on USB.
pub struct UsbTransport {
    ctx: Context,
    selector: UsbSelector,
    link: Option<Link>,
    assembler: FrameAssembler,
    buf: Vec<u8>,
    write_timeout: Duration,
}

impl fmt::Debug for UsbTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsbTransport")
            .field("selector", &self.selector)
            .field("connected", &self.link.is_some())
            .finish()
    }
}

impl UsbTransport {
    /// Opens the disk chosen by `selector` and claims its interface.
    pub fn open(selector: UsbSelector) -> Result<Self, TransportError> {
        let ctx = usb_context()?;
        let mut t = UsbTransport {
            ctx,
            selector,
            link: None,
            assembler: FrameAssembler::new(),
            // Larger than any packet (wMaxPacketSize is at most 1024 bytes for bulk): an IN
            // transfer of one packet always fits.
            buf: vec![0; 4096],
            write_timeout: Duration::from_millis(u64::from(TIMEOUT_MS)),
        };
        t.connect()?;
        Ok(t)
    }

    /// The max packet size of the bulk OUT endpoint of the open disk.
    pub fn max_packet(&self) -> Option<usize> {
        self.link.as_ref().map(|l| l.ep.max_packet)
    }

    /// The USB serial string of the open disk, if it has one.
    pub fn serial(&self) -> Option<&str> {
        self.link.as_ref().and_then(|l| l.serial.as_deref())
    }

    fn connect(&mut self) -> Result<(), TransportError> {
        self.link = None;
        self.assembler.clear();
        let found = candidates(&self.ctx)?;
        let infos: Vec<UsbDiskInfo> = found
            .iter()
            .map(|(dev, _)| {
                let (serial, product, problem) = read_strings(dev);
                UsbDiskInfo {
                    bus: dev.bus_number(),
                    address: dev.address(),
                    serial,
                    product,
                    problem,
                }
            })
            .collect();
        let i = select(&self.selector, &infos)?;
        let (dev, ep) = &found[i];
        let info = &infos[i];
        let handle = dev.open().map_err(|e| usb_err("opening the tax disk", e))?;
        // Not every platform has kernel drivers to detach; failing to enable it is fine.
        let _ = handle.set_auto_detach_kernel_driver(true);
        handle
            .claim_interface(ep.interface)
            .map_err(|e| usb_err("claiming the tax disk's interface", e))?;
        tracing::debug!(bus = info.bus, address = info.address, serial = ?info.serial, "opened tax disk on USB");
        // After an unplug the address changes: keep following the disk by its serial.
        if let (UsbSelector::BusAddress { .. }, Some(s)) = (&self.selector, &info.serial) {
            self.selector = UsbSelector::Serial(s.clone());
        }
        self.link = Some(Link {
            handle,
            ep: *ep,
            bus: info.bus,
            address: info.address,
            serial: info.serial.clone(),
        });
        Ok(())
    }

    fn fail(&mut self, what: &str, e: rusb::Error) -> TransportError {
        if matches!(e, rusb::Error::NoDevice | rusb::Error::Io) {
            self.link = None;
            self.assembler.clear();
        }
        if e == rusb::Error::Pipe
            && let Some(l) = &self.link
        {
            let _ = l.handle.clear_halt(l.ep.out);
            let _ = l.handle.clear_halt(l.ep.inp);
        }
        usb_err(what, e)
    }
}

impl Transport for UsbTransport {
    fn send(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        check_len(frame)?;
        if self.link.is_none() {
            self.connect()?;
        }
        let Some(link) = self.link.as_ref() else {
            return Err(TransportError::NoDevice(no_disk_line()));
        };
        let (ep, mp, timeout) = (link.ep.out, link.ep.max_packet, self.write_timeout);
        for packet in packetize(frame, mp) {
            let mut off = 0;
            while off < packet.len() {
                let r = match self.link.as_ref() {
                    Some(l) => l.handle.write_bulk(ep, &packet[off..], timeout),
                    None => Err(rusb::Error::NoDevice),
                };
                match r {
                    Ok(n) => off += n,
                    Err(rusb::Error::Timeout) => return Err(TransportError::Timeout(timeout)),
                    Err(e) => return Err(self.fail("sending to the tax disk", e)),
                }
            }
        }
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Frame, TransportError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.assembler.pop_result() {
                return r;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(TransportError::Timeout(timeout));
            }
            // One packet per transfer. A transfer longer than a packet completes only at a short
            // packet or when full: an answer whose length is a multiple of the packet size (no
            // zero-length packet follows it; its 0x00 delimiter ends the frame) would wait in
            // the host controller until the timeout. libusb takes a timeout of 0 as "forever":
            // at least 1 ms.
            let r = match self.link.as_ref() {
                Some(l) => {
                    let len = l.ep.in_max_packet.min(self.buf.len());
                    let wait = left.max(Duration::from_millis(1));
                    l.handle.read_bulk(l.ep.inp, &mut self.buf[..len], wait)
                }
                None => return Err(TransportError::Disconnected("not connected".into())),
            };
            match r {
                // A zero-length completion: a disk exported over USB/IP completes an IN
                // transfer at once with no data while its answer is not ready (it cannot
                // NAK), as does a zero-length packet. Nothing to feed; poll again, gently.
                Ok(0) => std::thread::sleep(left.min(Duration::from_millis(1))),
                Ok(n) => {
                    let n = n.min(self.buf.len());
                    self.assembler.feed(&self.buf[..n]);
                }
                Err(rusb::Error::Timeout) => return Err(TransportError::Timeout(timeout)),
                Err(rusb::Error::Interrupted) => {}
                Err(e) => return Err(self.fail("receiving from the tax disk", e)),
            }
        }
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        self.connect()
    }

    fn describe(&self) -> String {
        match &self.link {
            Some(l) => format!(
                "usb bus {} address {} (serial {})",
                l.bus,
                l.address,
                l.serial.as_deref().unwrap_or("?")
            ),
            None => format!("usb ({}, not connected)", self.selector),
        }
    }
}
