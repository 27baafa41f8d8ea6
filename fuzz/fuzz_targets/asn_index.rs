//! Fuzz the compiled ASN index reader (the cache in the data directory): arbitrary bytes,
//! and a valid small index with bytes overwritten. Never a panic; when the bytes are taken as
//! an index, every answer lies inside the row it names and its CIDR holds the address.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use whohosts::attribution::asn::cache::{decode, encode};
use whohosts::attribution::asn::load::load_bytes;

fn as_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fuzz_target!(|data: &[u8]| {
    // The raw bytes, then a real index with the input written over it from a chosen offset.
    let small = load_bytes(
        "asn.csv",
        b"1.0.0.0,1.0.0.255,13335,Cloudflare\n1.0.0.0,1.0.0.15,64500,Inner\n2606:4700::,2606:4700::ffff,13335,Cloudflare\n".to_vec(),
        false,
    )
    .expect("the seed table loads");
    let mut patched = encode(&[0; 32], &small);
    if let Some((&at, rest)) = data.split_first() {
        let at = usize::from(at) * patched.len() / 256;
        for (i, b) in rest.iter().enumerate() {
            if let Some(slot) = patched.get_mut(at + i) {
                *slot = *b;
            }
        }
    }
    for bytes in [data, &patched[..]] {
        let Ok((_, db)) = decode(bytes) else { continue };
        let probes = [
            IpAddr::V4(Ipv4Addr::new(1, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(1, 0, 0, 200)),
            IpAddr::V6(Ipv6Addr::new(0x2606, 0x4700, 0, 0, 0, 0, 0, 1)),
        ];
        for ip in probes {
            let Some(hit) = db.lookup(ip) else { continue };
            let (x, s, e) = (as_u128(ip), as_u128(hit.range_start), as_u128(hit.range_end));
            assert!(s <= x && x <= e, "{ip} answered by {}-{}", hit.range_start, hit.range_end);
            assert!(hit.cidr.contains(ip), "{ip} outside its CIDR {}", hit.cidr);
        }
    }
});
