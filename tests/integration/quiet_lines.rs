//! What stderr repeats of what servers send, and what `lookup` builds: a seed's failure line
//! never carries a hostile redirect's credentials or tokens; `lookup` needs no HTTP client.

use whohosts_sim::world::{Fault, Software, SECRET_REDIRECT};

use crate::common::*;

/// A seed whose WebFinger redirects to a link-local URL carrying a user name, a password and
/// a query token: its failure line on stderr names the origin and kind of the URL, never
/// what was in it (as the -vv log does, through the same scrubbing).
#[test]
fn a_seeds_failure_line_does_not_repeat_a_hostile_redirect() {
    let mut sly = inst("sly.example", Software::Mastodon, "ovh");
    sly.fault = Fault::RedirectSecret;
    let env = Env::start(world(vec![sly], vec![acct("a@sly.example", &[])]));
    let out = env.run(&["crawl", "a@sly.example"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for secret in ["hunter2", "s3cr3t-t0ken", "admin", "meta-data", "token="] {
        assert!(!err.contains(secret), "{secret:?} on stderr: {err}");
    }
    assert!(SECRET_REDIRECT.contains("hunter2"));
    assert_eq!(
        err,
        "whohosts: @a@sly.example: refused http://169.254.169.254/<actor-or-page>: redirect to a link-local address \
         169.254.169.254 (network.allow_private_addresses does not allow it)\n\
         whohosts: no seed could be read: snapshot 1 is stored as failed (no baseline for trends, comparisons or \
         rules)\n"
    );
}

/// `lookup` resolves and attributes; it fetches nothing, so it builds no HTTP client: a
/// client setting it cannot use (root certificates that are no certificates) does not stop it.
#[test]
fn lookup_builds_no_http_client() {
    let mut env = Env::start(world(vec![inst("a.example", Software::Mastodon, "ovh")], vec![]));
    let bad = env.dir.path().join("bad-roots.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    env.config.network.extra_root_certificates = vec![bad.to_string_lossy().into_owned()];
    env.write_config();
    let out = env.run(&["lookup", "a.example"]);
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned()),
        (Some(0), String::new())
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("a.example"));
    // A command that fetches still refuses the setting.
    let out = env.run(&["crawl", "x@a.example"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not PEM certificates"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
