//! The crate's layering, read from the source: every `crate::` and `super::` path outside
//! `#[cfg(test)]` code — `use` lines and inline paths alike (an inline
//! `crate::sim::TimelineRow` once held an import circle together) — becomes an edge
//! between top-level modules, and
//!
//! - no two modules may import each other, directly or through others (no cycle), also
//!   among the files of `model/`;
//! - `model` may import only `engine`, `diagnostics` and `profiles`;
//! - `engine` imports nothing of the crate;
//! - `study` and `report` never import each other (both go through `results`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file's module path, e.g. `src/sim/cpu.rs` → `["sim", "cpu"]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The source without comments, string literals and `#[cfg(test)]` items, so only paths
/// the compiled library uses remain.
fn code_outside_tests(text: &str) -> String {
    // Comments and strings first (a `//` inside a string is rare here and harmless).
    let mut code = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            code.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // a char literal such as '{' must not unbalance the braces below
            code.push_str("' '");
            i += 3;
        } else {
            code.push(b[i] as char);
            i += 1;
        }
    }
    // Then every item behind #[cfg(test)]: `mod x;`, `mod x { … }`, `fn …{ … }`.
    let mut out = String::with_capacity(code.len());
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let semi = after.find(';').unwrap_or(after.len());
        let brace = after.find('{').unwrap_or(after.len());
        if semi < brace {
            rest = &after[semi + 1..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (k, ch) in after.char_indices().skip(brace) {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Files behind `#[cfg(test)] mod x;` (e.g. `model/ksm/tests.rs`): test-only code.
fn test_only_files(file: &Path, text: &str) -> Vec<PathBuf> {
    let dir = if file
        .file_name()
        .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
    {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    };
    let mut v = vec![];
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = rest[at + "#[cfg(test)]".len()..].trim_start();
        if let Some(m) = after.strip_prefix("mod ")
            && let Some(end) = m.find(';')
            && !m[..end].contains('{')
        {
            let name = m[..end].trim();
            v.push(dir.join(format!("{name}.rs")));
            v.push(dir.join(name).join("mod.rs"));
        }
        rest = &rest[at + 1..];
    }
    v
}

/// Every module path a file's code names: `crate::a::b` and `super::…` (resolved against
/// the file's own module), with `use crate::{a::x, b}` groups expanded.
fn referenced_paths(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut out = vec![];
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if start > 0 && code[..start].ends_with(|c: char| ident(c) || c == ':') {
            continue; // `$crate::`, or the tail of a longer path such as `super::super::`
        }
        let tail = &code[start..];
        // Resolve the leading `crate` / run of `super`s.
        let (mut base, mut tail) = if let Some(t) = tail.strip_prefix("crate::") {
            (vec![], t)
        } else {
            // `a/b.rs` and `a/b/mod.rs` are both module a::b, whose `super` is `a`.
            let mut base = module.to_vec();
            let mut t = tail;
            while let Some(r) = t.strip_prefix("super::") {
                base.pop();
                t = r;
            }
            (base, t)
        };
        if let Some(group) = tail.strip_prefix('{') {
            // `use crate::{a::x, b::{y, z}}`: the first segment of each entry.
            let end = group.find('}').unwrap_or(group.len());
            for entry in group[..end].split(',') {
                let first: String = entry.trim().chars().take_while(|&c| ident(c)).collect();
                if !first.is_empty() {
                    let mut p = base.clone();
                    p.push(first);
                    out.push(p);
                }
            }
            continue;
        }
        let mut path = std::mem::take(&mut base);
        loop {
            let seg: String = tail.chars().take_while(|&c| ident(c)).collect();
            if seg.is_empty() {
                break;
            }
            tail = &tail[seg.len()..];
            path.push(seg);
            match tail.strip_prefix("::") {
                Some(t) if t.starts_with(ident) => tail = t,
                _ => break,
            }
        }
        out.push(path);
    }
    out
}

/// Edges between top-level modules, and between the files of `model/` (as
/// `model::NAME`), found in the crate under `src`.
fn crate_edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = vec![];
    let mut stack = vec![src.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut test_only = BTreeSet::new();
    for f in &files {
        test_only.extend(test_only_files(f, &std::fs::read_to_string(f).unwrap()));
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files.iter().filter(|f| !test_only.contains(*f)) {
        let module = module_path(src, f);
        if module.is_empty() || module == ["main"] {
            continue; // lib.rs declares the modules; main.rs is the binary
        }
        let code = code_outside_tests(&std::fs::read_to_string(f).unwrap());
        let from = node(&module);
        for target in referenced_paths(&module, &code) {
            if target.is_empty() {
                continue;
            }
            let to = node(&target);
            if to != from && !(from.starts_with(&format!("{to}::"))) {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// The graph node of a module path: its top-level module, or `model::FILE` inside model.
fn node(path: &[String]) -> String {
    match path {
        [m, sub, ..] if m == "model" => format!("model::{sub}"),
        [m, ..] => m.clone(),
        [] => String::new(),
    }
}

fn top(n: &str) -> &str {
    n.split("::").next().unwrap_or(n)
}

/// A cycle in the graph, if any (as the list of nodes around it).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(1) => {
                let at = path.iter().position(|p| p == n).unwrap();
                let mut c = path[at..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if let Some(c) = visit(n, edges, &mut state, &mut vec![]) {
            return Some(c);
        }
    }
    None
}

/// Every broken rule, as one message each.
fn violations(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut v = vec![];
    // Cycles between top-level modules (model's files collapsed into `model`).
    let mut tops: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in edges {
        for to in tos {
            if top(from) != top(to) {
                tops.entry(top(from).into())
                    .or_default()
                    .insert(top(to).into());
            }
        }
    }
    if let Some(c) = find_cycle(&tops) {
        v.push(format!("import cycle between modules: {}", c.join(" → ")));
    }
    // Cycles among model's files.
    let model: BTreeMap<String, BTreeSet<String>> = edges
        .iter()
        .filter(|(f, _)| top(f) == "model")
        .map(|(f, tos)| {
            let inner = tos.iter().filter(|t| top(t) == "model").cloned().collect();
            (f.clone(), inner)
        })
        .collect();
    if let Some(c) = find_cycle(&model) {
        v.push(format!("import cycle inside model: {}", c.join(" → ")));
    }
    for (from, tos) in edges {
        for to in tos {
            let (f, t) = (top(from), top(to));
            if f == "model" && t != "model" && !["engine", "diagnostics", "profiles"].contains(&t) {
                v.push(format!(
                    "{from} imports {to}: model may import only engine, diagnostics, profiles"
                ));
            }
            if f == "engine" {
                v.push(format!("engine imports {to}: the engine imports nothing"));
            }
            if (f == "study" && t == "report") || (f == "report" && t == "study") {
                v.push(format!(
                    "{from} imports {to}: study and report go through results"
                ));
            }
        }
    }
    v
}

#[test]
fn the_crate_is_layered() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = crate_edges(&src);
    // The checker must see the crate at all: these edges exist by design.
    assert!(edges["sim"].contains("model::placement"), "{edges:?}");
    assert!(edges["cli"].contains("study"), "{edges:?}");
    if std::env::var_os("CAPSIM_PRINT_LAYERS").is_some() {
        for (from, tos) in &edges {
            eprintln!(
                "{from} -> {}",
                tos.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let v = violations(&edges);
    assert!(v.is_empty(), "layering broken:\n{}", v.join("\n"));
}

/// The checker finds what it is meant to find: an inline upward path, a `use` group, a
/// `super::` path, and ignores test code and comments.
#[test]
fn the_checker_catches_violations() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |p: &str, t: &str| {
        let f = src.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, t).unwrap();
    };
    write(
        "lib.rs",
        "pub mod engine; pub mod metrics; pub mod model; pub mod sim;",
    );
    write(
        "engine.rs",
        "// crate::sim in a comment is not an edge\npub struct T;",
    );
    write("model/mod.rs", "pub mod host; pub mod slo;");
    write("model/host.rs", "use super::slo::Slo;");
    // model → metrics: an upward edge; and model::slo → model::host closes a cycle.
    write(
        "model/slo.rs",
        "pub fn f(m: &crate::metrics::RunMetrics) { let _ = super::host::X; }\n#[cfg(test)]\nmod tests { use crate::sim::World; }",
    );
    write("metrics.rs", "use crate::{engine::T, sim::Row};");
    write("sim.rs", "use crate::metrics::RunMetrics;");
    let edges = crate_edges(src);
    assert!(!edges.contains_key("engine"), "{edges:?}");
    assert!(edges["model::slo"].contains("metrics"));
    assert!(!edges["model::slo"].contains("sim"), "test code is ignored");
    assert_eq!(
        edges["metrics"],
        ["engine", "sim"].map(String::from).into_iter().collect()
    );
    let v = violations(&edges);
    let text = v.join("\n");
    assert!(text.contains("import cycle between modules"), "{text}");
    assert!(text.contains("import cycle inside model"), "{text}");
    assert!(text.contains("model::slo imports metrics"), "{text}");
}
