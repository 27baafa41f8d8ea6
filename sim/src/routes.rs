//! What each simulated server software answers: WebFinger, host-meta, NodeInfo, Mastodon
//! REST with `Link` paging, and ActivityPub actors and collections in the real variants
//! (Mastodon `page=N` pages of 12, Pleroma's embedded first page, Misskey `cursor=` pages of
//! 10, GoToSocial `max_id=`, totals-only Pixelfed, generic `items`), shaped after the
//! recorded responses in shared/fixtures.

use serde_json::{json, Value};

use super::server::{json as json_resp, respond, Body, Sim};
use super::world::{AccountSpec, Api, Fault, Instance, Software};
use hyper::Response;

const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
const ACTIVITY_JSON: &str = "application/activity+json; charset=utf-8";
const JRD: &str = "application/jrd+json; charset=utf-8";
const API_JSON: &str = "application/json; charset=utf-8";

fn not_found() -> Response<Body> {
    json_resp(404, API_JSON, &json!({"error": "Record not found"}))
}

fn query_param(path: &str, key: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Route one request to an instance (or one of its alias domains).
pub fn route(sim: &Sim, inst: &Instance, host: &str, path: &str, auth: Option<&str>) -> Response<Body> {
    let bare = path.split('?').next().unwrap_or(path);
    match bare {
        "/.well-known/webfinger" if inst.host_meta_only => respond(404, "text/plain", ""),
        "/.well-known/webfinger" | "/.well-known/lrdd" => webfinger(sim, inst, host, path),
        "/.well-known/host-meta" => host_meta(sim, inst, host),
        "/.well-known/nodeinfo" if !inst.no_nodeinfo => nodeinfo_links(sim, inst),
        "/nodeinfo/2.0" | "/nodeinfo/2.1" if !inst.no_nodeinfo => nodeinfo(sim, inst),
        _ if host != inst.domain => respond(404, "text/plain", "not found"),
        _ if bare.starts_with("/api/v1/") => api(sim, inst, bare, path, auth),
        _ if bare.starts_with("/users/") => activitypub(sim, inst, bare, path),
        _ => respond(404, "text/html", "<h1>Not found</h1>"),
    }
}

/// The accounts an instance hosts.
fn local_index(sim: &Sim, inst: &Instance, user: &str) -> Option<usize> {
    sim.by_handle
        .get(&format!("{}@{}", user.to_ascii_lowercase(), inst.domain))
        .copied()
}

fn split_handle(a: &AccountSpec) -> (&str, &str) {
    a.handle
        .split_once('@')
        .expect("world accounts are user@domain (checked on load)")
}

/// The instance of account `i`.
fn home(sim: &Sim, i: usize) -> &Instance {
    let (_, d) = split_handle(&sim.layout.world.accounts[i]);
    sim.layout
        .instance(d)
        .expect("accounts live on known instances (checked on load)")
}

/// The domain in the instance's handles (`LOCAL_DOMAIN`): a delegated or redirecting domain
/// when it has one.
fn handle_domain(inst: &Instance) -> &str {
    inst.handle_domain
        .as_deref()
        .or(inst.redirect_from.as_deref())
        .unwrap_or(&inst.domain)
}

/// The actor URI of account `i`.
pub fn actor_uri(sim: &Sim, i: usize) -> String {
    let inst = home(sim, i);
    let (user, _) = split_handle(&sim.layout.world.accounts[i]);
    match inst.software {
        Software::Misskey => format!("{}/users/9{i:07x}", sim.base(&inst.domain)),
        _ => format!("{}/users/{user}", sim.base(&inst.domain)),
    }
}

fn webfinger(sim: &Sim, inst: &Instance, host: &str, path: &str) -> Response<Body> {
    let Some(resource) = query_param(path, "resource") else {
        return respond(400, "text/plain", "resource missing");
    };
    let acct = resource.strip_prefix("acct:").unwrap_or(&resource);
    let Some((user, domain)) = acct.split_once('@') else {
        return respond(404, "text/plain", "");
    };
    let domain = domain.to_ascii_lowercase();
    if let Some(j) = claimed(sim, inst, &domain) {
        let subject = format!("acct:{user}@{domain}");
        let links = json!([{"rel": "self", "type": "application/activity+json", "href": actor_uri(sim, j)}]);
        return json_resp(200, JRD, &json!({"subject": subject, "links": links}));
    }
    if domain != inst.domain && domain != handle_domain(inst) || host != inst.domain && host != domain {
        return respond(404, "text/plain", "");
    }
    let Some(i) = local_index(sim, inst, user) else {
        return respond(404, "text/plain", "");
    };
    let (user, _) = split_handle(&sim.layout.world.accounts[i]);
    json_resp(
        200,
        JRD,
        &json!({
            "subject": format!("acct:{user}@{}", handle_domain(inst)),
            "aliases": [format!("{}/@{user}", sim.base(&inst.domain)), actor_uri(sim, i)],
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": format!("{}/@{user}", sim.base(&inst.domain))},
                {"rel": "self", "type": "application/activity+json", "href": actor_uri(sim, i)},
                {"rel": "http://ostatus.org/schema/1.0/subscribe", "template": format!("{}/authorize_interaction?uri={{uri}}", sim.base(&inst.domain))}
            ]
        }),
    )
}

/// The account whose actor a hostile instance claims for every handle of `domain`
/// ([`Instance::webfinger_claims`]).
fn claimed(sim: &Sim, inst: &Instance, domain: &str) -> Option<usize> {
    let target = inst.webfinger_claims.as_deref()?;
    (domain == inst.domain).then(|| sim.by_handle.get(&target.to_ascii_lowercase()).copied())?
}

fn host_meta(sim: &Sim, inst: &Instance, host: &str) -> Response<Body> {
    let path = if inst.host_meta_only {
        "/.well-known/lrdd"
    } else {
        "/.well-known/webfinger"
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Link rel=\"lrdd\" template=\"{}{path}?resource={{uri}}\"/>\n</XRD>\n",
        sim.base(host)
    );
    respond(200, "application/xrd+xml; charset=utf-8", body)
}

fn software_name(s: Software) -> &'static str {
    match s {
        Software::Mastodon => "mastodon",
        Software::Pleroma => "pleroma",
        Software::Misskey => "misskey",
        Software::Gotosocial => "gotosocial",
        Software::Pixelfed => "pixelfed",
        Software::Generic => "generic-ap",
    }
}

fn schema(inst: &Instance) -> &'static str {
    if inst.software == Software::Mastodon {
        "2.0"
    } else {
        "2.1"
    }
}

fn nodeinfo_links(sim: &Sim, inst: &Instance) -> Response<Body> {
    let v = schema(inst);
    json_resp(
        200,
        API_JSON,
        &json!({"links": [
            {"rel": format!("http://nodeinfo.diaspora.software/ns/schema/{v}"), "href": format!("{}/nodeinfo/{v}", sim.base(&inst.domain))}
        ]}),
    )
}

fn local_count(sim: &Sim, inst: &Instance) -> u64 {
    let suffix = format!("@{}", inst.domain);
    sim.layout
        .world
        .accounts
        .iter()
        .filter(|a| a.handle.ends_with(&suffix))
        .count() as u64
}

fn nodeinfo(sim: &Sim, inst: &Instance) -> Response<Body> {
    let total = inst.users_total.unwrap_or_else(|| local_count(sim, inst));
    json_resp(
        200,
        API_JSON,
        &json!({
            "version": schema(inst),
            "software": {"name": software_name(inst.software), "version": "4.3.2-sim"},
            "protocols": ["activitypub"],
            "services": {"outbound": [], "inbound": []},
            "usage": {"users": {"total": total, "activeMonth": total.div_ceil(3), "activeHalfyear": total.div_ceil(2)}, "localPosts": total * 40},
            "openRegistrations": false,
            "metadata": {"nodeName": inst.domain}
        }),
    )
}

/// An opt-out flag as the account's server sends it: a boolean, or a string when
/// `flags_as_strings`.
fn flag(spec: &AccountSpec, value: bool) -> Value {
    match spec.flags_as_strings {
        true => json!(value.to_string()),
        false => json!(value),
    }
}

/// The bio as served: `bio_html` verbatim, else `bio` rendered.
fn served_bio(sim: &Sim, inst: &Instance, spec: &AccountSpec) -> String {
    match &spec.bio_html {
        Some(html) => html.clone(),
        None => bio_html(&sim.base(&inst.domain), &spec.bio),
    }
}

/// A bio rendered as Mastodon renders it: HTML-escaped, in a paragraph, line breaks as
/// `<br />`, and each hashtag a link `#<span>tag</span>` to the instance's tag page.
fn bio_html(base: &str, bio: &str) -> String {
    if bio.is_empty() {
        return String::new();
    }
    let escaped = bio
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let words: Vec<String> = escaped
        .split(' ')
        .map(|w| match w.strip_prefix('#') {
            Some(rest) => {
                let tag: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let after = &rest[tag.len()..];
                format!(
                    "<a href=\"{base}/tags/{tag}\" class=\"mention hashtag\" rel=\"tag\">#<span>{tag}</span></a>{after}"
                )
            }
            None => w.to_string(),
        })
        .collect();
    format!("<p>{}</p>", words.join(" ").replace('\n', "<br />"))
}

/// Mastodon's Account entity for account `i` as seen from `viewer`.
fn rest_account(sim: &Sim, viewer: &Instance, i: usize, with_moved: bool) -> Value {
    let spec = &sim.layout.world.accounts[i];
    let inst = home(sim, i);
    let (user, _) = split_handle(spec);
    let acct = if inst.domain == viewer.domain {
        user.to_string()
    } else {
        format!("{user}@{}", handle_domain(inst))
    };
    let moved = spec
        .moved_to
        .as_deref()
        .and_then(|m| sim.by_handle.get(&m.to_ascii_lowercase()))
        .filter(|_| with_moved)
        .map(|&j| rest_account(sim, viewer, j, false));
    json!({
        "id": (100_000 + i).to_string(),
        "username": user,
        "acct": acct,
        "display_name": spec.display_name.clone().unwrap_or_else(|| user.to_string()),
        "locked": false,
        "bot": spec.bot,
        "discoverable": flag(spec, spec.discoverable.unwrap_or(!spec.noindex)),
        "indexable": flag(spec, !spec.noindex),
        "noindex": flag(spec, spec.noindex),
        "hide_collections": spec.hide_collections,
        "note": served_bio(sim, inst, spec),
        "url": format!("{}/@{user}", sim.base(&inst.domain)),
        "uri": actor_uri(sim, i),
        "followers_count": sim.followers[i].len(),
        "following_count": sim.follows[i].len(),
        "statuses_count": 3,
        "moved": moved,
    })
}

fn api(sim: &Sim, inst: &Instance, bare: &str, path: &str, auth: Option<&str>) -> Response<Body> {
    match inst.api() {
        Api::None => return respond(404, "text/html", "<h1>Not found</h1>"),
        Api::Closed => {
            return json_resp(
                401,
                API_JSON,
                &json!({"error": "This API requires an authenticated user"}),
            )
        }
        Api::Open | Api::LookupOnly => {}
    }
    let token_owner = auth
        .and_then(|a| a.strip_prefix("Bearer sim-token-"))
        .and_then(|user| local_index(sim, inst, user));
    if bare == "/api/v1/accounts/verify_credentials" {
        return match token_owner {
            Some(i) => json_resp(200, API_JSON, &rest_account(sim, inst, i, true)),
            None => json_resp(401, API_JSON, &json!({"error": "The access token is invalid"})),
        };
    }
    if bare == "/api/v1/accounts/lookup" {
        let acct = query_param(path, "acct").unwrap_or_default();
        let user = acct.split('@').next().unwrap_or_default();
        return match local_index(sim, inst, user) {
            Some(i) => json_resp(200, API_JSON, &rest_account(sim, inst, i, true)),
            None => not_found(),
        };
    }
    let parts: Vec<&str> = bare.trim_start_matches("/api/v1/accounts/").split('/').collect();
    let (Some(id), Some(which)) = (parts.first(), parts.get(1)) else {
        return not_found();
    };
    let Some(i) = id
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(100_000))
        .filter(|i| *i < sim.follows.len())
    else {
        return not_found();
    };
    let list = match *which {
        "following" => &sim.follows[i],
        "followers" => &sim.followers[i],
        _ => return not_found(),
    };
    let owner_asks = token_owner == Some(i);
    if inst.api() == Api::LookupOnly && !owner_asks {
        return json_resp(
            401,
            API_JSON,
            &json!({"error": "This method requires an authenticated user"}),
        );
    }
    if sim.layout.world.accounts[i].hide_collections && !owner_asks {
        return json_resp(200, API_JSON, &json!([]));
    }
    rest_page(sim, inst, i, which, list, path)
}

/// One page of a REST list. Follow k has id 1_000_000 - k (newest first); `max_id` is a
/// follow id, not an account id, as in Mastodon.
fn rest_page(sim: &Sim, inst: &Instance, owner: usize, which: &str, list: &[usize], path: &str) -> Response<Body> {
    let limit = query_param(path, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(40)
        .clamp(1, 80);
    let max_id = query_param(path, "max_id").and_then(|m| m.parse::<usize>().ok());
    let start = max_id.map(|m| 1_000_000usize.saturating_sub(m) + 1).unwrap_or(0);
    let page = page_items(inst, list, start, limit);
    let mut body: Vec<Value> = page.iter().map(|&j| rest_account(sim, inst, j, true)).collect();
    if inst.fault == Fault::HostileItems {
        body.splice(0..0, hostile_rest_items());
    }
    let mut resp = json_resp(200, API_JSON, &Value::Array(body));
    let base = format!(
        "{}/api/v1/accounts/{}/{which}",
        sim.base(&pages_host(inst)),
        100_000 + owner
    );
    let at = |end: usize| {
        format!(
            "{base}?limit={limit}&max_id={}",
            1_000_000usize.saturating_sub(end.saturating_sub(1))
        )
    };
    let next = match next_offset(inst, start, page.len(), limit, list.len()) {
        Next::First => Some(format!("{base}?limit={limit}")),
        Next::Same => Some(format!("{}{path}", sim.base(&inst.domain))),
        Next::At(end) => Some(at(end)),
        Next::None => None,
    };
    let mut link = vec![];
    if let Some(n) = next {
        link.push(format!("<{n}>; rel=\"next\""));
    }
    if !page.is_empty() {
        link.push(format!(
            "<{base}?limit={limit}&since_id={}>; rel=\"prev\"",
            1_000_000 - start
        ));
    }
    if !link.is_empty() {
        let v = hyper::header::HeaderValue::from_str(&link.join(", ")).expect("ASCII link header");
        resp.headers_mut().insert(hyper::header::LINK, v);
    }
    resp
}

/// The accounts of the page starting at `start`, as the instance's fault shapes them.
fn page_items(inst: &Instance, list: &[usize], start: usize, size: usize) -> Vec<usize> {
    let shown = match inst.fault {
        Fault::RepeatPages => 0,
        Fault::EmptyPages if start > 0 => return vec![],
        _ => start,
    };
    list.iter().copied().skip(shown).take(size).collect()
}

/// Where a page's `next` points.
enum Next {
    None,
    /// The first page (a loop back).
    First,
    /// The page itself.
    Same,
    /// The page starting at this offset.
    At(usize),
}

fn next_offset(inst: &Instance, start: usize, shown: usize, size: usize, len: usize) -> Next {
    match inst.fault {
        Fault::LoopNext if start > 0 => Next::First,
        Fault::SelfNext => Next::Same,
        // Forever: fresh links to pages that bring nothing new.
        Fault::RepeatPages | Fault::EmptyPages => Next::At(start + size),
        _ if start + shown < len => Next::At(start + shown),
        _ => Next::None,
    }
}

/// REST items that are not usable accounts (shapes hostile servers send).
fn hostile_rest_items() -> Vec<Value> {
    vec![
        json!({"id": "1", "username": "x", "acct": "x@bad host"}),
        json!("not an account"),
        Value::Null,
        json!({"id": "2", "acct": "y@", "uri": "data:text/html,hi", "url": "javascript:alert(1)", "followers_count": -1, "following_count": 1e300}),
    ]
}

/// ActivityPub items that are not accounts.
fn hostile_ap_items() -> Vec<Value> {
    vec![
        json!("javascript:alert(1)"),
        json!("javascript://evil.example/users/x"),
        json!("data:text/html,hi"),
        json!("mailto:a@b.example"),
        Value::Null,
        json!(12),
        json!([["https://nested.example/users/a"]]),
        json!({"type": "Person", "preferredUsername": "noid"}),
    ]
}

/// The actor document of account `i`.
pub fn actor(sim: &Sim, i: usize) -> Value {
    let spec = &sim.layout.world.accounts[i];
    let inst = home(sim, i);
    let (user, _) = split_handle(spec);
    let id = actor_uri(sim, i);
    let mut a = json!({
        "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
        "id": id,
        "type": if spec.bot { "Service" } else { "Person" },
        "preferredUsername": user,
        "name": spec.display_name.clone().unwrap_or_else(|| user.to_string()),
        "summary": served_bio(sim, inst, spec),
        "url": format!("{}/@{user}", sim.base(&inst.domain)),
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "discoverable": flag(spec, spec.discoverable.unwrap_or(!spec.noindex)),
        "indexable": flag(spec, !spec.noindex),
        "manuallyApprovesFollowers": false,
        "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"}
    });
    if spec.actor_padding > 0 {
        a["padding"] = json!("x".repeat(spec.actor_padding));
    }
    if inst.software != Software::Generic || !spec.follows.is_empty() {
        let lists = match inst.fault {
            Fault::ForeignCollections => id.replacen(
                &sim.base(&inst.domain),
                &sim.base(&format!("mirror.{}", inst.domain)),
                1,
            ),
            _ => id.clone(),
        };
        a["following"] = json!(format!("{lists}/following"));
        a["followers"] = json!(format!("{lists}/followers"));
    }
    if let Some(m) = spec
        .moved_to
        .as_deref()
        .and_then(|m| sim.by_handle.get(&m.to_ascii_lowercase()))
    {
        a["movedTo"] = json!(actor_uri(sim, *m));
    }
    if inst.fault == Fault::ForeignActorIds {
        a["id"] = json!(id.replacen(
            &sim.base(&inst.domain),
            &sim.base(&format!("mirror.{}", inst.domain)),
            1
        ));
    }
    a
}

fn activitypub(sim: &Sim, inst: &Instance, bare: &str, path: &str) -> Response<Body> {
    if inst.signed_only() {
        return json_resp(401, API_JSON, &json!({"error": "Request not signed"}));
    }
    let rest = bare.trim_start_matches("/users/");
    let (who, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let i = match inst.software {
        Software::Misskey => who
            .strip_prefix('9')
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .filter(|i| *i < sim.follows.len() && home(sim, *i).domain == inst.domain),
        _ => local_index(sim, inst, who),
    };
    let Some(i) = i else {
        return respond(404, "text/html", "<h1>Not found</h1>");
    };
    match sub {
        "" => json_resp(200, ACTIVITY_JSON, &actor(sim, i)),
        "following" => collection(sim, inst, i, &sim.follows[i], "following", path),
        "followers" => collection(sim, inst, i, &sim.followers[i], "followers", path),
        _ => respond(404, "text/html", "<h1>Not found</h1>"),
    }
}

fn item(sim: &Sim, inst: &Instance, j: usize) -> Value {
    match (inst.embed_items, inst.fault) {
        (true, Fault::ForgedEmbeds) => {
            let mut a = actor(sim, j);
            a["preferredUsername"] = json!(format!("forged{j}"));
            a["name"] = json!("Forged");
            a
        }
        (true, _) => actor(sim, j),
        (false, _) => json!(actor_uri(sim, j)),
    }
}

/// Page size and how a page after `k` items is addressed, per software.
fn paging(inst: &Instance) -> (usize, &'static str) {
    match inst.software {
        Software::Mastodon => (12, "page"),
        Software::Pleroma => (10, "page"),
        Software::Misskey => (10, "cursor"),
        Software::Gotosocial => (40, "max_id"),
        Software::Pixelfed | Software::Generic => (20, "p"),
    }
}

fn page_url(id: &str, inst: &Instance, offset: usize, list: &[usize]) -> String {
    let (size, style) = paging(inst);
    match style {
        "page" => format!("{id}?page={}", offset / size + 1),
        "cursor" if offset == 0 => format!("{id}?page=true"),
        "cursor" => format!(
            "{id}?page=true&cursor=c{:x}",
            list.get(offset - 1).map_or(offset, |j| j + 0x1000)
        ),
        "max_id" if offset == 0 => format!("{id}?limit={size}"),
        "max_id" => format!("{id}?limit={size}&max_id=01HSIM{:08}", offset),
        _ => format!("{id}?p={}", offset / size + 1),
    }
}

fn page_offset(inst: &Instance, path: &str, list: &[usize]) -> Option<usize> {
    let (size, style) = paging(inst);
    match style {
        "page" => query_param(path, "page")?
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .map(|p| (p - 1) * size),
        "cursor" => match query_param(path, "cursor") {
            None => query_param(path, "page").map(|_| 0),
            Some(c) => {
                let v = usize::from_str_radix(c.trim_start_matches('c'), 16)
                    .ok()?
                    .checked_sub(0x1000)?;
                list.iter().position(|j| *j == v).map(|p| p + 1)
            }
        },
        "max_id" => match query_param(path, "max_id") {
            None => query_param(path, "limit").map(|_| 0),
            Some(m) => m.trim_start_matches("01HSIM").parse().ok(),
        },
        _ => query_param(path, "p")?
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .map(|p| (p - 1) * size),
    }
}

fn collection(sim: &Sim, inst: &Instance, owner: usize, list: &[usize], which: &str, path: &str) -> Response<Body> {
    let id = format!("{}/{which}", actor_uri(sim, owner));
    let hidden = sim.layout.world.accounts[owner].hide_collections;
    let generic = inst.software == Software::Generic;
    let (kind, page_kind) = if generic {
        ("Collection", "CollectionPage")
    } else {
        ("OrderedCollection", "OrderedCollectionPage")
    };
    let offset = page_offset(inst, path, list);
    if let Some(offset) = offset {
        if hidden || inst.software == Software::Pixelfed {
            return json_resp(403, API_JSON, &json!({"error": "Forbidden"}));
        }
        return json_resp(200, ACTIVITY_JSON, &page(sim, inst, &id, list, offset, page_kind));
    }
    let mut root = json!({"@context": AS_CONTEXT, "id": id, "type": kind, "totalItems": list.len()});
    if hidden || inst.software == Software::Pixelfed {
        return json_resp(200, ACTIVITY_JSON, &root);
    }
    let pages_id =
        format!("{}/{which}", actor_uri(sim, owner)).replacen(&sim.base(&inst.domain), &sim.base(&pages_host(inst)), 1);
    root["first"] = match inst.software {
        Software::Pleroma => page(sim, inst, &id, list, 0, page_kind),
        _ => json!(page_url(&pages_id, inst, 0, list)),
    };
    json_resp(200, ACTIVITY_JSON, &root)
}

/// The host that serves the instance's list pages: itself, or `mirror.DOMAIN` under
/// [`Fault::ForeignPages`].
fn pages_host(inst: &Instance) -> String {
    match inst.fault {
        Fault::ForeignPages => format!("mirror.{}", inst.domain),
        _ => inst.domain.clone(),
    }
}

fn page(sim: &Sim, inst: &Instance, id: &str, list: &[usize], offset: usize, kind: &str) -> Value {
    let (size, _) = paging(inst);
    let shown = page_items(inst, list, offset, size);
    let mut items: Vec<Value> = shown.iter().map(|&j| item(sim, inst, j)).collect();
    if inst.fault == Fault::HostileItems {
        items.splice(0..0, hostile_ap_items());
    }
    let key = if inst.software == Software::Generic {
        "items"
    } else {
        "orderedItems"
    };
    let mut p = json!({
        "@context": AS_CONTEXT,
        "id": page_url(id, inst, offset, list),
        "type": kind,
        "totalItems": list.len(),
        "partOf": id,
        key: items,
    });
    match next_offset(inst, offset, size, size, list.len()) {
        Next::First => p["next"] = json!(page_url(id, inst, 0, list)),
        Next::Same => p["next"] = json!(page_url(id, inst, offset, list)),
        Next::At(end) => p["next"] = json!(page_url(id, inst, end, list)),
        Next::None => {}
    }
    p
}

#[cfg(test)]
mod tests {
    #[test]
    fn bios_are_served_as_mastodon_renders_them() {
        assert_eq!(
            super::bio_html("https://m.example", "Artist & <b>\nno crawlers: #NoBot, thanks"),
            "<p>Artist &amp; &lt;b&gt;<br />no crawlers: <a href=\"https://m.example/tags/NoBot\" class=\"mention hashtag\" rel=\"tag\">#<span>NoBot</span></a>, thanks</p>"
        );
        assert_eq!(super::bio_html("https://m.example", ""), "");
    }
}
