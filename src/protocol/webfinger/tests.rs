//! Unit tests of WebFinger documents: JRD and XRD, host-meta, recorded answers, hostile bodies.

use super::*;

#[test]
fn picks_the_activitypub_self_link() {
    let url = Url::parse("https://a.example/.well-known/webfinger").unwrap();
    let body = br#"{"subject":"acct:bob@a.example","links":[
        {"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://a.example/@bob"},
        {"rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"","href":"https://b.example/users/bob"}]}"#;
    let d = parse_descriptor(&url, body).unwrap();
    assert_eq!(d.self_href.as_deref(), Some("https://b.example/users/bob"));
    assert_eq!(d.subject.as_deref(), Some("acct:bob@a.example"));
}

#[test]
fn reads_xrd_webfinger_and_host_meta() {
    let url = Url::parse("https://a.example/x").unwrap();
    let xrd = r#"<?xml version="1.0"?><XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
      <Subject>acct:foo@a.example</Subject>
      <Link rel="self" type="application/activity+json" href="https://web.a.example/users/foo"/></XRD>"#;
    let d = parse_descriptor(&url, xrd.as_bytes()).unwrap();
    assert_eq!(d.self_href.as_deref(), Some("https://web.a.example/users/foo"));
    let hm = r#"<XRD><Link rel="lrdd" type="application/xrd+xml" template="https://a.example/x?uri={uri}"/>
      <Link rel="lrdd" type="application/jrd+json" template="https://a.example/.well-known/webfinger?resource={uri}"/></XRD>"#;
    assert_eq!(
        lrdd_template(hm).as_deref(),
        Some("https://a.example/.well-known/webfinger?resource={uri}")
    );
}

#[test]
fn namespaced_xrd_is_read() {
    let hm = r#"<?xml version="1.0"?><xrd:XRD xmlns:xrd="http://docs.oasis-open.org/ns/xri/xrd-1.0">
      <xrd:Link rel="lrdd" template="https://a.example/wf?r={uri}&amp;x=1"></xrd:Link></xrd:XRD>"#;
    assert_eq!(lrdd_template(hm).as_deref(), Some("https://a.example/wf?r={uri}&x=1"));
    let url = Url::parse("https://a.example/x").unwrap();
    let d = parse_descriptor(&url, b"<XRD><Subject>acct:a&#64;b.example</Subject></XRD>").unwrap();
    assert_eq!(d.subject.as_deref(), Some("acct:a@b.example"));
}

#[test]
fn the_recorded_host_meta_is_read() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/peertube/framatube.org_host_meta.xml"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (the shared fixtures must sit beside the crate as ../shared)"));
    assert_eq!(
        lrdd_template(&text).as_deref(),
        Some("http://framatube.org/main/xrd?uri={uri}")
    );
}

/// Regression: the hand-written parser rescanned the rest of the body for every `<Link`
/// (a 2 MiB body cost a minute of CPU). 4 MiB bodies, hostile in two ways, are read in
/// one pass.
#[test]
fn four_mib_hostile_xrd_is_read_in_one_pass() {
    let filler = r#"<Link rel="x" href="y"/>"#.repeat(4 * 1024 * 1024 / 24);
    let body = format!(r#"<XRD>{filler}<Link rel="lrdd" template="https://a.example/{{uri}}"/></XRD>"#);
    assert!(body.len() >= 4 * 1024 * 1024);
    assert_eq!(lrdd_template(&body).as_deref(), Some("https://a.example/{uri}"));
    let unclosed = format!("<XRD>{}", "<Link rel=\"lrdd\" ".repeat(4 * 1024 * 1024 / 17));
    assert_eq!(lrdd_template(&unclosed), None);
}

#[test]
fn a_bad_link_does_not_spoil_the_document() {
    let url = Url::parse("https://a.example/.well-known/webfinger").unwrap();
    let body = br#"{"subject":"acct:a@a.example","links":[{"rel":"self","type":7,"href":null},{"rel":"self","type":"application/activity+json","href":"https://a.example/u/a"}]}"#;
    let d = parse_descriptor(&url, body).unwrap();
    assert_eq!(d.self_href.as_deref(), Some("https://a.example/u/a"));
    let d = parse_descriptor(&url, br#"{"subject":"acct:a@a.example","links":"x"}"#).unwrap();
    assert_eq!(d.self_href, None);
}

/// Recorded answers give http(s) self links, the only kind `resolve` accepts: a
/// `javascript://host/x` href has a host but an opaque origin, which crashed the crawl.
#[test]
fn recorded_webfingers_give_http_self_links() {
    for f in [
        "fedidevs/webfinger/mastodon.json",
        "fedidevs/webfinger/lemmy.json",
        "peertube/peertube-webfinger.json",
    ] {
        let path = format!("{}/../shared/fixtures/real/{f}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (../shared must sit beside the crate)"));
        let url = Url::parse("https://x.example/.well-known/webfinger").unwrap();
        let href = parse_descriptor(&url, &body)
            .unwrap()
            .self_href
            .unwrap_or_else(|| panic!("{f}: no self link"));
        assert!(http_url(&href).is_some(), "{f}: {href}");
    }
    assert_eq!(http_url("javascript://evil.example/x"), None);
}

/// Found by fuzzing (webfinger_jrd): serde reads a struct from a JSON array by position,
/// so `["acct:x"]` passed as a JRD whose subject was `acct:x`.
#[test]
fn fuzz_a_jrd_that_is_an_array_is_malformed() {
    let url = Url::parse("https://a.example/.well-known/webfinger").unwrap();
    let e = parse_descriptor(&url, b"\r[\"\\\\]b+\"]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "https://a.example/.well-known/webfinger: malformed response: WebFinger JSON is an array, not an object"
    );
}
