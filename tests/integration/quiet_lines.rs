//! What stderr repeats of what servers send: a seed's failure line never carries a hostile
//! redirect's credentials or tokens.

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
        "whohosts: @a@sly.example: refused http://169.254.169.254/<actor-or-page>: 169.254.169.254 is link-local \
         (network.allow_private_addresses does not allow it)\n"
    );
}
