//! Fuzz NodeInfo reading: the discovery document (the link picked is a 2.x schema) and the
//! document itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Some((version, href)) = whohosts::protocol::nodeinfo::best_link(&v) {
        assert!(version.starts_with("2."), "{version:?}");
        let links = v["links"].as_array().expect("the link came from links");
        assert!(links.iter().any(|l| l["href"].as_str() == Some(href.as_str())));
    }
    let n = whohosts::protocol::nodeinfo::parse("2.0", &v);
    if let Some(s) = &n.software {
        assert_eq!(s, &s.to_ascii_lowercase());
    }
});
