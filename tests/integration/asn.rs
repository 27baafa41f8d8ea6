//! The offline IP → AS table on a committed cut of the real data: reference answers, quirks,
//! and equality with a brute-force scan on 1,000,000 random addresses; and what `lookup` and
//! `asn-db` say of it through the real binary: bad lines, licences, plausible downloads,
//! targets, streaming, Team Cymru timeouts.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde_json::Value;
use whohosts::attribution::asn::load::load;
use whohosts_sim::world::Software;

use crate::common::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/asn")
        .join(name)
}

struct RawRow {
    start: u128,
    end: u128,
    asn: u32,
    name: String,
}

/// The reference: parse the rows independently and scan them all.
fn raw_rows(name: &str) -> Vec<RawRow> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture(name)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let bound = |s: &str| match s.parse::<IpAddr>().unwrap() {
                IpAddr::V4(a) => u128::from(u32::from(a)),
                IpAddr::V6(a) => u128::from(a),
            };
            RawRow {
                start: bound(&r[0]),
                end: bound(&r[1]),
                asn: r[2].parse().unwrap(),
                name: r[3].to_string(),
            }
        })
        .filter(|r| r.asn != 0)
        .collect()
}

/// Narrowest containing row wins, then the earliest in the file.
fn brute(rows: &[RawRow], x: u128) -> Option<(u32, &str)> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| r.start <= x && x <= r.end)
        .min_by_key(|(i, r)| (r.end - r.start, *i))
        .map(|(_, r)| (r.asn, r.name.as_str()))
}

#[test]
fn reference_answers_from_real_data() {
    let db = load(&fixture("asn-ipv4-cut.csv.gz"), false).unwrap();
    for (ip, asn, name) in [
        ("1.1.1.1", 13335, "Cloudflare, Inc."),
        ("116.202.1.1", 24940, "Hetzner Online GmbH"),
        ("51.75.1.1", 16276, "OVH SAS"),
        ("185.70.42.1", 62371, "Proton AG"),
        ("52.1.1.1", 16509, "Amazon.com, Inc."),
        ("8.8.8.8", 15169, "Google LLC"),
    ] {
        let hit = db.lookup(ip.parse().unwrap()).unwrap_or_else(|| panic!("{ip}"));
        assert_eq!((hit.asn, hit.name.as_str()), (asn, name), "{ip}");
    }
    let hit = db.lookup("1.1.1.1".parse().unwrap()).unwrap();
    assert_eq!(hit.cover.to_string(), "1.1.1.0/24");
    assert_eq!(
        db.info.licence,
        "CC BY 4.0: RouteViews, DB-IP.com and NRO (via ip-location-db)"
    );
}

#[test]
fn quirks_of_the_real_files() {
    let db = load(&fixture("asn-ipv4-cut.csv.gz"), false).unwrap();
    assert_eq!(db.lookup("214.96.0.1".parse().unwrap()).unwrap().asn, 749);
    assert_eq!(
        db.lookup("215.0.0.1".parse().unwrap()).unwrap().asn,
        721,
        "the narrower overlapping row wins"
    );
    let names: Vec<&str> = db.names.iter().map(|n| n.name).collect();
    assert!(names.contains(&"LLC \"SPUTNIK\""), "CSV-escaped quotes are unescaped");
    assert!(names.iter().any(|n| n.contains('\u{a0}')), "non-ASCII names survive");
    assert!(db.names.iter().any(|n| n.asn == 4_294_967_294), "32-bit AS numbers");
}

#[test]
fn lookup_equals_brute_force_on_a_million_random_addresses() {
    let mut rng = fastrand::Rng::with_seed(20261121);
    for (file, v6) in [("asn-ipv4-cut.csv.gz", false), ("asn-ipv6-cut.csv.gz", true)] {
        let db = load(&fixture(file), false).unwrap();
        let rows = raw_rows(file);
        let mut hits = 0;
        for n in 0..500_000 {
            // Half inside a random row (so most look-ups hit), half anywhere.
            let x = if n % 2 == 0 {
                let r = &rows[rng.usize(..rows.len())];
                r.start + rng.u128(..=(r.end - r.start))
            } else if v6 {
                rng.u128(..)
            } else {
                u128::from(rng.u32(..))
            };
            let ip = if v6 {
                IpAddr::V6(Ipv6Addr::from(x))
            } else {
                IpAddr::V4(Ipv4Addr::from(x as u32))
            };
            let got = db.lookup(ip);
            let want = brute(&rows, x);
            assert_eq!(got.as_ref().map(|h| (h.asn, h.name.as_str())), want, "{ip}");
            hits += usize::from(want.is_some());
        }
        assert!(hits >= 250_000, "{file}: {hits} hits");
    }
}

#[test]
fn mmdb_files_are_read() {
    let db = load(&fixture("test-asn.mmdb"), false).unwrap();
    assert_eq!(db.info.format, "mmdb");
    let hit = db.lookup("116.202.3.4".parse().unwrap()).unwrap();
    assert_eq!((hit.asn, hit.name.as_str()), (24940, "Hetzner Online GmbH"));
    assert_eq!(
        (hit.range_start.to_string(), hit.range_end.to_string()),
        ("116.202.0.0".into(), "116.202.255.255".into())
    );
    assert_eq!(db.lookup("2a01:4f8:1::1".parse().unwrap()).unwrap().asn, 24940);
    assert_eq!(db.lookup("1.1.1.1".parse().unwrap()).unwrap().asn, 13335);
    assert_eq!(db.lookup("9.9.9.9".parse().unwrap()), None);
}

/// An .mmdb states its build date; one past what a date can say (the year 9999, or past
/// what a clock holds) is no date: the file's own date stands in, labelled so.
#[test]
fn an_mmdb_build_date_no_date_can_say_gives_the_file_date() {
    let db = load(&fixture("test-asn.mmdb"), false).unwrap();
    assert!(
        !db.info.date.contains("file date") && db.info.date.ends_with('Z'),
        "{}",
        db.info.date
    );
    let raw = std::fs::read(fixture("test-asn.mmdb")).unwrap();
    // The metadata's "build_epoch": a uint64 (extended type 2) of 4 bytes.
    let at = raw.windows(11).rposition(|w| w == b"build_epoch").unwrap() + 11;
    assert_eq!(raw[at..at + 2], [0x04, 0x02]);
    let dir = tempfile::tempdir().unwrap();
    let patched = |epoch: u64| {
        let mut out = raw[..at].to_vec();
        out.extend([0x08, 0x02]);
        out.extend(epoch.to_be_bytes());
        out.extend(&raw[at + 6..]);
        let path = dir.path().join(format!("{epoch}.mmdb"));
        std::fs::write(&path, out).unwrap();
        path
    };
    // Past the year 9999: no date RFC 3339 can write.
    let path = patched(0x40_0000_0000);
    let db = load(&path, false).unwrap();
    assert_eq!(db.lookup("1.1.1.1".parse().unwrap()).unwrap().asn, 13335);
    let file_date = whohosts::model::time::rfc3339(std::fs::metadata(&path).unwrap().modified().unwrap());
    assert_eq!(db.info.date, format!("{file_date} (file date)"));
    // Past what a clock holds: the reader refuses the file, with one message.
    let path = patched(u64::MAX);
    let err = load(&path, false).unwrap_err().to_string();
    assert!(err.contains("build_epoch"), "{err}");
}

/// A world with one dual-stack Hetzner instance (127.1.0.2 and fd00:1::2).
fn one_host() -> Env {
    let mut dual = inst("dual.example", Software::Mastodon, "hetzner");
    dual.ipv6 = true;
    Env::start(world(vec![dual], vec![acct("me@dual.example", &[])]))
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

#[test]
fn an_unclosed_quote_names_its_line_or_is_skipped_and_said() {
    let env = one_host();
    let bad = fixture("unclosed-quote.csv");
    let db = bad.to_str().unwrap();
    let out = env.run(&["lookup", "--asn-db", db, "127.3.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("whohosts: {db}:2: quote opened in field 4 is not closed on this line\n")
    );
    let out = env.run(&[
        "lookup",
        "--lenient",
        "--asn-db",
        db,
        "--format",
        "json",
        "127.3.0.1",
        "127.4.0.1",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "whohosts: skipped 1 bad line in ASN database unclosed-quote.csv (--lenient)\n"
    );
    let rows: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0]["addresses"][0]["asn"], 13335,
        "the row after the bad one is read"
    );
    assert_eq!(rows[0]["addresses"][0]["as_name"], "Cloudflare, Inc.");
    assert_eq!(rows[1]["addresses"][0]["asn"], 16276);
    assert_eq!(
        rows[0]["database_skipped_lines"],
        serde_json::json!({"unclosed-quote.csv": 1})
    );
}

#[test]
fn the_licence_is_what_config_or_sidecar_states_else_not_stated() {
    let mut env = one_host();
    let out = text(&env.run(&["asn-db", "info"]).stdout);
    assert!(
        out.contains("\nlicence: the simulator's own table of made-up ranges\n"),
        "{out}"
    );
    env.config.attribution.asn_licence = None;
    env.write_config();
    let out = text(&env.run(&["asn-db", "info"]).stdout);
    assert!(out.ends_with("\nlicence: not stated\n"), "{out}");
    env.config.attribution.asn_licence = Some("CC0 (our own table)".into());
    env.write_config();
    let (snap, _) = env.crawl(&["me@dual.example"]);
    assert_eq!(snap["attribution"]["database"]["licence"], "CC0 (our own table)");
    // The committed cut states its licence through a sidecar, whatever the file is named.
    env.config.attribution.asn_licence = None;
    env.write_config();
    let dir = env.dir.path();
    for name in ["asn-ipv4-cut.csv.gz", "asn-ipv4-cut.csv.gz.source.json"] {
        std::fs::copy(fixture(name), dir.join(name.replace("asn-ipv4-cut", "mine"))).unwrap();
    }
    env.config.attribution.asn_database = dir.join("mine.csv.gz").as_path().into();
    env.write_config();
    let out = text(&env.run(&["asn-db", "info"]).stdout);
    assert!(
        out.ends_with("\nlicence: CC BY 4.0: RouteViews, DB-IP.com and NRO (via ip-location-db)\n"),
        "{out}"
    );
    std::fs::remove_file(dir.join("mine.csv.gz.source.json")).unwrap();
    let out = text(&env.run(&["asn-db", "info"]).stdout);
    assert!(out.ends_with("\nlicence: not stated\n"), "{out}");
}

#[test]
fn asn_db_update_refuses_an_implausibly_small_table() {
    let mut env = one_host();
    env.config.attribution.asn_database = Default::default();
    env.write_config();
    let port = env.sim.http_port;
    let url = format!("http://dual.example:{port}/data/ip2asn-combined.tsv.gz");
    let out = env.run(&["asn-db", "update", "--url", &url]);
    assert_eq!(
        text(&out.stderr),
        format!(
            "whohosts: download from {url} is not a usable database (it has 13 IPv4 and 13 IPv6 ranges, and a table needs at least 10000 of each (--min-ranges))\n"
        ),
        "no previous database, none said to be kept"
    );
    let out = env.run(&["asn-db", "update", "--url", &url, "--min-ranges", "10"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with(&format!("ranges from {url} (licence: not stated).\n")));
    let before = text(&env.run(&["asn-db", "info"]).stdout);
    assert!(before.contains("licence: not stated\n"), "{before}");
    let out = env.run(&["asn-db", "update", "--url", &url]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(
        err,
        format!(
            "whohosts: download from {url} is not a usable database (it has 13 IPv4 and 13 IPv6 ranges, and a table needs at least 10000 of each (--min-ranges)); kept the previous database\n"
        )
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(text(&env.run(&["asn-db", "info"]).stdout), before, "old database kept");
    let out = env.run(&[
        "asn-db",
        "update",
        "--url",
        &url,
        "--min-ranges",
        "2",
        "--licence",
        "CC0",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = text(&env.run(&["asn-db", "info"]).stdout);
    assert!(after.ends_with("licence: CC0\n"), "{after}");
}

#[test]
fn lookup_takes_urls_and_host_port_and_refuses_the_rest_in_one_sentence() {
    let env = one_host();
    let out = env.run(&[
        "lookup",
        "--format",
        "tsv",
        "http://dual.example",
        "https://dual.example:8443/path",
        "dual.example:443",
        "[fd00:1::2]:443",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows: Vec<Vec<&str>> = stdout.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    let firsts: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[2])).collect();
    assert_eq!(
        firsts,
        [
            ("http://dual.example", "127.1.0.2", "24940"),
            ("http://dual.example", "fd00:1::2", "24940"),
            ("https://dual.example:8443/path", "127.1.0.2", "24940"),
            ("https://dual.example:8443/path", "fd00:1::2", "24940"),
            ("dual.example:443", "127.1.0.2", "24940"),
            ("dual.example:443", "fd00:1::2", "24940"),
            ("[fd00:1::2]:443", "fd00:1::2", "24940"),
        ]
    );
    let long = "a".repeat(300);
    let out = env.run(&["lookup", "", "a b", "bad\u{1b}[31m", &long, "dual.example", "--", "-x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let tail = "; give a host name, an IP address or a URL";
    let want = [
        format!("whohosts: lookup \"\" is empty{tail}"),
        format!("whohosts: lookup \"a b\" contains a space{tail}"),
        format!("whohosts: lookup \"bad\\u{{1b}}[31m\" contains a control character{tail}"),
        format!(
            "whohosts: lookup \"{}…\" is not a valid host name{tail}",
            "a".repeat(60)
        ),
        format!("whohosts: lookup \"-x\" is not a valid host name{tail}"),
    ];
    assert_eq!(err.lines().collect::<Vec<_>>(), want);
    assert!(
        text(&out.stdout).starts_with("dual.example\n  127.1.0.2  AS24940"),
        "the good one is answered"
    );
}

#[test]
fn lookup_stream_gives_one_line_per_address_starting_with_the_input() {
    let env = one_host();
    let out = env
        .cmd()
        .args(["lookup", "-"])
        .write_stdin("https://dual.example/@me\n127.1.0.9\ndual.example\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        6,
        "header, two addresses of the first input, one of the second, two of the third"
    );
    // A host name after a plain address still goes through DNS.
    assert!(lines[4].starts_with("dual.example\t127.1.0.2\t24940\t"), "{}", lines[4]);
    assert!(lines[5].starts_with("dual.example\tfd00:1::2\t24940\t"), "{}", lines[5]);
    assert!(
        lines[1].starts_with("https://dual.example/@me\t127.1.0.2\t24940\t"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("https://dual.example/@me\tfd00:1::2\t24940\t"),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("127.1.0.9\t127.1.0.9\t24940\t"), "{}", lines[3]);
}

/// A line that is not UTF-8 is refused on its own (one row, one stderr line naming its line
/// number, exit 1), and the lines after it are still answered.
#[test]
fn lookup_stream_refuses_a_line_that_is_not_utf8_and_goes_on() {
    let env = one_host();
    let out = env
        .cmd()
        .args(["lookup", "-"])
        .write_stdin(b"127.1.0.9\n\xff\xfe\n127.1.0.9\n".to_vec())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "whohosts: lookup \"\u{fffd}\u{fffd}\" (stdin line 2) is not UTF-8 text; give a host name, an IP address or a URL\n"
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "header, two answers, one refused row: {stdout}");
    assert!(lines[1].starts_with("127.1.0.9\t127.1.0.9\t24940\t"), "{}", lines[1]);
    assert!(
        lines[2].ends_with("(stdin line 2) is not UTF-8 text; give a host name, an IP address or a URL"),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("127.1.0.9\t127.1.0.9\t24940\t"), "{}", lines[3]);
}

/// In a stream an address in no range is an answer (its row says "no AS found", nothing on
/// stderr, exit 0); a malformed line stays an error, one line naming its line number, exit 1.
#[test]
fn lookup_stream_answers_an_address_in_no_range_and_names_bad_lines() {
    let env = one_host();
    let out = env
        .cmd()
        .args(["lookup", "-"])
        .write_stdin("9.9.9.9\n2001:db8::1\n127.1.0.9\n")
        .output()
        .unwrap();
    assert_eq!((out.status.code(), text(&out.stderr)), (Some(0), String::new()));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(
        lines[1],
        "9.9.9.9\t9.9.9.9\t\t\t(no AS found)\t\t\t\t9.9.9.0/24\t\t\t\tsim-asn.csv (ip-location-db-csv)\tno AS found"
    );
    assert!(lines[2].starts_with("2001:db8::1\t2001:db8::1\t\t"), "{}", lines[2]);
    assert!(lines[2].ends_with("\tno AS found"), "{}", lines[2]);
    assert!(lines[3].starts_with("127.1.0.9\t127.1.0.9\t24940\t"), "{}", lines[3]);

    let out = env
        .cmd()
        .args(["lookup", "-"])
        .write_stdin("9.9.9.9\n\na b\n127.1.0.9\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "whohosts: lookup \"a b\" (stdin line 3) contains a space; give a host name, an IP address or a URL\n"
    );
    assert_eq!(text(&out.stdout).lines().count(), 4, "every line answered");
}

#[test]
fn lookup_stream_into_a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, Write};
    let env = one_host();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .arg("--config")
        .arg(env.config_path())
        .args(["--quiet", "lookup", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for i in 0..200_000u32 {
            let ip = std::net::Ipv4Addr::from(0x7f01_0000 | (i & 0xffff));
            if writeln!(stdin, "{ip}").is_err() {
                break;
            }
        }
    });
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("target\taddress"), "{first}");
    // The reader is gone: the next write the binary makes meets a broken pipe.
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!((out.status.code(), text(&out.stderr)), (Some(0), String::new()));
}

#[test]
fn a_team_cymru_timeout_is_not_reported_as_no_as() {
    let mut env = one_host();
    // A nameserver on loopback that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    env.config.attribution.asn_database = Default::default();
    env.config.dns.nameservers = vec![silent.local_addr().unwrap().to_string()];
    env.config.dns.timeout_secs = 0.3;
    env.config.dns.attempts = 1;
    env.write_config();
    let out = env.run(&["lookup", "127.1.0.9"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "127.1.0.9\n  127.1.0.9  AS unknown: Team Cymru query timed out\n    (Team Cymru IP-to-ASN (DNS, origin.asn.cymru.com))\n"
    );
    let out = env.run(&["lookup", "--format", "json", "127.1.0.9"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["addresses"][0]["lookup_error"], "Team Cymru query timed out");
    assert_eq!(v["addresses"][0]["organisation"], "(AS look-up failed)");
    // The simulator's DNS answers NXDOMAIN for an address outside its ranges: no AS.
    env.config.dns.nameservers = vec![env.sim.dns_addr.to_string()];
    env.write_config();
    let out = env.run(&["lookup", "--format", "json", "127.250.0.1"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["addresses"][0]["organisation"], "(no AS found)");
    assert_eq!(v["addresses"][0].get("lookup_error"), None);
}
