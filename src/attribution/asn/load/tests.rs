//! Unit tests of database loading: formats, quoting, headers, bad lines, gzip, licences.

use super::*;
use std::io::Write;

fn write(name: &str, body: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::File::create(&p).unwrap().write_all(body).unwrap();
    (dir, p)
}

#[test]
fn reads_quoted_names_and_numeric_rows() {
    let (_d, p) = write(
        "asn.csv",
        b"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n5.8.0.0,5.8.7.255,41009,\"LLC \"\"SPUTNIK\"\"\"\n",
    );
    let db = load(&p, false).unwrap();
    assert_eq!(db.lookup("1.0.0.7".parse().unwrap()).unwrap().name, "Cloudflare, Inc.");
    assert_eq!(db.lookup("5.8.1.1".parse().unwrap()).unwrap().name, "LLC \"SPUTNIK\"");
    let (_d, p) = write("asn-ipv4-num.csv", b"16777216,16777471,13335,Cloudflare\n");
    assert_eq!(
        load(&p, false).unwrap().lookup("1.0.0.1".parse().unwrap()).unwrap().asn,
        13335
    );
}

#[test]
fn reads_iptoasn_tsv_and_skips_unrouted() {
    let (_d, p) = write(
        "ip2asn-combined.tsv",
        b"1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET - Cloudflare, Inc.\n1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n2a01:4f8::\t2a01:4f8:ffff:ffff:ffff:ffff:ffff:ffff\t24940\tDE\tHETZNER-AS\n",
    );
    let db = load(&p, false).unwrap();
    let hit = db.lookup("1.0.0.1".parse().unwrap()).unwrap();
    assert_eq!((hit.asn, hit.country.as_deref()), (13335, Some("US")));
    assert_eq!(db.lookup("1.0.2.1".parse().unwrap()), None);
    assert_eq!(db.lookup("2a01:4f8:1::1".parse().unwrap()).unwrap().asn, 24940);
    assert_eq!(
        (db.info.format.as_str(), db.info.ranges_v4, db.info.ranges_v6),
        ("iptoasn-tsv", 1, 1)
    );
}

#[test]
fn bad_line_names_file_and_line_unless_lenient() {
    let (_d, p) = write(
        "x.csv",
        b"1.0.0.0,1.0.0.255,13335,A\n1.0.1.0,nope,5,B\n1.0.2.0,1.0.2.255,7,C\n",
    );
    let err = load(&p, false).unwrap_err().to_string();
    assert!(
        err.ends_with("x.csv:2: \"nope\" is neither an address nor an integer"),
        "{err}"
    );
    let db = load(&p, true).unwrap();
    assert_eq!((db.info.skipped_lines, db.info.ranges_v4), (1, 2));
}

#[test]
fn gzip_is_read_directly() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"8.8.8.0,8.8.8.255,15169,Google LLC\n").unwrap();
    let (_d, p) = write("asn.csv.gz", &gz.finish().unwrap());
    assert_eq!(
        load(&p, false).unwrap().lookup("8.8.8.8".parse().unwrap()).unwrap().asn,
        15169
    );
}

#[test]
fn an_unclosed_quote_is_a_bad_line_not_a_swallowed_block() {
    let body = b"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n2.0.0.0,2.0.0.255,5,\"Open, never closed\n3.0.0.0,3.0.0.255,7,C\n4.0.0.0,4.0.0.255,8,\"D, Ltd\"\n";
    let (_d, p) = write("x.csv", body);
    let err = load(&p, false).unwrap_err().to_string();
    assert!(
        err.ends_with("x.csv:2: quote opened in field 4 is not closed on this line"),
        "{err}"
    );
    let db = load(&p, true).unwrap();
    assert_eq!((db.info.skipped_lines, db.info.ranges_v4), (1, 3));
    assert_eq!(db.lookup("3.0.0.1".parse().unwrap()).unwrap().asn, 7);
    assert_eq!(db.lookup("4.0.0.1".parse().unwrap()).unwrap().name, "D, Ltd");
    assert_eq!(db.lookup("2.0.0.1".parse().unwrap()), None);
}

#[test]
fn a_name_longer_than_any_real_one_is_a_bad_line() {
    let long = "x".repeat(MAX_NAME_BYTES + 1);
    let body = format!("1.0.0.0,1.0.0.255,1,A\n2.0.0.0,2.0.0.255,2,{long}\n");
    let (_d, p) = write("x.csv", body.as_bytes());
    let err = load(&p, false).unwrap_err().to_string();
    assert!(
        err.ends_with("x.csv:2: organisation name of 513 bytes is longer than any real one (at most 512)"),
        "{err}"
    );
    let ok = format!("1.0.0.0,1.0.0.255,1,{}\n", "x".repeat(MAX_NAME_BYTES));
    let (_d, p) = write("x.csv", ok.as_bytes());
    assert!(load(&p, false).is_ok());
}

#[test]
fn csv_fields_follow_rfc4180_within_a_line() {
    let f = |l: &str| csv_fields(l).map(|v| v.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    assert_eq!(f("a,\"b, c\",\"d \"\"e\"\"\",").unwrap(), ["a", "b, c", "d \"e\"", ""]);
    assert_eq!(f("a,\"b\"x").unwrap_err(), "text after the closing quote of field 2");
    assert_eq!(
        f("\"").unwrap_err(),
        "quote opened in field 1 is not closed on this line"
    );
}

#[test]
fn a_header_row_is_skipped_and_an_empty_file_says_so() {
    let (_d, p) = write("x.csv", b"start,end,asn,org\n1.0.0.0,1.0.0.255,13335,Cloudflare\n");
    let db = load(&p, false).unwrap();
    assert_eq!((db.info.skipped_lines, db.info.ranges_v4), (0, 1));
    let (_d, p) = write(
        "x.tsv",
        b"range_start\trange_end\tAS_number\tcountry_code\tAS_description\n1.0.0.0\t1.0.0.255\t13335\tUS\tCF\n",
    );
    assert_eq!(load(&p, false).unwrap().info.ranges_v4, 1);
    // A damaged first row is not a header.
    let (_d, p) = write("x.csv", b"1.0.0.x,1.0.0.255,1x,Cloudflare\n1.0.1.0,1.0.1.255,2,B\n");
    assert!(load(&p, false)
        .unwrap_err()
        .to_string()
        .ends_with("x.csv:1: \"1.0.0.x\" is neither an address nor an integer"));
    // Only the first line may be a header.
    let (_d, p) = write("x.csv", b"1.0.0.0,1.0.0.255,13335,Cloudflare\nstart,end,asn,org\n");
    assert!(load(&p, false)
        .unwrap_err()
        .to_string()
        .ends_with("x.csv:2: \"start\" is neither an address nor an integer"));
    for body in [&b""[..], b"\n  \n"] {
        let (_d, p) = write("empty.csv", body);
        assert_eq!(
            load(&p, false).unwrap_err().to_string(),
            format!("ASN database {}: the file is empty", p.display())
        );
    }
}

#[test]
fn the_licence_is_stated_by_a_sidecar_or_not_at_all() {
    let (d, p) = write("asn-ipv4.csv", b"1.0.0.0,1.0.0.255,13335,Cloudflare\n");
    assert_eq!(load(&p, false).unwrap().info.licence, "not stated");
    let (_d2, tsv) = write("ip2asn-v4.tsv", b"1.0.0.0\t1.0.0.255\t13335\tUS\tCF\n");
    assert_eq!(
        load(&tsv, false).unwrap().info.licence,
        "not stated",
        "not from the name"
    );
    let sha = load(&p, false).unwrap().info.sha256;
    let source = |sha256: &str| store::Source {
        url: "http://127.0.0.1/x".into(),
        downloaded_at: "2026-11-21T00:00:00Z".into(),
        sha256: sha256.into(),
        ranges_v4: 1,
        ranges_v6: 0,
        licence: "CC0".into(),
    };
    let side = store::sidecar_path(&p);
    assert_eq!(side, d.path().join("asn-ipv4.csv.source.json"));
    std::fs::write(&side, serde_json::to_vec(&source(&sha)).unwrap()).unwrap();
    let info = load(&p, false).unwrap().info;
    assert_eq!(
        (info.licence.as_str(), info.date.as_str()),
        ("CC0", "2026-11-21T00:00:00Z (file date)")
    );
    std::fs::write(&side, serde_json::to_vec(&source("other content")).unwrap()).unwrap();
    assert_eq!(
        load(&p, false).unwrap().info.licence,
        "not stated",
        "sidecar of another file"
    );
}

/// More name text than an index can address (4 GiB, `cache::MAX_TEXT`) is a load error that
/// names the file whose names went past it, lenient or not; here with a limit of 16 bytes.
#[test]
fn more_name_text_than_an_index_holds_is_refused_naming_the_file() {
    let (_d1, first) = write("asn-ipv4.csv", b"1.0.0.0,1.0.0.255,13335,Cloudflare\n");
    let (_d2, second) = write("asn-ipv6.csv", b"2a01:4f8::,2a01:4f8::ffff,24940,HETZNER\n");
    let paths = [first.clone(), second.clone()];
    // "Cloudflare" and "HETZNER": 17 bytes.
    assert!(load_all_within(&paths, false, 17).is_ok());
    for lenient in [false, true] {
        let e = load_all_within(&paths, lenient, 16).unwrap_err();
        assert!(matches!(&e, Error::AsnDb { path, .. } if *path == second), "{e:?}");
        let line = e.to_string();
        assert!(!line.contains('\n') && line.contains("17 bytes"), "{line}");
    }
    let e = load_all_within(&paths[..1], false, 9).unwrap_err();
    assert!(matches!(&e, Error::AsnDb { path, .. } if *path == first), "{e:?}");
}
