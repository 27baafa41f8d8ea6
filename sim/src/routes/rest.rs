//! The Mastodon REST API: `verify_credentials`, account lookup and the follow lists with
//! `Link` paging (`max_id`), open or closed as the instance's [`Api`] says.

use serde_json::{json, Value};

use super::{
    actor_uri, flag, handle_domain, home, local_index, next_offset, not_found, page_items, pages_host, query_param,
    served_bio, split_handle, Next, API_JSON,
};
use crate::server::{json as json_resp, respond, Body, Sim};
use crate::world::{Api, Fault, Instance};
use hyper::Response;

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
    // A stale cached copy (another instance's) says the account lets crawlers in.
    let stale = spec.stale_remote_copy && inst.domain != viewer.domain;
    let noindex = spec.noindex && !stale;
    let discoverable = spec.discoverable.filter(|_| !stale).unwrap_or(!noindex);
    let note = match stale {
        true => String::new(),
        false => served_bio(sim, inst, spec),
    };
    let followers = spec
        .followers_count
        .clone()
        .unwrap_or_else(|| json!(sim.followers[i].len()));
    json!({
        "id": (100_000 + i).to_string(),
        "username": user,
        "acct": acct,
        "display_name": spec.display_name.clone().unwrap_or_else(|| user.to_string()),
        "locked": false,
        "bot": spec.bot,
        "discoverable": flag(spec, discoverable),
        "indexable": flag(spec, spec.indexable.filter(|_| !stale).unwrap_or(!noindex)),
        "noindex": flag(spec, noindex),
        "hide_collections": spec.hide_collections,
        "note": note,
        "url": format!("{}/@{user}", sim.base(&inst.domain)),
        "uri": actor_uri(sim, i),
        "followers_count": followers,
        "last_status_at": spec
            .last_status_at
            .clone()
            .or_else(|| spec.last_posted_days_ago.map(|d| sim.days_before(d))),
        "following_count": sim.follows[i].len(),
        "statuses_count": 3,
        "moved": moved,
    })
}

pub(super) fn api(sim: &Sim, inst: &Instance, bare: &str, path: &str, auth: Option<&str>) -> Response<Body> {
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
            Some(i) if sim.layout.world.accounts[i].deleted => json_resp(410, API_JSON, &json!({"error": "Gone"})),
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

/// REST items that are not usable accounts (shapes hostile servers send).
fn hostile_rest_items() -> Vec<Value> {
    vec![
        json!({"id": "1", "username": "x", "acct": "x@bad host"}),
        json!("not an account"),
        Value::Null,
        json!({"id": "2", "acct": "y@", "uri": "data:text/html,hi", "url": "javascript:alert(1)", "followers_count": -1, "following_count": 1e300}),
    ]
}
