//! USB identity of the disk: a vendor-specific interface with one bulk OUT and one bulk IN
//! endpoint, carrying the same COBS frames as every other transport.

/// pid.codes vendor id (open-source hardware).
pub const VID: u16 = 0x1209;
/// Product id: pid.codes test PID 0x0001 ("Test PID"), for development only.
pub const PID: u16 = 0x0001;
/// Interface class: vendor specific.
pub const INTERFACE_CLASS: u8 = 0xFF;
/// Interface subclass we chose for the tax disk.
pub const INTERFACE_SUBCLASS: u8 = 0x54; // 'T'
/// Interface protocol: version of [`crate::frame::VERSION`].
pub const INTERFACE_PROTOCOL: u8 = 0x01;
/// Interface number.
pub const INTERFACE: u8 = 0;
/// Bulk OUT endpoint address (host to disk).
pub const EP_OUT: u8 = 0x01;
/// Bulk IN endpoint address (disk to host).
pub const EP_IN: u8 = 0x81;
/// Max packet size of the bulk endpoints at full speed.
pub const MAX_PACKET_FULL_SPEED: usize = 64;
/// Max packet size of the bulk endpoints at high speed.
pub const MAX_PACKET_HIGH_SPEED: usize = 512;
/// `bcdUSB` of the device descriptor: USB 2.0 (high speed capable).
pub const BCD_USB: u16 = 0x0200;
/// `bcdDevice` of the device descriptor: release 1.00 of the disk's USB function.
pub const BCD_DEVICE: u16 = 0x0100;
/// The disk's only configuration (`bConfigurationValue`).
pub const CONFIGURATION_VALUE: u8 = 1;
/// Max packet size of the default control endpoint (ep 0).
pub const MAX_PACKET_EP0: u8 = 64;
/// Manufacturer string.
pub const MANUFACTURER: &str = "taxdisk";
/// Product string.
pub const PRODUCT: &str = "taxdisk VAT tax-control disk";
/// Default timeout of a bulk transfer, in milliseconds.
pub const TIMEOUT_MS: u32 = 2_000;

/// Splits an encoded frame into bulk packets of `max_packet` bytes. A frame whose length is a
/// multiple of `max_packet` gets no zero-length packet: the 0x00 delimiter ends it, so a reader
/// must not wait for a short packet: it reads one packet per IN transfer (the host transport
/// does).
pub fn packets(frame: &[u8], max_packet: usize) -> core::slice::Chunks<'_, u8> {
    frame.chunks(max_packet.max(1))
}
