//! Mailbox providers and filtering gateways: who runs a contact's mailbox (or chat server),
//! told from the name of the host that serves it.
//!
//! The rules ship as `data/providers.toml` inside the binary, read the way the organisation
//! mapping is ([`super::org`]), and can be extended or overridden from config
//! (`[attribution.mail_providers]`, `[attribution.mail_gateways]`). A rule is a host-name
//! suffix matched on a label boundary; the longest match wins. A provider is named by its
//! company (`Google`) with the service kept beside it (`Gmail` when the address domain is one
//! of the company's public webmail domains, else `Google Workspace`). A filtering gateway is a
//! layer of its own; behind one, the domain's SPF record may name the provider, which is then
//! inferred ([`Providers::behind_gateway`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::org::has_suffix;

/// The shipped rules.
pub const SHIPPED: &str = include_str!("../../../data/providers.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    provider: Vec<ProviderEntry>,
    #[serde(default)]
    gateway: Vec<GatewayEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderEntry {
    name: String,
    service: String,
    #[serde(default)]
    webmail: BTreeMap<String, String>,
    #[serde(default)]
    mx: Vec<String>,
    #[serde(default)]
    chat: Vec<String>,
    #[serde(default)]
    spf: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayEntry {
    name: String,
    mx: Vec<String>,
}

/// What a rule says of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A mailbox provider's MX.
    Mailbox,
    /// A filtering gateway's MX.
    Gateway,
    /// An XMPP or Matrix hosting service's server.
    Chat,
}

/// One rule: a host-name suffix and who it names.
#[derive(Debug, Clone)]
pub struct Rule {
    pub suffix: String,
    pub kind: Kind,
    /// The provider entry (index into `Providers::entries`) or the gateway's name.
    entry: Option<usize>,
    gateway: String,
}

/// Who a host (or an SPF record) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The company (`Google`), or the gateway's name.
    pub name: String,
    /// The service (`Gmail`, `Google Workspace`); empty for a gateway.
    pub service: String,
    /// Mailbox, gateway or chat.
    pub kind: Kind,
    /// The rule that matched (its suffix, or the SPF target).
    pub rule: String,
}

/// The rules in force.
#[derive(Debug, Clone)]
pub struct Providers {
    entries: Vec<ProviderEntry>,
    rules: Vec<Rule>,
}

impl Providers {
    /// The shipped rules plus `mailboxes` (`"suffix" = "Company"` or `"Company / Service"`)
    /// and `gateways` (`"suffix" = "Gateway"`); an override replaces a shipped rule of the same
    /// suffix.
    pub fn new(mailboxes: &BTreeMap<String, String>, gateways: &BTreeMap<String, String>) -> Self {
        let file: File = toml::from_str(SHIPPED).expect("the shipped providers.toml parses (tested)");
        let mut p = Providers {
            entries: vec![],
            rules: vec![],
        };
        for e in file.provider {
            p.add_entry(e);
        }
        for g in file.gateway {
            for suffix in g.mx {
                p.add_gateway(&suffix, &g.name);
            }
        }
        for (suffix, value) in mailboxes {
            let (name, service) = match value.split_once(" / ") {
                Some((n, s)) => (n.trim(), s.trim()),
                None => (value.trim(), value.trim()),
            };
            p.add_entry(ProviderEntry {
                name: name.to_string(),
                service: service.to_string(),
                webmail: BTreeMap::new(),
                mx: vec![suffix.clone()],
                chat: vec![],
                spf: vec![],
            });
        }
        for (suffix, name) in gateways {
            p.add_gateway(suffix, name);
        }
        p
    }

    fn add_entry(&mut self, e: ProviderEntry) {
        let index = self.entries.len();
        for (list, kind) in [(&e.mx, Kind::Mailbox), (&e.chat, Kind::Chat)] {
            for suffix in list {
                self.push(Rule {
                    suffix: norm(suffix),
                    kind,
                    entry: Some(index),
                    gateway: String::new(),
                });
            }
        }
        self.entries.push(e);
    }

    fn add_gateway(&mut self, suffix: &str, name: &str) {
        self.push(Rule {
            suffix: norm(suffix),
            kind: Kind::Gateway,
            entry: None,
            gateway: name.to_string(),
        });
    }

    /// Add `rule`, replacing one of the same suffix and protocol family.
    fn push(&mut self, rule: Rule) {
        let chat = rule.kind == Kind::Chat;
        self.rules
            .retain(|r| !(r.suffix == rule.suffix && (r.kind == Kind::Chat) == chat));
        self.rules.push(rule);
    }

    /// Every rule (for the test that checks each has a host it names).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    fn hit(&self, rule: &Rule, domain: &str) -> Hit {
        match rule.entry {
            Some(i) => {
                let e = &self.entries[i];
                Hit {
                    name: e.name.clone(),
                    service: service(e, domain),
                    kind: rule.kind,
                    rule: rule.suffix.clone(),
                }
            }
            None => Hit {
                name: rule.gateway.clone(),
                service: String::new(),
                kind: rule.kind,
                rule: rule.suffix.clone(),
            },
        }
    }

    /// Who receives mail for `domain` through MX host `mx`: a mailbox provider or a gateway.
    pub fn mail(&self, mx: &str, domain: &str) -> Option<Hit> {
        self.longest(mx, false).map(|r| self.hit(r, domain))
    }

    /// The XMPP or Matrix hosting service of server host `host`.
    pub fn chat(&self, host: &str) -> Option<Hit> {
        self.longest(host, true).map(|r| self.hit(r, host))
    }

    fn longest(&self, host: &str, chat: bool) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|r| (r.kind == Kind::Chat) == chat && has_suffix(host, &r.suffix))
            .max_by_key(|r| r.suffix.len())
    }

    /// The mailbox provider behind a gateway for `domain`, from the names its SPF record
    /// includes (`targets`): the one provider they name, or none when they name none or
    /// several companies (a guess between two would not be an inference).
    pub fn behind_gateway(&self, targets: &[String], domain: &str) -> Option<Hit> {
        let mut found: Vec<Hit> = vec![];
        for t in targets {
            let e = self
                .entries
                .iter()
                .filter_map(|e| e.spf.iter().find(|s| has_suffix(t, s)).map(|s| (e, s)))
                .max_by_key(|(_, s)| s.len());
            if let Some((e, _)) = e {
                if found.iter().all(|h| h.name != e.name) {
                    found.push(Hit {
                        name: e.name.clone(),
                        service: service(e, domain),
                        kind: Kind::Mailbox,
                        rule: t.clone(),
                    });
                }
            }
        }
        if found.len() == 1 {
            found.pop()
        } else {
            None
        }
    }
}

/// The service `e` provides to `domain`: its webmail service when `domain` is one of its
/// public webmail domains, else its service.
fn service(e: &ProviderEntry, domain: &str) -> String {
    e.webmail
        .get(&norm(domain))
        .cloned()
        .unwrap_or_else(|| e.service.clone())
}

fn norm(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
