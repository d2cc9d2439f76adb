//! A damaged disk image says so (issue 17, D13): bit flips in the state log or a zeroed image
//! used to boot as a blank factory disk, so `status` asked for provisioning and `provision`
//! would have made a new disk over the old journal. The release binary, one process per
//! command, a fresh data folder.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use support::{Cli, ISSUE, PROVISION};

/// The state log: the first 4 sectors of the image (`device-sim/src/firmware/store.rs`).
const STATE_LOG: usize = 4 * 4096;

fn used_disk(dir: &std::path::Path) -> Cli {
    let cli = Cli::new(dir);
    cli.ready();
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "50"]);
    cli.ok(ISSUE);
    cli.ok(ISSUE);
    cli
}

#[test]
fn bit_flips_in_the_state_log_stop_the_disk_with_a_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cli = used_disk(&data);
    let image = data.join("disk.img");
    let mut bytes = std::fs::read(&image).unwrap();
    let size = bytes.len();
    for b in &mut bytes[..STATE_LOG] {
        *b ^= 0x04;
    }
    std::fs::write(&image, &bytes).unwrap();
    let line = cli.refused(&["status"]);
    assert!(line.contains("storage fault"), "{line}");
    assert!(line.contains("D13"), "{line}");
    // Two invoices: the journal is readable through event 2.
    assert!(line.contains("readable through event 2"), "{line}");
    let line = cli.refused(PROVISION);
    assert!(line.contains("storage fault"), "never a new disk: {line}");
    assert_eq!(std::fs::metadata(&image).unwrap().len() as usize, size);
}

#[test]
fn a_zeroed_image_is_not_a_new_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cli = used_disk(&data);
    let image = data.join("disk.img");
    let len = std::fs::metadata(&image).unwrap().len() as usize;
    std::fs::write(&image, vec![0u8; len]).unwrap();
    let line = cli.refused(&["status"]);
    assert!(line.contains("storage fault"), "{line}");
    let line = cli.refused(PROVISION);
    assert!(line.contains("storage fault"), "{line}");
}
