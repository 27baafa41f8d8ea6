//! Reading config values that serde's derived messages would explain in its own terms
//! ("data did not match any variant of untagged enum", "expected f64"): each says here what a
//! user should write instead.

use ipnetwork::IpNetwork;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

use super::PrivateAddresses;

/// What `allow_private_addresses` takes.
const EXPECTED_NETWORKS: &str = "expected false, true or a list of networks such as \"127.0.0.0/8\"";

/// The raw shapes `allow_private_addresses` may arrive in.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawNetworks {
    All(bool),
    List(Vec<String>),
    Other(IgnoredAny),
}

impl<'de> Deserialize<'de> for PrivateAddresses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match RawNetworks::deserialize(d)? {
            RawNetworks::All(b) => Ok(PrivateAddresses::All(b)),
            RawNetworks::Other(_) => Err(de::Error::custom(EXPECTED_NETWORKS)),
            RawNetworks::List(list) => list
                .iter()
                .map(|s| {
                    s.parse::<IpNetwork>()
                        .map_err(|_| de::Error::custom(format!("{EXPECTED_NETWORKS}; {s:?} is not a network")))
                })
                .collect::<Result<_, _>>()
                .map(PrivateAddresses::Networks),
        }
    }
}

/// A `*_secs` value: any number (integer or not); anything else is "expected a number of
/// seconds". Range checks come later, in `Config::validate`.
pub fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(Seconds)
}

/// An optional `*_secs` value (`[hosts."name"]`).
pub fn opt_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    seconds(d).map(Some)
}

struct Seconds;

impl Visitor<'_> for Seconds {
    type Value = f64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number of seconds")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn error(toml: &str) -> String {
        Config::from_toml(toml, Path::new("c.toml")).unwrap_err().to_string()
    }

    #[test]
    fn bad_values_say_what_to_write() {
        assert_eq!(
            error("[network]\nallow_private_addresses = [\"10.0.0.0/33\"]\n"),
            "config c.toml:2:27: expected false, true or a list of networks such as \"127.0.0.0/8\"; \"10.0.0.0/33\" is not a network (in `allow_private_addresses = [\"10.0.0.0/33\"]`)"
        );
        assert_eq!(
            error("[network]\nallow_private_addresses = \"yes\"\n"),
            "config c.toml:2:27: expected false, true or a list of networks such as \"127.0.0.0/8\" (in `allow_private_addresses = \"yes\"`)"
        );
        assert_eq!(
            error("[network]\nrequest_timeout_secs = \"5\"\n"),
            "config c.toml:2:24: invalid type: string \"5\", expected a number of seconds (in `request_timeout_secs = \"5\"`)"
        );
        assert_eq!(
            error("[hosts.\"a.example\"]\nperiod_secs = true\n"),
            "config c.toml:2:15: invalid type: boolean `true`, expected a number of seconds (in `period_secs = true`)"
        );
        let c = Config::from_toml(
            "[network]\nrequest_timeout_secs = 5\n[hosts.\"a.example\"]\nperiod_secs = 2.5\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(c.network.request_timeout_secs, 5.0);
        assert_eq!(c.hosts["a.example"].period_secs, Some(2.5));
    }
}
