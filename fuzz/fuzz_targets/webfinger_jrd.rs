//! Fuzz the WebFinger parser (JRD, or XRD when the body starts with `<`): never panic, and a
//! JRD's subject is exactly the document's `subject` string.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let url = url::Url::parse("https://a.example/.well-known/webfinger").expect("a valid URL");
    let Ok(d) = whohosts::protocol::webfinger::parse_descriptor(&url, data) else {
        return;
    };
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        assert_eq!(d.subject.as_deref(), v.get("subject").and_then(|s| s.as_str()));
        if let Some(href) = &d.self_href {
            let links = v["links"].as_array().expect("a self link came from links");
            assert!(links.iter().any(|l| l["href"].as_str() == Some(href.as_str())));
        }
    }
});
