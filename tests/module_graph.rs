//! No import circle between the modules of a crate (issue 19): for every crate of the
//! workspace, each source file is a module, and an edge runs from a module to each module a
//! `crate::`/`super::`/`self::` path in it names (`use` trees and paths in code, test modules
//! left out). A module and the modules inside it are one unit, as Rust's own `mod` declarations
//! and re-exports make them; any other cycle (two siblings naming each other, or a longer
//! ring) is reported with its files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

type Module = Vec<String>;

/// The crates' source roots, relative to the workspace.
const CRATES: [&str; 5] = [
    "protocol/src",
    "device-sim/src",
    "host/src",
    "src",
    "i18n/src",
];

/// Every `.rs` file under `root` as its module path (`a/b.rs` and `a/b/mod.rs` are `a::b`);
/// `bin/` holds other crate roots and is left out.
fn modules(root: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<Module, PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p != root.join("bin") {
                    walk(&p, root, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).unwrap().with_extension("");
                let mut m: Module = rel.iter().map(|s| s.to_string_lossy().into()).collect();
                if matches!(m.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    m.pop();
                }
                out.insert(m, p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The `crate::`/`super::`/`self::` paths of one file, as written.
#[derive(Default)]
struct Paths(Vec<Vec<String>>);

fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut v = prefix.clone();
            v.push(n.ident.to_string());
            out.push(v);
        }
        syn::UseTree::Rename(r) => {
            let mut v = prefix.clone();
            v.push(r.ident.to_string());
            out.push(v);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten(t, prefix, out);
            }
        }
    }
}

fn is_test_module(m: &syn::ItemMod) -> bool {
    m.attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

impl<'a> Visit<'a> for Paths {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        if !is_test_module(m) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_use(&mut self, u: &'a syn::ItemUse) {
        flatten(&u.tree, &mut Vec::new(), &mut self.0);
    }

    fn visit_path(&mut self, p: &'a syn::Path) {
        self.0
            .push(p.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, p);
    }
}

/// The module `path` names from `here`, the longest prefix that is a module.
fn target(here: &Module, path: &[String], mods: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut full: Module = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => here.clone(),
        Some("super") => here.clone(),
        _ => return None,
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        full.pop();
        while rest.first().is_some_and(|s| s == "super") {
            full.pop();
            rest = &rest[1..];
        }
    }
    full.extend(rest.iter().cloned());
    (1..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|m| mods.contains_key(m))
}

/// Edges between modules neither of which holds the other.
fn graph(
    root: &Path,
) -> (
    BTreeMap<Module, BTreeSet<Module>>,
    BTreeMap<Module, PathBuf>,
) {
    let mods = modules(root);
    let mut g: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (m, file) in &mods {
        let text = std::fs::read_to_string(file).unwrap();
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let mut paths = Paths::default();
        paths.visit_file(&ast);
        let edges = g.entry(m.clone()).or_default();
        for p in &paths.0 {
            if let Some(t) = target(m, p, &mods)
                && !t.starts_with(m)
                && !m.starts_with(&t)
            {
                edges.insert(t);
            }
        }
    }
    (g, mods)
}

/// Strongly connected components of more than one module (Tarjan).
fn cycles(g: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Tarjan<'g> {
        g: &'g BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'g Module, usize>,
        low: BTreeMap<&'g Module, usize>,
        stack: Vec<&'g Module>,
        on: BTreeSet<&'g Module>,
        out: Vec<Vec<Module>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut edges = 0;
    for c in CRATES {
        let (g, mods) = graph(&ws.join(c));
        edges += g.values().map(BTreeSet::len).sum::<usize>();
        for comp in cycles(&g) {
            let files: Vec<String> = comp
                .iter()
                .map(|m| mods[m].strip_prefix(ws).unwrap().display().to_string())
                .collect();
            found.push(files.join(" <-> "));
        }
    }
    // The graph is not empty: the walk found the crates' imports.
    assert!(
        edges > 200,
        "only {edges} edges between modules: the walk is broken"
    );
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn a_circle_is_found() {
    // Two sibling modules naming each other, one through a `use` group and one in code.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rs"), "mod a;\nmod b;\nmod c;\n").unwrap();
    std::fs::write(dir.path().join("a.rs"), "use super::{b, c::X};\n").unwrap();
    std::fs::write(
        dir.path().join("b.rs"),
        "fn f() { crate::a::g(); }\n#[cfg(test)]\nmod tests { use crate::c::Y; }\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("c.rs"), "pub struct X;\n").unwrap();
    let (g, _) = graph(dir.path());
    let comps = cycles(&g);
    assert_eq!(comps.len(), 1, "{comps:?}");
    let mut names: Vec<String> = comps[0].iter().map(|m| m.join("::")).collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    // The test module's `use crate::c` is not an edge of b.
    assert!(!g[&vec!["b".to_string()]].contains(&vec!["c".to_string()]));
}
