//! The origin rule (DESIGN §6): a follow list is read only on the origin of its account's
//! actor. A hostile seed server must not make whohosts read, and credit to its seed, the list
//! of an account on another server (one that may have opted out).

use serde_json::Value;
use whohosts_sim::world::{Fault, Instance, Software};

use crate::common::*;

/// `me@home.example` (with `fault`, REST or ActivityPub only) follows one account;
/// `me@mirror.home.example` follows five others: the list a hostile home would steal.
fn env(fault: Fault, rest: bool) -> Env {
    let mut home = match rest {
        true => inst("home.example", Software::Mastodon, "hetzner"),
        false => ap_only("home.example", "hetzner"),
    };
    home.fault = fault;
    let mirror: Instance = inst("mirror.home.example", Software::Mastodon, "ovh");
    let mut accounts = crowd("far.example", 6);
    let follows = handles_of(&accounts);
    accounts.push(acct("me@home.example", &follows[..1]));
    accounts.push(acct("me@mirror.home.example", &follows[1..]));
    let far = inst("far.example", Software::Mastodon, "amazon");
    Env::start(world(vec![home, mirror, far], accounts))
}

fn following(env: &Env) -> Value {
    let (snap, code) = env.crawl(&["me@home.example"]);
    assert_eq!(code, 0, "{snap}");
    seed(&snap, "me@home.example")["following"].clone()
}

fn assert_refused_foreign(list: &Value, reason: &str) {
    assert_eq!(list["status"]["state"], "refused", "{list}");
    assert_eq!(list["status"]["kind"], "foreign_page", "{list}");
    assert_eq!(list["accounts"], serde_json::json!([]), "{list}");
    let got = list["status"]["reason"].as_str().unwrap_or_default();
    assert!(got.contains(reason), "{got}");
}

#[test]
fn an_actor_collection_on_another_origin_is_not_read() {
    let env = env(Fault::ForeignCollections, false);
    let list = following(&env);
    let port = env.sim.http_port;
    assert_refused_foreign(
        &list,
        &format!(
            "the following collection http://mirror.home.example:{port}/users/me/following is on another origin than the actor http://home.example:{port}/users/me: not read"
        ),
    );
    let asked = env.paths("mirror.home.example");
    assert!(!asked.iter().any(|p| p.contains("/following")), "{asked:?}");
}

#[test]
fn a_list_redirected_to_another_origin_is_not_read() {
    for (rest, source, what) in [
        (true, "mastodon-api", "the list page was redirected to"),
        (false, "activitypub", "the collection was redirected to"),
    ] {
        let env = env(Fault::RedirectPagesForeign, rest);
        let list = following(&env);
        assert_eq!(list["source"], source, "{list}");
        let port = env.sim.http_port;
        let to = match rest {
            true => "/api/v1/accounts/100006/following?limit=80",
            false => "/users/me/following",
        };
        assert_refused_foreign(
            &list,
            &format!(
                "{what} http://mirror.home.example:{port}{to}, on another origin than the account's (http://home.example:{port}): not read"
            ),
        );
    }
}

/// wfx.example's WebFinger answers `@seed@wfx.example` with victim.example's `bob` as `self`
/// and the asked handle as `subject`; victim.example also has a local `seed`.
#[test]
fn a_webfinger_claim_on_another_server_is_refused_and_shadows_nothing() {
    let mut wfx = inst("wfx.example", Software::Mastodon, "ovh");
    wfx.webfinger_claims = Some("bob@victim.example".into());
    let victim = inst("victim.example", Software::Mastodon, "hetzner");
    let mut accounts = crowd("far.example", 6);
    let far = handles_of(&accounts);
    accounts.push(acct("bob@victim.example", &far[..2]));
    accounts.push(acct("seed@victim.example", &far[2..]));
    let far_inst = inst("far.example", Software::Mastodon, "amazon");
    let env = Env::start(world(vec![wfx, victim, far_inst], accounts));
    let (snap, code) = env.crawl(&["seed@wfx.example", "bob@victim.example"]);
    assert_eq!(code, 1, "{snap}");
    let port = env.sim.http_port;
    let claim = seed(&snap, "seed@wfx.example");
    assert_eq!(claim["error"]["kind"], "refused-by-policy", "{claim}");
    assert_eq!(
        claim["error"]["message"],
        format!(
            "refused http://victim.example:{port}/.well-known/webfinger: @seed@wfx.example names an actor on \
             victim.example, but victim.example names another account for it: not crawled"
        )
    );
    assert_eq!(claim["following"], Value::Null, "{claim}");
    let bob = seed(&snap, "bob@victim.example");
    assert_eq!(bob["duplicate_of"], Value::Null, "{bob}");
    assert_eq!(listed(&bob["following"]), expected(&far[..2]));
}

/// `seed@honest.example` follows three accounts of liar.example, whose actor documents claim
/// to be on mirror.liar.example.
#[test]
fn an_actor_claiming_another_origin_is_counted_where_it_was_fetched() {
    let mut liar = ap_only("liar.example", "ovh");
    liar.fault = Fault::ForeignActorIds;
    let mut accounts = crowd("liar.example", 3);
    let follows = handles_of(&accounts);
    accounts.push(acct("seed@honest.example", &follows));
    let honest = ap_only("honest.example", "hetzner");
    let env = Env::start(world(vec![honest, liar], accounts));
    let (snap, code) = env.crawl(&["seed@honest.example"]);
    assert_eq!(code, 0, "{snap}");
    let port = env.sim.http_port;
    let list = &seed(&snap, "seed@honest.example")["following"];
    let got = list["accounts"].as_array().unwrap();
    assert_eq!(got.len(), 3, "{list}");
    for (i, a) in got.iter().enumerate() {
        let uri = format!("http://liar.example:{port}/users/user{i}");
        assert_eq!(
            (a["actor_uri"].as_str(), a["server"].as_str()),
            (Some(uri.as_str()), Some("liar.example"))
        );
        assert_eq!(a["handle"], Value::Null, "{a}");
        assert_eq!(
            a["fetch_error"],
            format!(
                "{uri}: malformed response: the document claims another origin (id http://mirror.liar.example:{port}/users/user{i})"
            )
        );
    }
    let instances = &snap["crawl"]["instances"];
    assert_eq!(instances["liar.example"]["accounts"], 3, "{instances}");
    assert_eq!(instances["mirror.liar.example"], Value::Null, "{instances}");
}

/// seed@pe.example's collection embeds far.example's actors with forged names: only their
/// URIs are kept, and their real details read from far.example.
#[test]
fn embedded_actors_of_another_origin_are_read_from_their_own_server() {
    let mut pe = inst("pe.example", Software::Pleroma, "ovh");
    pe.api = Some(whohosts_sim::world::Api::Closed);
    pe.embed_items = true;
    pe.fault = Fault::ForgedEmbeds;
    let mut accounts = crowd("far.example", 3);
    let follows = handles_of(&accounts);
    accounts.push(acct("local@pe.example", &[]));
    let mut all = follows.clone();
    all.push("local@pe.example".into());
    accounts.push(acct("seed@pe.example", &all));
    let far = inst("far.example", Software::Mastodon, "amazon");
    let env = Env::start(world(vec![pe, far], accounts));
    let (snap, code) = env.crawl(&["seed@pe.example"]);
    assert_eq!(code, 0, "{snap}");
    let list = &seed(&snap, "seed@pe.example")["following"];
    let names: Vec<(&str, &str)> = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["handle"].as_str().unwrap_or("-"),
                a["display_name"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    // The instance's own (embedded) account is taken as it is, forged or not: it speaks for itself.
    assert_eq!(
        names,
        [
            ("@user0@far.example", "user0"),
            ("@user1@far.example", "user1"),
            ("@user2@far.example", "user2"),
            ("@forged3@pe.example", "Forged")
        ]
    );
    let fetched = env
        .paths("far.example")
        .iter()
        .filter(|p| p.starts_with("/users/user"))
        .count();
    assert_eq!(fetched, 3);
}

/// A broken first REST page, then an actor answering 404: the seed fails with the REST error
/// (the real fault), the fallback's beside it, not "no such account".
#[test]
fn a_broken_rest_page_is_reported_when_the_fallback_fails_too() {
    let mut broken = inst("broken.example", Software::Mastodon, "ovh");
    broken.fault = Fault::MalformedRestLists;
    let mut accounts = crowd("far.example", 2);
    let follows = handles_of(&accounts);
    accounts.push(acct("seed@broken.example", &follows));
    let far = inst("far.example", Software::Mastodon, "amazon");
    let env = Env::start(world(vec![broken, far], accounts));
    let (snap, code) = env.crawl(&["seed@broken.example"]);
    assert_eq!(code, 1, "{snap}");
    let port = env.sim.http_port;
    let e = &seed(&snap, "seed@broken.example")["error"];
    assert_eq!(e["kind"], "malformed", "{e}");
    let message = e["message"].as_str().unwrap_or_default();
    let rest = format!(
        "http://broken.example:{port}/api/v1/accounts/100002/following?limit=80: malformed response: expected a JSON array of accounts: "
    );
    let ap = format!(" (the ActivityPub fallback failed too: http://broken.example:{port}/users/seed: HTTP 404)");
    assert!(message.starts_with(&rest) && message.ends_with(&ap), "{message}");
}
