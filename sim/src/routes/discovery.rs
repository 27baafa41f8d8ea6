//! Discovery: WebFinger (and the LRDD address host-meta gives instead), host-meta and
//! NodeInfo, including the hostile WebFinger that claims another instance's actor.

use serde_json::json;

use super::{actor_uri, handle_domain, local_index, query_param, split_handle, API_JSON, JRD};
use crate::server::{json as json_resp, respond, Body, Sim};
use crate::world::{Instance, Software};
use hyper::Response;

pub(super) fn webfinger(sim: &Sim, inst: &Instance, host: &str, path: &str) -> Response<Body> {
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

pub(super) fn host_meta(sim: &Sim, inst: &Instance, host: &str) -> Response<Body> {
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

pub(super) fn nodeinfo_links(sim: &Sim, inst: &Instance) -> Response<Body> {
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

pub(super) fn nodeinfo(sim: &Sim, inst: &Instance) -> Response<Body> {
    let total = inst.users_total.unwrap_or_else(|| local_count(sim, inst));
    json_resp(
        200,
        API_JSON,
        &json!({
            "version": schema(inst),
            "software": {"name": inst.software_name.as_deref().unwrap_or(software_name(inst.software)), "version": "4.3.2-sim"},
            "protocols": ["activitypub"],
            "services": {"outbound": [], "inbound": []},
            "usage": {"users": {"total": total, "activeMonth": total.div_ceil(3), "activeHalfyear": total.div_ceil(2)}, "localPosts": total * 40},
            "openRegistrations": false,
            "metadata": {"nodeName": inst.domain}
        }),
    )
}
