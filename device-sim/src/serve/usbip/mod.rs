//! `taxdisk-sim serve --usbip ADDR`: the simulated disks exported as USB devices over USB/IP,
//! so a bench PC attaches it with `usbip attach` (Linux `vhci-hcd`, usbip-win2) and the host's
//! libusb transport finds it like a disk in a USB port.
//!
//! The USB/IP protocol (device list, import, URB submit/unlink) is the `usbip` crate's; this
//! module only describes the device and carries its bulk endpoints to the disk:
//!
//! - device: [`taxdisk_protocol::usb`]'s VID/PID, bcdUSB 2.0, high speed, manufacturer and
//!   product strings, the device serial (F6) as serial string; one configuration with one
//!   vendor-specific interface (class `0xFF`, subclass `0x54`) and two bulk endpoints, OUT
//!   [`EP_OUT`] and IN [`EP_IN`], of [`MAX_PACKET_HIGH_SPEED`] bytes.
//! - bulk OUT: the bytes are cut into frames at their `0x00` delimiters (the TCP port's
//!   `FrameSplitter`), so a frame may cross any number of packets and URBs; each frame goes to
//!   the shared disk through [`FrameHandler::handle_frame`] under the same lock as the TCP
//!   port's frames (`lock_disk`): the same sessions (D14), Busy answers and frame faults.
//! - bulk IN: the answer bytes wait in a queue; an IN URB takes at most its transfer length from
//!   its front, in order, and an IN URB that finds the queue empty completes at once with zero
//!   bytes (the crate answers each URB before it reads the next command from the connection, so
//!   an IN URB cannot wait for the OUT URB that follows it). libusb returns such a completion as
//!   a successful read of 0 bytes: the host polls again.
//! - plugging: the disk's `Plug(false)` closes the connection that imported it and takes it out
//!   of the device list (an import is refused, by the export itself while unplugged);
//!   `Plug(true)` lists it again. The order of these steps keeps clear of a lock-order deadlock
//!   in the crate (see `follow_plug`). A device list asked during an unplug waits for its end
//!   (the crate lists the disk again between its importer's end and its removal), so a disk
//!   the list shows is one an import gets. An importer that ends on an error is listed again
//!   if its disk is plugged in, whether reading or writing failed (the crate puts a device back
//!   only after a read error: `relist`).
//! - power: a `PowerCycle` (and a restore or a power cut, which cycle it too) reboots the disk
//!   behind its attachment: the login and RAM state are gone, the importing connection stays.
//!   A real disk that loses power drops off the bus and the PC enumerates it again by itself;
//!   over USB/IP nothing attaches it again unless someone runs `usbip attach`, so a suite that
//!   cycles the power (the conformance suite's D2, D13) would lose its disk. `Plug(false)` and
//!   `Plug(true)` are the disconnect a bench asks for when it wants the host to see one.
//! - checking: every message a peer sends is checked before the crate reads it (`guard`):
//!   what would panic or exhaust the crate closes the connection with a warning instead.
//!
//! Several disks get bus ids `1-1`, `1-2`, … ([`bus_id`]), one per `--image`, on one port; the
//! connection table (`table`) knows which connection imports which.
//! The crate's URB handlers are synchronous; the disk call runs in `block_in_place` on the
//! export's own multi-threaded tokio runtime, so a slow frame (latency model, delay fault) does
//! not hold up the other connections.

mod guard;
mod table;
#[cfg(test)]
mod tests;

use super::accept::FrameSplitter;
use super::{MAX_CONNECTIONS, SharedDisk, lock_disk, wait_owed};
use crate::sim::PlugState;
use std::any::Any;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use table::{Conn, Conns, Registered};
use taxdisk_protocol::FrameHandler;
use taxdisk_protocol::frame::MAX_ENCODED;
use taxdisk_protocol::usb::{
    BCD_DEVICE, BCD_USB, CONFIGURATION_VALUE, EP_IN, EP_OUT, INTERFACE_CLASS, INTERFACE_PROTOCOL,
    INTERFACE_SUBCLASS, MANUFACTURER, MAX_PACKET_HIGH_SPEED, PID, PRODUCT, VID,
};
use tokio::sync::watch;
use usbip::{
    EndpointAttributes, SetupPacket, UsbDevice, UsbDeviceHandler, UsbEndpoint, UsbInterface,
    UsbInterfaceHandler, UsbIpServer, UsbSpeed,
};

/// The USB/IP port (`usbipd`'s), used when `--usbip` is given without an address.
pub const DEFAULT_USBIP_ADDR: &str = "127.0.0.1:3240";

/// USB/IP `OP_REQ_IMPORT` (version 0x0111 precedes it on the wire).
const OP_REQ_IMPORT: u16 = 0x8003;
/// The USB/IP protocol version of the `OP_*` messages.
const USBIP_VERSION: u16 = 0x0111;
/// Bytes of checked messages the crate may have still to read: one largest URB and more.
const GUARD_BUFFER: usize = 2 * guard::MAX_OUT as usize;
/// How long an unplug waits for the crate's device list before it lets go and tries again.
const REMOVE_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Answer bytes a host may leave unread before further answers are dropped (as if lost on the
/// wire; the host's retry covers them). A host that reads its answers never gets near it.
const MAX_QUEUED: usize = 16 * MAX_ENCODED;

/// Why the USB/IP export could not start.
#[derive(Debug, thiserror::Error)]
pub enum UsbipError {
    /// The USB/IP port could not be bound.
    #[error("cannot listen for USB/IP on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The export's runtime or listener could not be set up.
    #[error("USB/IP export: {0}")]
    Io(#[from] std::io::Error),
}

/// The bus id of the `index`th exported disk (from 0): `1-1`, `1-2`, …
pub fn bus_id(index: usize) -> String {
    format!("1-{}", index + 1)
}

/// One disk to export.
#[derive(Debug)]
pub(crate) struct ExportedDisk {
    /// The disk, shared with the TCP ports.
    pub(crate) disk: SharedDisk,
    /// Its serial (F6), the USB serial string.
    pub(crate) serial: String,
    /// Its plugged state, power cycles and their changes
    /// ([`crate::sim::SimDisk::plug_events`]).
    pub(crate) plug: watch::Receiver<PlugState>,
}

/// The byte pipes of one exported disk: frames being received on bulk OUT, answers waiting for
/// bulk IN.
#[derive(Debug)]
struct Pipe {
    splitter: FrameSplitter,
    queue: VecDeque<u8>,
    answer: Vec<u8>,
}

impl Pipe {
    fn new() -> Self {
        Pipe {
            splitter: FrameSplitter::new(),
            queue: VecDeque::new(),
            // Room for a duplicated answer (DuplicateAnswer fault), as on the TCP port.
            answer: vec![0; 2 * MAX_ENCODED],
        }
    }
}

type SharedPipe = Arc<Mutex<Pipe>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Pipes and the connection table stay consistent whatever panicked holding them: at worst
    // a frame is cut short, which the host's retry covers.
    taxdisk_protocol::fault::locked(m)
}

/// The disk's vendor-specific interface: bulk OUT frames to the disk, bulk IN answers back.
#[derive(Debug)]
struct DiskInterface {
    disk: SharedDisk,
    pipe: SharedPipe,
    bus_id: String,
}

impl DiskInterface {
    fn bulk_out(&self, data: &[u8]) -> std::io::Result<()> {
        let mut pipe = lock(&self.pipe);
        let Pipe {
            splitter,
            queue,
            answer,
        } = &mut *pipe;
        let mut gone = false;
        splitter.feed(data, |frame| match frame {
            Ok(raw) if !gone => {
                let mut guard = lock_disk(&self.disk);
                let Some(d) = guard.as_mut() else {
                    gone = true;
                    return;
                };
                let n = d.handle_frame(raw, answer);
                let owed = d.take_owed_delay();
                drop(guard);
                wait_owed(&self.disk, owed);
                if queue.len() + n > MAX_QUEUED {
                    tracing::warn!(bus_id = %self.bus_id, "{}", taxdisk_i18n::t!("log-usbip-answer-dropped"));
                } else {
                    queue.extend(&answer[..n]);
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(bus_id = %self.bus_id, error = ?e, "oversize frame skipped");
            }
        });
        if gone {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "the server is stopping",
            ));
        }
        Ok(())
    }

    fn bulk_in(&self, len: u32) -> Vec<u8> {
        let mut pipe = lock(&self.pipe);
        let n = pipe.queue.len().min(len as usize);
        pipe.queue.drain(..n).collect()
    }
}

impl UsbInterfaceHandler for DiskInterface {
    fn get_class_specific_descriptor(&self) -> Vec<u8> {
        Vec::new()
    }

    fn handle_urb(
        &mut self,
        _interface: &UsbInterface,
        ep: UsbEndpoint,
        transfer_buffer_length: u32,
        _setup: SetupPacket,
        req: &[u8],
    ) -> std::io::Result<Vec<u8>> {
        match ep.address {
            // Requests to the interface on ep 0 (SET_INTERFACE to alternate 0): nothing to do.
            a if a & 0x7F == 0 => Ok(Vec::new()),
            // Handling a frame may take long (latency model, delay fault): the runtime moves its
            // other connections off this thread meanwhile. Invariant: URBs are only handled on
            // the export's own multi-threaded runtime, where block_in_place is allowed.
            EP_OUT => tokio::task::block_in_place(|| self.bulk_out(req)).map(|()| Vec::new()),
            EP_IN => Ok(self.bulk_in(transfer_buffer_length)),
            other => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("no endpoint {other:#04x}"),
            )),
        }
    }

    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

/// Standard requests to the device and its endpoints that the crate leaves to the device:
/// GET_STATUS, GET_CONFIGURATION; CLEAR_FEATURE(ENDPOINT_HALT) and the like succeed with no
/// data (the endpoints never halt).
#[derive(Debug)]
struct StandardRequests;

impl UsbDeviceHandler for StandardRequests {
    fn handle_urb(
        &mut self,
        transfer_buffer_length: u32,
        setup: SetupPacket,
        _req: &[u8],
    ) -> std::io::Result<Vec<u8>> {
        const GET_STATUS: u8 = 0x00;
        const GET_CONFIGURATION: u8 = 0x08;
        let mut data = match (setup.request_type, setup.request) {
            // To the device, an interface or an endpoint.
            (0x80..=0x82, GET_STATUS) => vec![0, 0],
            (0x80, GET_CONFIGURATION) => vec![CONFIGURATION_VALUE],
            _ => Vec::new(),
        };
        data.truncate(usize::from(setup.length).min(transfer_buffer_length as usize));
        Ok(data)
    }

    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

/// The USB device of the `index`th disk, with `pipe` behind its interface.
fn usb_device(index: usize, d: &ExportedDisk, pipe: SharedPipe) -> UsbDevice {
    let bus = bus_id(index);
    let mut dev = UsbDevice::new(index as u32);
    dev.path = format!("/sys/devices/platform/taxdisk-sim/usb1/{bus}");
    dev.bus_id = bus.clone();
    dev.bus_num = 1;
    // Device addresses from 2 (1 is the root hub's on a real bus).
    dev.dev_num = index as u32 + 2;
    dev.speed = UsbSpeed::High as u32;
    dev.vendor_id = VID;
    dev.product_id = PID;
    // The crate splits a BCD field into major (high byte) and a minor nibble, and writes the
    // minor as the low byte: exact for our values, whose low bytes are 0 (checked by the
    // descriptor test in tests/serve_usbip.rs).
    dev.device_bcd = BCD_DEVICE.into();
    dev.usb_version = BCD_USB.into();
    // Class defined by the interface.
    dev.device_class = 0;
    dev.device_subclass = 0;
    dev.device_protocol = 0;
    dev.configuration_value = CONFIGURATION_VALUE;
    dev.num_configurations = 1;
    dev.set_manufacturer_name(MANUFACTURER);
    dev.set_product_name(PRODUCT);
    dev.set_serial_number(&d.serial);
    dev.unset_configuration_name();
    let bulk = |address| UsbEndpoint {
        address,
        attributes: EndpointAttributes::Bulk as u8,
        max_packet_size: MAX_PACKET_HIGH_SPEED as u16,
        interval: 0,
    };
    let handler: Box<dyn UsbInterfaceHandler + Send> = Box::new(DiskInterface {
        disk: d.disk.clone(),
        pipe,
        bus_id: bus,
    });
    dev.with_interface(
        INTERFACE_CLASS,
        INTERFACE_SUBCLASS,
        INTERFACE_PROTOCOL,
        None,
        vec![bulk(EP_OUT), bulk(EP_IN)],
        Arc::new(Mutex::new(handler)),
    )
    .with_device_handler(Arc::new(Mutex::new(Box::new(StandardRequests))))
}

/// A running USB/IP export. Dropping it (or [`UsbipExport::shutdown`]) closes its connections.
#[derive(Debug)]
pub struct UsbipExport {
    addr: SocketAddr,
    bus_ids: Vec<String>,
    conns: Arc<Conns>,
    rt: Option<tokio::runtime::Runtime>,
}

impl UsbipExport {
    /// Binds `addr` and exports `disks` from a runtime of its own.
    pub(crate) fn start(
        addr: SocketAddr,
        disks: Vec<ExportedDisk>,
    ) -> Result<UsbipExport, UsbipError> {
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|source| UsbipError::Bind { addr, source })?;
        listener.set_nonblocking(true)?;
        let bound = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("usbip")
            .build()?;
        let mut devices = Vec::with_capacity(disks.len());
        let mut pipes = Vec::with_capacity(disks.len());
        for (i, d) in disks.iter().enumerate() {
            let pipe: SharedPipe = Arc::new(Mutex::new(Pipe::new()));
            devices.push(usb_device(i, d, pipe.clone()));
            pipes.push((bus_id(i), pipe));
        }
        let bus_ids = devices.iter().map(|d| d.bus_id.clone()).collect();
        let server = Arc::new(UsbIpServer::new_simulated(devices.clone()));
        let pipes = Arc::new(pipes);
        let conns = Arc::new(Conns::default());
        let listener = {
            let _ctx = rt.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let listed = Arc::new(devices.clone());
        for ((dev, d), (_, pipe)) in devices.into_iter().zip(disks).zip(pipes.iter()) {
            rt.spawn(follow_plug(
                server.clone(),
                dev,
                d.plug,
                conns.clone(),
                pipe.clone(),
            ));
        }
        rt.spawn(accept_loop(listener, server, conns.clone(), pipes, listed));
        tracing::info!(addr = %bound, ?bus_ids, "{}", taxdisk_i18n::t!("log-usbip-exporting"));
        Ok(UsbipExport {
            addr: bound,
            bus_ids,
            conns,
            rt: Some(rt),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bus ids of the exported disks, in order.
    pub fn bus_ids(&self) -> &[String] {
        &self.bus_ids
    }

    /// Closes every connection and stops the runtime (the disk is already gone from the
    /// server: a URB still in progress finds none and fails).
    pub fn shutdown(&mut self) {
        self.conns.close(|_| true);
        if let Some(rt) = self.rt.take() {
            // Does not block, so it is safe from any context (even inside another runtime).
            rt.shutdown_background();
        }
    }
}

impl Drop for UsbipExport {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    server: Arc<UsbIpServer>,
    conns: Arc<Conns>,
    pipes: Arc<Vec<(String, SharedPipe)>>,
    devices: Arc<Vec<UsbDevice>>,
) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(port = "usbip", error = %e, "{}", taxdisk_i18n::t!("log-accept-failed"));
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        if lock(&conns.table).open.len() >= MAX_CONNECTIONS {
            tracing::warn!(port = "usbip", %peer, "{}", taxdisk_i18n::t!("log-too-many-connections"));
            continue;
        }
        let Ok(handle) = socket.into_std().and_then(|s| {
            let clone = s.try_clone()?;
            Ok((s, clone))
        }) else {
            tracing::warn!(port = "usbip", %peer, "{}", taxdisk_i18n::t!("log-cannot-clone-socket"));
            continue;
        };
        let (std_socket, for_shutdown) = handle;
        let Ok(socket) = tokio::net::TcpStream::from_std(std_socket) else {
            continue;
        };
        let _ = socket.set_nodelay(true);
        let id = conns.next.fetch_add(1, Ordering::Relaxed);
        lock(&conns.table).open.insert(
            id,
            Conn {
                stream: for_shutdown,
                import: None,
            },
        );
        let reg = Registered {
            conns: conns.clone(),
            id,
            pipes: pipes.clone(),
        };
        let server = server.clone();
        let devices = devices.clone();
        tokio::spawn(async move {
            let reg = reg;
            tracing::debug!(port = "usbip", %peer, "connected");
            match serve_connection(socket, server, &reg, &devices).await {
                Ok(()) => tracing::debug!(port = "usbip", %peer, "disconnected"),
                Err(e) => tracing::debug!(port = "usbip", %peer, error = %e, "connection ended"),
            }
        });
    }
}

/// Runs the crate's handler on the connection, with every message from the peer checked by
/// [`guard::forward`] on its way: a refused one closes the connection with a warning. When the
/// crate stops on an error, the device the connection imported is listed again if it is
/// plugged in ([`relist`]).
async fn serve_connection(
    socket: tokio::net::TcpStream,
    server: Arc<UsbIpServer>,
    reg: &Registered,
    devices: &[UsbDevice],
) -> std::io::Result<()> {
    let crate_server = server.clone();
    let (rd, wr) = socket.into_split();
    let (crate_side, guard_side) = tokio::io::duplex(GUARD_BUFFER);
    let guard = guard::forward(rd, guard_side, reg);
    let mut socket = tokio::io::join(crate_side, wr);
    let handler = usbip::handler(&mut socket, crate_server);
    tokio::pin!(guard, handler);
    let result = tokio::select! {
        // The crate stopped first (the peer is gone): the guard has nothing left to do.
        r = &mut handler => r,
        g = &mut guard => {
            if let Err(e) = g {
                tracing::warn!(port = "usbip", reason = %e, "{}", taxdisk_i18n::t!("log-usbip-closing"));
            }
            // The guard's end of the pipe is dropped: the crate answers what it was given,
            // reads the end and puts an imported device back.
            handler.await
        }
    };
    if result.is_err() {
        relist(&server, reg, devices).await;
    }
    // The crate has put its device back: the disk is free before the peer sees the end.
    reg.finish();
    result
}

/// Lists again the device that the connection `reg` imported, if it is plugged in, after the
/// crate's handler stopped on an error. The crate puts an imported device back in its list when
/// reading from the connection fails, but not when writing to it does: the disk then stayed out
/// of the list, and no host could import it until it was unplugged and plugged in again.
///
/// Runs while the connection still counts as the importer, so an unplug that begins meanwhile
/// waits for it and then takes the device out of the list as usual. The stale copy the crate
/// keeps among its imported devices is replaced by the next import of the bus id.
async fn relist(server: &UsbIpServer, reg: &Registered, devices: &[UsbDevice]) {
    let bus = {
        let t = lock(&reg.conns.table);
        match t.open.get(&reg.id).and_then(|c| c.import.clone()) {
            Some(bus) if !t.unplugged.contains(&bus) => bus,
            _ => return,
        }
    };
    let Some(dev) = devices.iter().find(|d| d.bus_id == bus) else {
        return;
    };
    // Device lists wait while the device may be out of the list (taken out to be put back
    // once, whether or not the crate put it back).
    let _held = reg.conns.hold_lists();
    loop {
        match tokio::time::timeout(REMOVE_WAIT, server.remove_device(&bus)).await {
            // Listed (the crate put it back), or held among the imported ones.
            Ok(_) => break,
            // The crate's lists are busy with another connection's end (see `follow_plug`).
            Err(_) => tracing::debug!(bus_id = %bus, "USB/IP: device list busy; trying again"),
        }
    }
    server.add_device(dev.clone()).await;
    tracing::info!(bus_id = %bus, "{}", taxdisk_i18n::t!("log-usbip-on-bus"));
}

/// Follows the disk's plugged state: unplugged, its importer is closed and it leaves the device
/// list; plugged in, it is listed again. Power cycles leave the attachment as it is (module
/// documentation).
///
/// The crate's locks are taken in opposite orders by `remove_device` (the device list, then the
/// imported devices) and by a connection that imports or ends (imported, then list): running
/// `remove_device` while a connection of the same disk ends can deadlock them both, and with
/// them every later device list (issue 14: a device list after unplug hung). So an unplug first
/// refuses new imports of the disk (in [`guard::forward`]), closes its importer and waits
/// until that connection has ended (the crate has put the device back in its list by then),
/// and only then removes it; `remove_device` is also bounded in time, so that a deadlock with
/// another disk's connection ends by dropping it (which releases its lock) and trying again.
async fn follow_plug(
    server: Arc<UsbIpServer>,
    dev: UsbDevice,
    mut plug: watch::Receiver<PlugState>,
    conns: Arc<Conns>,
    pipe: SharedPipe,
) {
    let bus = dev.bus_id.clone();
    let mut listed = true;
    // Ends when the disk is dropped (server shutdown).
    while plug.changed().await.is_ok() {
        let now = *plug.borrow_and_update();
        if listed && !now.plugged {
            unplug(&server, &bus, &conns, &pipe).await;
            listed = false;
            tracing::info!(bus_id = %bus, "{}", taxdisk_i18n::t!("log-usbip-off-bus"));
        }
        if now.plugged && !listed {
            *lock(&pipe) = Pipe::new();
            // Imports pass before it is listed: a host that sees it listed can import it.
            conns.set_unplugged(&bus, false);
            server.add_device(dev.clone()).await;
            listed = true;
            tracing::info!(bus_id = %bus, "{}", taxdisk_i18n::t!("log-usbip-on-bus"));
        }
    }
}

/// Takes the disk on `bus` off the bus: refuses its imports, closes its importer, waits for
/// that connection to end and removes the device from the list (see [`follow_plug`]).
async fn unplug(server: &UsbIpServer, bus: &str, conns: &Conns, pipe: &SharedPipe) {
    // Held until the device is out of the crate's list: when its importer ends, the crate puts
    // it back in its list, where a device list would show a disk that cannot be imported.
    let _unplugging = conns.begin_unplug(bus);
    loop {
        let ended = conns.ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        conns.close(|c| c.import.as_deref() == Some(bus));
        if !conns.importing(bus) {
            break;
        }
        ended.await;
    }
    #[cfg(test)]
    let _ = conns.hold_removal.subscribe().wait_for(|h| !*h).await;
    loop {
        match tokio::time::timeout(REMOVE_WAIT, server.remove_device(bus)).await {
            Ok(Ok(())) => break,
            // Not listed already: a connection that ended on a write error leaves the
            // crate's device among the imported ones, out of the list. The next plug
            // lists a fresh copy and an import replaces the stale one.
            Ok(Err(e)) => {
                tracing::debug!(bus_id = %bus, error = %e, "USB/IP: not in the device list");
                break;
            }
            Err(_) => {
                tracing::debug!(bus_id = %bus, "USB/IP: device list busy; trying again");
            }
        }
    }
    *lock(pipe) = Pipe::new();
}
