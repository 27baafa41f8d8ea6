//! Fuzz the host-meta XRD reader: never panic, and a template found was written in the
//! document as an `lrdd` link's `template` attribute.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(t) = whohosts::protocol::webfinger::lrdd_template(&text) {
        assert!(text.contains("lrdd") && text.contains("template"), "{t:?} from nowhere");
    }
    let url = url::Url::parse("https://a.example/x").expect("a valid URL");
    let _ = whohosts::protocol::webfinger::parse_descriptor(&url, text.as_bytes());
});
