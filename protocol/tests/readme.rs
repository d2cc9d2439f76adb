//! The README's error-code table must list every wire error with its code, name and rule, so
//! that the documentation other implementations read cannot drift from the enum.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use taxdisk_protocol::WireError;

#[test]
fn readme_lists_every_wire_error() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for e in WireError::ALL {
        let row = format!(
            "| 0x{:04X} | {} | {} | {} |",
            e.code(),
            e.name(),
            e.rule(),
            e.message()
        );
        assert!(readme.contains(&row), "README.md lacks the row: {row}");
    }
}
