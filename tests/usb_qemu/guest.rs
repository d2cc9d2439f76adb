//! The guest's files for tests/usb_qemu.rs: Debian's kernel and the modules it needs, fetched
//! into a cache, and the initramfs written as a cpio archive.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `TARGET/qemu-usb`: the cache of the kernel package and the guest's files.
pub fn cache_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_taxdisk"));
    // TARGET/debug/taxdisk (or TARGET/release/taxdisk)
    bin.parent()
        .and_then(Path::parent)
        .unwrap()
        .join("qemu-usb")
}

fn run_ok(c: &mut Command) -> Result<String, String> {
    let o = c.output().map_err(|e| format!("{c:?}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{c:?}: {}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The kernel image and the modules' folder of Debian's current `linux-image-amd64`, fetched
/// once into `cache` (`apt-get download` and `dpkg-deb`: nothing is installed on the host).
/// Only the kernel image and the module folders the guest's modules come from are unpacked
/// (the whole package is 400 MB); a module from elsewhere is reported missing by name.
pub fn debian_kernel(cache: &Path) -> Result<(PathBuf, PathBuf), String> {
    let root = cache.join("kernel");
    if let Some(found) = find_kernel(&root) {
        return Ok(found);
    }
    let deps = run_ok(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))?;
    let package = deps
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-"))
        .ok_or_else(|| format!("no linux-image package in `apt-cache depends`: {deps}"))?
        .to_owned();
    let debs = cache.join("deb");
    std::fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    run_ok(
        Command::new("apt-get")
            .args(["download", "-q", &package])
            .current_dir(&debs),
    )?;
    let deb = std::fs::read_dir(&debs)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{package}_")) && n.ends_with(".deb"))
        })
        .ok_or_else(|| format!("apt-get download {package} left no .deb"))?;
    let partial = cache.join("kernel.partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|e| e.to_string())?;
    run_ok(
        Command::new("sh")
            .arg("-c")
            .arg(
                "set -e; dpkg-deb --fsys-tarfile \"$1\" | tar -x -C \"$2\" --wildcards \
                 './boot/vmlinuz-*' '*/kernel/drivers/usb/*' \
                 '*/kernel/drivers/net/ethernet/intel/e1000/*'",
            )
            .arg("sh")
            .arg(&deb)
            .arg(&partial),
    )?;
    let _ = std::fs::remove_dir_all(&root);
    std::fs::rename(&partial, &root).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&deb);
    find_kernel(&root).ok_or_else(|| format!("{package} has no vmlinuz and modules"))
}

fn find_kernel(root: &Path) -> Option<(PathBuf, PathBuf)> {
    let vmlinuz = std::fs::read_dir(root.join("boot"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })?;
    let version = vmlinuz.file_name()?.to_str()?.strip_prefix("vmlinuz-")?;
    let modules = ["lib", "usr/lib"]
        .iter()
        .map(|l| root.join(l).join("modules").join(version))
        .find(|p| p.is_dir())?;
    Some((vmlinuz, modules))
}

/// A module's canonical name: `vhci_hcd` and `vhci-hcd` are the same module.
fn module_name(file: &Path) -> Option<String> {
    let n = file.file_name()?.to_str()?;
    let stem = n
        .strip_suffix(".ko")
        .or_else(|| n.strip_suffix(".ko.xz"))
        .or_else(|| n.strip_suffix(".ko.zst"))?;
    Some(stem.replace('_', "-"))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A module's bytes, decompressed (busybox's insmod takes plain `.ko` only).
fn module_bytes(file: &Path) -> Result<Vec<u8>, String> {
    let name = file.to_string_lossy();
    let tool = if name.ends_with(".xz") {
        "xz"
    } else if name.ends_with(".zst") {
        "zstd"
    } else {
        return std::fs::read(file).map_err(|e| format!("{name}: {e}"));
    };
    let o = Command::new(tool)
        .arg("-dc")
        .arg(file)
        .output()
        .map_err(|e| format!("{tool} -dc {name}: {e}"))?;
    if !o.status.success() {
        return Err(format!("{tool} -dc {name}: {}", o.status));
    }
    Ok(o.stdout)
}

/// The `depends=` of a module's `.modinfo` section.
fn module_depends(ko: &[u8]) -> Vec<String> {
    const KEY: &[u8] = b"depends=";
    ko.windows(KEY.len())
        .position(|w| w == KEY)
        .map(|at| {
            let rest = &ko[at + KEY.len()..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            String::from_utf8_lossy(&rest[..end])
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.replace('_', "-"))
                .collect()
        })
        .unwrap_or_default()
}

/// The modules `roots` need, dependencies first: (name, bytes).
pub fn modules_in_load_order(dir: &Path, roots: &[&str]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let by_name: BTreeMap<String, PathBuf> = files
        .into_iter()
        .filter_map(|p| module_name(&p).map(|n| (n, p)))
        .collect();
    fn visit(
        name: &str,
        by_name: &BTreeMap<String, PathBuf>,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<(String, Vec<u8>)>,
    ) -> Result<(), String> {
        if !seen.insert(name.to_owned()) {
            return Ok(());
        }
        let file = by_name
            .get(name)
            .ok_or_else(|| format!("module {name} is not in the kernel package"))?;
        let bytes = module_bytes(file)?;
        for dep in module_depends(&bytes) {
            visit(&dep, by_name, seen, out)?;
        }
        out.push((name.to_owned(), bytes));
        Ok(())
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in roots {
        visit(r, &by_name, &mut seen, &mut out)?;
    }
    Ok(out)
}

/// An initramfs: a cpio archive in the kernel's "newc" format, uncompressed.
pub struct Cpio {
    out: Vec<u8>,
    ino: u32,
    dirs: BTreeSet<String>,
    /// The shared libraries already in it.
    libs: BTreeSet<String>,
}

impl Cpio {
    pub fn new() -> Cpio {
        Cpio {
            out: Vec::new(),
            ino: 1,
            dirs: BTreeSet::new(),
            libs: BTreeSet::new(),
        }
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        let name = name.trim_start_matches('/');
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            1, // nlink
            0, // mtime
            data.len() as u32,
            0, // devmajor
            0, // devminor
            0, // rdevmajor
            0, // rdevminor
            name.len() as u32 + 1,
            0, // check
        ];
        self.ino += 1;
        self.out.extend(b"070701");
        for f in fields {
            self.out.extend(format!("{f:08x}").as_bytes());
        }
        self.out.extend(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// The folders leading to `path` (each once).
    fn parents(&mut self, path: &str) {
        let mut at = String::new();
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        for p in &parts[..parts.len() - 1] {
            at = format!("{at}/{p}");
            if self.dirs.insert(at.clone()) {
                self.entry(&at, 0o040_755, &[]);
            }
        }
    }

    pub fn dir(&mut self, path: &str) {
        self.parents(&format!("{path}/x"));
    }

    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) {
        self.parents(path);
        self.entry(path, 0o100_000 | mode, data);
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.parents(path);
        self.entry(path, 0o120_777, target.as_bytes());
    }

    /// A program at `path` with the shared libraries and the loader `ldd` names for it, at
    /// their own paths.
    pub fn program(&mut self, path: &str, binary: &Path) -> Result<(), String> {
        let data = without_debug_info(binary)?;
        self.file(path, 0o755, &data);
        let ldd = run_ok(Command::new("ldd").arg(binary))?;
        for lib in ldd
            .lines()
            .filter_map(|l| l.split_whitespace().find(|w| w.starts_with('/')))
        {
            if !self.libs.insert(lib.to_owned()) {
                continue;
            }
            // Libraries are often symlinks: the guest gets the file's bytes at the name ldd uses.
            let bytes = std::fs::read(lib).map_err(|e| format!("{lib}: {e}"))?;
            self.file(lib, 0o755, &bytes);
        }
        Ok(())
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        self.out
    }
}

/// A binary's bytes without its debug information (a debug build of `taxdisk` is ten times
/// larger with it, and the guest holds its initramfs in memory); as it is where `strip` is
/// missing.
fn without_debug_info(binary: &Path) -> Result<Vec<u8>, String> {
    let out = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let stripped = Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(out.path())
        .arg(binary)
        .status()
        .is_ok_and(|s| s.success());
    let from = if stripped { out.path() } else { binary };
    std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))
}
