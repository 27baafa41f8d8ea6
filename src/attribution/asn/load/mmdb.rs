//! MaxMind / DB-IP ASN `.mmdb` trees: recognised by their metadata marker, read network by
//! network.

use std::net::IpAddr;
use std::path::Path;

use super::Builder;
use crate::error::{Error, Result};

const MMDB_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

pub(super) fn is_mmdb(data: &[u8]) -> bool {
    let tail = &data[data.len().saturating_sub(128 * 1024)..];
    tail.windows(MMDB_MARKER.len()).any(|w| w == MMDB_MARKER)
}

#[derive(serde::Deserialize)]
struct MmdbAsn<'a> {
    #[serde(default, deserialize_with = "any_unsigned")]
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<&'a str>,
}

/// AS numbers stored as any unsigned width (writers pick the smallest that fits).
fn any_unsigned<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<u32>, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an unsigned AS number")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("AS number {v} out of range")))
        }
        fn visit_u128<E: serde::de::Error>(self, v: u128) -> std::result::Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("AS number {v} out of range")))
        }
    }
    d.deserialize_any(V)
}

/// Add the rows of the .mmdb `data` to `b`: its build date, `None` when it holds none a
/// date can say (past the year 9999).
pub(super) fn read_mmdb(path: &Path, data: Vec<u8>, b: &mut Builder) -> Result<Option<String>> {
    let err = |e: maxminddb::MaxMindDbError| Error::AsnDb {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let reader = maxminddb::Reader::from_source(data).map_err(err)?;
    // A build date past what a date can say (the file says so) is no date, not a panic: the
    // file's own date stands in for it.
    let date = crate::model::time::rfc3339_of_unix(reader.metadata().build_epoch);
    for item in reader.networks(Default::default()).map_err(err)? {
        let item = item.map_err(err)?;
        let net = item.network().map_err(err)?;
        let Some(rec) = item.decode::<MmdbAsn>().map_err(err)? else {
            continue;
        };
        let Some(asn) = rec.autonomous_system_number.filter(|a| *a != 0) else {
            continue;
        };
        let info = b
            .intern(asn, rec.autonomous_system_organization.unwrap_or(""), None)
            .map_err(|m| Error::AsnDb {
                path: path.to_path_buf(),
                message: m,
            })?;
        let (start, end) = match net {
            ipnetwork::IpNetwork::V4(n) => (IpAddr::V4(n.network()), IpAddr::V4(n.broadcast())),
            // IPv4 data in an IPv6 tree lives at ::/96 (IPv4-compatible addresses).
            ipnetwork::IpNetwork::V6(n) if n.prefix() >= 96 && u128::from(n.network()) >> 32 == 0 => (
                IpAddr::V4((u128::from(n.network()) as u32).into()),
                IpAddr::V4((u128::from(n.broadcast()) as u32).into()),
            ),
            ipnetwork::IpNetwork::V6(n) => (IpAddr::V6(n.network()), IpAddr::V6(n.broadcast())),
        };
        b.push(start, end, info).map_err(|m| Error::AsnDb {
            path: path.to_path_buf(),
            message: m,
        })?;
    }
    Ok(date)
}
