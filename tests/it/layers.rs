//! The layering holds: every `crate::` path in `src/` points to a lower layer
//! (or the module's own), stages never name each other, and nothing below
//! the app uses the binary-edge crates. Reads the sources, so a new import
//! in the wrong direction fails here with the file and the path.

use std::path::{Path, PathBuf};

/// Layer of each top-level module of `src/` (see `src/lib.rs`).
const LAYERS: &[(&str, u8)] = &[
    ("core", 0),
    ("models", 1),
    ("capture", 1),
    ("pipeline", 2),
    ("detect", 3),
    ("track", 3),
    ("verify", 3),
    ("emotion", 3),
    ("scene", 3),
    ("attention", 3),
    ("app", 4),
];

/// Crates only the app layer (and `main`) may use.
const APP_ONLY_CRATES: &[&str] = &["clap", "anyhow", "indicatif", "ctrlc"];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its test module and comments.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level modules named by `crate::X` paths, including inside
/// `use crate::{a::.., b::..}` groups.
fn crate_refs(code: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                refs.push(name);
            }
        } else {
            refs.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    refs
}

fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn imports_point_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let top = top_module(&src, file);
        if top == "lib" || top == "main" {
            continue;
        }
        let own = layer(&top).unwrap_or_else(|| panic!("{top} has no layer in LAYERS"));
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for target in crate_refs(&code) {
            if target == top || target.is_empty() {
                continue;
            }
            let Some(theirs) = layer(&target) else {
                continue;
            };
            if theirs >= own {
                wrong.push(format!(
                    "{}: `crate::{target}` (layer {theirs}) from {top} (layer {own})",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
        if own < 4 {
            for krate in APP_ONLY_CRATES {
                if code.contains(&format!("{krate}::")) {
                    wrong.push(format!(
                        "{}: uses `{krate}`, which only the app may",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let module = name.trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue;
        }
        assert!(layer(module).is_some(), "src/{name} has no layer");
    }
}

#[test]
fn the_checker_sees_groups_and_paths() {
    let refs = crate_refs("use crate::{core::frame::Frame, app::x};\nlet a = crate::verify::f();");
    assert_eq!(refs, vec!["core", "app", "verify"]);
    assert_eq!(
        code_of("a // crate::app\n#[cfg(test)]\nuse crate::app;"),
        "a "
    );
}
