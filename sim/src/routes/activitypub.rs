//! ActivityPub actors and their `following`/`followers` collections, paged as each software
//! pages them (Mastodon `page=N` pages of 12, Pleroma's embedded first page, Misskey
//! `cursor=` pages of 10, GoToSocial `max_id=`, totals-only Pixelfed, generic `items`).

use serde_json::{json, Value};

use super::{
    actor_uri, flag, home, local_index, next_offset, page_items, pages_host, query_param, served_bio, split_handle,
    Next, ACTIVITY_JSON, API_JSON, AS_CONTEXT,
};
use crate::server::{json as json_resp, respond, Body, Sim};
use crate::world::{Fault, Instance, Software};
use hyper::Response;

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
        "indexable": flag(spec, spec.indexable.unwrap_or(!spec.noindex)),
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

pub(super) fn activitypub(sim: &Sim, inst: &Instance, bare: &str, path: &str) -> Response<Body> {
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
    if sim.layout.world.accounts[i].deleted {
        return json_resp(410, API_JSON, &json!({"error": "Gone"}));
    }
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
