//! Fuzz the handle parser: any string a user types must parse or be refused, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(h) = s.parse::<whohosts::model::handle::Handle>() {
            // A parsed handle prints and re-parses to itself.
            let again: whohosts::model::handle::Handle = h.to_string().parse().expect("a printed handle parses");
            assert_eq!(again, h);
        }
    }
});
