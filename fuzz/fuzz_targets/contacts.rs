//! Fuzz contact sources: any bytes, written to a file, are told apart (vCard, CSV, text,
//! mbox, message) and read, or refused with one error. Never a panic; every address kept is
//! one its printed form gives back; every malformed entry names a line of the file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use whohosts::model::contact::{Address, Protocol};

/// One file per fuzzing process, rewritten for each input.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| std::env::temp_dir().join(format!("whohosts-fuzz-contacts-{}", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("the scratch file is writable");
    let book = whohosts::contacts::read(std::slice::from_ref(path));
    assert_eq!(book.sources.len() + book.refused.len(), 1);
    for a in book.addresses.keys() {
        let again = match a.protocol() {
            Protocol::Xmpp => Address::xmpp(&a.to_string()),
            _ => Address::classify(&a.to_string()),
        };
        assert_eq!(again.as_ref(), Ok(a), "{a}");
    }
    let lines = data.split(|&b| b == b'\n').count() as u64;
    for m in &book.malformed {
        assert!(m.line >= 1 && m.line <= lines, "line {} of {lines}", m.line);
    }
});
