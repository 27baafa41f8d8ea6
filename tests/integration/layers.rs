//! The layer rules of `src/lib.rs`, read off the sources: a module imports only layers below
//! its own, nothing below `cli` knows about the terminal or the command line.

use std::fs;
use std::path::{Path, PathBuf};

/// The library's layers, lowest first; modules on one line are peers and may not import each
/// other. `main` is the binary.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["model", "files"],
    &["config"],
    &["net"],
    &["protocol"],
    &["crawl", "contacts", "instances", "attribution"],
    &["metrics"],
    &["store"],
    &["query"],
    &["report", "export"],
    &["pipeline"],
    &["cli"],
    &["main"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/net/http.rs` → `net`).
fn owner(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel
        .components()
        .next()
        .expect("a component")
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::X` named in `text` (outside comments), with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().last();
            rest = &rest[i + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `whohosts_crate::` or the like
            }
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            // `crate::Error` and `crate::Result` are the error module's, re-exported at the root.
            let name = if name == "Error" || name == "Result" {
                "error".to_string()
            } else {
                name
            };
            found.push((n + 1, name));
        }
    }
    found
}

fn files() -> (PathBuf, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    (src, files)
}

#[test]
fn no_module_imports_a_layer_above_or_beside_it() {
    let (src, files) = files();
    let mut wrong = Vec::new();
    for file in &files {
        let own = owner(&src, file);
        if own == "lib" {
            continue;
        }
        let own_rank = rank(&own).unwrap_or_else(|| panic!("{} is in no layer of src/lib.rs", file.display()));
        let text = fs::read_to_string(file).expect("readable");
        for (line, target) in crate_paths(&text) {
            if target == own {
                continue;
            }
            match rank(&target) {
                Some(r) if r < own_rank => {}
                _ => wrong.push(format!("{}:{line}: {own} uses crate::{target}", file.display())),
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn only_the_command_line_knows_clap_and_the_terminal() {
    let (src, files) = files();
    let mut wrong = Vec::new();
    for file in &files {
        let own = owner(&src, file);
        if own == "cli" || own == "main" {
            continue;
        }
        let text = fs::read_to_string(file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in [
                "clap::",
                "indicatif",
                "is_terminal",
                "println!",
                "eprintln!",
                "print!(",
                "eprint!(",
            ] {
                if code.contains(word) {
                    wrong.push(format!("{}:{}: {word}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "command-line or terminal code below cli:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_test_sees_an_upward_import() {
    // The check itself: a model module naming the store is caught, a comment is not.
    let found =
        crate_paths("use crate::store::Store; // crate::cli in a comment\nlet x = whohosts_crate::y;\ncrate::Error");
    assert_eq!(found, vec![(1, "store".to_string()), (3, "error".to_string())]);
    assert!(rank("store") > rank("model"));
    assert_eq!(rank("crawl"), rank("attribution"));
}
