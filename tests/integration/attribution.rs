//! Attribution through the real binary: organisations, CDN buckets, hosting services, the
//! address policy, `lookup`, the Team Cymru fallback and `asn-db update|info`.

use serde_json::Value;
use whohosts_sim::world::Software;

use crate::common::*;

fn hosting_world() -> Env {
    let mut cdn = inst("fronted.example", Software::Mastodon, "cloudflare");
    cdn.ipv6 = true;
    let mut managed = inst("managed.example", Software::Mastodon, "hetzner-cloud");
    managed.cname = Some("managed.masto.host".into());
    let mut dual = inst("dual.example", Software::Mastodon, "hetzner");
    dual.ipv6 = true;
    let mut accounts = vec![];
    let mut follows = vec![];
    for (d, n) in [
        ("dual.example", 4),
        ("managed.example", 2),
        ("fronted.example", 3),
        ("assoc.example", 1),
    ] {
        let c = crowd(d, n);
        follows.extend(handles_of(&c));
        accounts.extend(c);
    }
    accounts.push(acct("me@dual.example", &follows));
    Env::start(world(
        vec![
            dual,
            managed,
            cdn,
            inst("assoc.example", Software::Mastodon, "association"),
        ],
        accounts,
    ))
}

#[test]
fn instances_are_grouped_by_organisation_with_cdn_and_hosting_labels() {
    let env = hosting_world();
    let (snap, code) = env.crawl(&["me@dual.example"]);
    assert_eq!(code, 0);
    let hosts = &snap["hosts"];
    let dual = &hosts["dual.example"];
    assert_eq!(dual["addresses"].as_array().unwrap().len(), 2, "A and AAAA");
    assert_eq!(dual["shares"], serde_json::json!({"Hetzner": 1.0}));
    assert_eq!(dual["dns_ttl"], 300, "the simulator's TTL");
    assert_eq!(dual["connected"], "127.1.0.2");
    assert_eq!(dual["addresses"][0]["asn"], 24940);
    assert_eq!(dual["addresses"][0]["range_start"], "127.1.0.0");
    assert_eq!(dual["addresses"][0]["cover"], "127.1.0.0/24");
    assert_eq!(dual["addresses"][1]["ip"], "fd00:1::2");
    assert_eq!(dual["addresses"][1]["cover"], "fd00:1::/48");
    let managed = &hosts["managed.example"];
    assert_eq!(managed["cnames"], serde_json::json!(["managed.masto.host"]));
    assert_eq!(managed["hosting_service"], "Masto.host");
    assert_eq!(
        managed["shares"],
        serde_json::json!({"Hetzner": 1.0}),
        "AS213230 is Hetzner too"
    );
    assert_eq!(
        hosts["fronted.example"]["shares"],
        serde_json::json!({"behind CDN Cloudflare, origin unknown": 1.0})
    );
    assert_eq!(
        hosts["assoc.example"]["shares"],
        serde_json::json!({"Tiny Association Hosting e.V.": 1.0})
    );
    let db = &snap["attribution"]["database"];
    assert_eq!(db["file"], "sim-asn.csv");
    assert_eq!(db["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(snap["attribution"]["address_policy"], "split");
    let text = String::from_utf8(env.run(&["crawl", "me@dual.example"]).stdout).unwrap();
    let org_lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("By hosting organisation"))
        .collect();
    assert_eq!(org_lines[0], "By hosting organisation (3 organisations, 10 accounts)");
    assert_eq!(
        org_lines[1].split_whitespace().collect::<Vec<_>>(),
        ["1", "Hetzner", "6", "60.0", "%", "█████████"]
    );
    assert_eq!(
        org_lines[2]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>(),
        ["2", "behind CDN Cloudflare, origin unknown", "3", "30.0 %", "████▌"]
    );
}

#[test]
fn lookup_prints_the_chain_and_fails_on_unresolvable_hosts() {
    let env = hosting_world();
    let out = env.run(&["lookup", "managed.example", "127.3.0.2", "nowhere.example"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "managed.example → managed.masto.host [hosting service: Masto.host]"
    );
    assert_eq!(
        lines[1..5],
        [
            "  127.2.0.2  AS213230 Hetzner Cloud GmbH",
            "    org Hetzner",
            "    range 127.2.0.0-127.2.255.255  cidr 127.2.0.0/16",
            "    /24 127.2.0.0/24  (sim-asn.csv (ip-location-db-csv))"
        ]
    );
    assert_eq!(lines[5], "127.3.0.2");
    assert!(lines[6].ends_with("AS13335 Cloudflare, Inc."), "{}", lines[6]);
    assert_eq!(lines[7], "    org Cloudflare [CDN Cloudflare: origin unknown]");
    assert_eq!(lines[10], "nowhere.example: cannot resolve: NXDOMAIN");
    assert!(lines.iter().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn lookup_streams_tsv_and_json_from_stdin() {
    let env = hosting_world();
    let out = env
        .cmd()
        .args(["lookup", "-"])
        .write_stdin("dual.example\n# comment\n\n127.12.0.9\nnowhere.example\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows[0][0], "target");
    assert!(rows.iter().all(|r| r.len() == 14), "{rows:?}");
    assert_eq!(
        rows[1][..5],
        ["dual.example", "127.1.0.2", "24940", "Hetzner Online GmbH", "Hetzner"]
    );
    assert_eq!(rows[2][..2], ["dual.example", "fd00:1::2"]);
    assert_eq!(
        rows[3][..5],
        [
            "127.12.0.9",
            "127.12.0.9",
            "64500",
            "TINYHOST - Tiny Association Hosting e.V., DE",
            "Tiny Association Hosting e.V."
        ]
    );
    assert_eq!((rows[4][0], rows[4][13]), ("nowhere.example", "NXDOMAIN"));
    let out = env
        .cmd()
        .args(["lookup", "--format", "json", "-"])
        .write_stdin("fronted.example\n")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["shares"],
        serde_json::json!({"behind CDN Cloudflare, origin unknown": 1.0})
    );
}

/// `multi.example` has two IPv4 addresses (Hetzner, OVH) and an IPv6 address
/// (DigitalOcean); its 3 accounts plus 1 on `solo.example` (netcup) are followed.
fn multi_homed_world() -> Env {
    let mut multi = inst("multi.example", Software::Mastodon, "hetzner");
    multi.extra_ipv4 = vec!["ovh".into()];
    multi.ipv6 = true;
    multi.ipv6_provider = Some("digitalocean".into());
    let mut accounts = crowd("multi.example", 3);
    accounts.extend(crowd("solo.example", 1));
    let follows = handles_of(&accounts);
    accounts.push(acct("me@solo.example", &follows));
    Env::start(world(
        vec![multi, inst("solo.example", Software::Mastodon, "netcup")],
        accounts,
    ))
}

#[test]
fn address_policy_is_configurable() {
    let env = multi_homed_world();
    let crawl = |policy: &str| {
        let (v, code) = env.crawl(&["--address-policy", policy, "me@solo.example"]);
        assert_eq!(code, 0);
        assert_eq!(v["attribution"]["address_policy"], policy);
        v
    };
    let split = crawl("split");
    let multi = &split["hosts"]["multi.example"];
    assert_eq!(ips(multi), ["127.1.0.2", "127.4.0.2", "fd00:7::2"]);
    let third = 1.0 / 3.0;
    assert_eq!(
        multi["shares"],
        serde_json::json!({"Hetzner": third, "OVH": third, "DigitalOcean": third})
    );
    let ipv4 = crawl("ipv4");
    assert_eq!(
        ipv4["hosts"]["multi.example"]["shares"],
        serde_json::json!({"Hetzner": 0.5, "OVH": 0.5})
    );
    let first = crawl("first");
    let connected = first["hosts"]["multi.example"]["connected"]
        .as_str()
        .unwrap()
        .to_string();
    let org = match connected.as_str() {
        "127.1.0.2" => "Hetzner",
        "127.4.0.2" => "OVH",
        other => panic!("connected to {other}"),
    };
    assert_eq!(
        first["hosts"]["multi.example"]["shares"],
        serde_json::json!({ org: 1.0 })
    );
    // The report's organisation grouping (3 accounts on multi.example, 1 on solo.example).
    let orgs = |snap: &Value| -> Vec<(String, f64)> {
        let text = env.run(&[
            "crawl",
            "--address-policy",
            snap["attribution"]["address_policy"].as_str().unwrap(),
            "me@solo.example",
        ]);
        String::from_utf8(text.stdout)
            .unwrap()
            .lines()
            .skip_while(|l| !l.starts_with("By hosting organisation "))
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with("top-3"))
            .map(|l| {
                // rank, organisation, weight, share, bar: columns apart by two spaces or more
                let cells: Vec<&str> = l.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
                (cells[1].to_string(), cells[2].parse().unwrap())
            })
            .collect()
    };
    let named = |v: &[(&str, f64)]| v.iter().map(|(n, w)| (n.to_string(), *w)).collect::<Vec<_>>();
    assert_eq!(
        orgs(&split),
        named(&[("DigitalOcean", 1.0), ("Hetzner", 1.0), ("OVH", 1.0), ("netcup", 1.0)])
    );
    assert_eq!(orgs(&ipv4), named(&[("Hetzner", 1.5), ("OVH", 1.5), ("netcup", 1.0)]));
    assert_eq!(orgs(&first), named(&[(org, 3.0), ("netcup", 1.0)]));
    let env = hosting_world();
    let out = env.run(&[
        "crawl",
        "--format",
        "json",
        "--address-policy",
        "first",
        "me@dual.example",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["attribution"]["address_policy"], "first");
    let out = env.run(&["crawl", "--address-policy", "ipv4", "me@dual.example"]);
    let text = unwrapped(&String::from_utf8(out.stdout).unwrap());
    assert!(text.contains("address policy ipv4: IPv4 addresses only"), "{text}");
}

#[test]
fn without_a_database_team_cymru_dns_answers() {
    let mut env = hosting_world();
    env.config.attribution.asn_database = Default::default();
    env.write_config();
    let out = env.run(&["lookup", "dual.example"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.matches("no IP-to-ASN database").count(),
        0,
        "--quiet hides the notice: {stderr}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "127.1.0.2  AS24940 Hetzner Online GmbH\n    org Hetzner  country DE\n    range 127.1.0.0-127.1.255.255"
        ),
        "{text}"
    );
    assert!(
        text.contains("(Team Cymru IP-to-ASN (DNS, origin.asn.cymru.com))"),
        "{text}"
    );
    // A NAT64 address is asked about as the IPv4 address it embeds, and covered by its /24.
    let out = env.run(&["lookup", "64:ff9b::127.1.0.2"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "64:ff9b::7f01:2  AS24940 Hetzner Online GmbH\n    org Hetzner  country DE\n    range 127.1.0.0-127.1.255.255"
        ) && text.contains("/24 127.1.0.0/24"),
        "{text}"
    );
    let mut c = assert_cmd::Command::cargo_bin("whohosts").unwrap();
    let out = c
        .arg("--config")
        .arg(env.config_path())
        .args(["lookup", "dual.example"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.matches("no IP-to-ASN database").count(),
        1,
        "said once: {stderr}"
    );
}

#[test]
fn asn_db_update_keeps_the_old_database_until_the_new_one_is_whole() {
    let mut env = hosting_world();
    env.config.attribution.asn_database = Default::default();
    env.write_config();
    let port = env.sim.http_port;
    let out = env.run(&["asn-db", "info"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .starts_with("whohosts: no IP-to-ASN database in "));
    let url = format!("http://dual.example:{port}/data/ip2asn-combined.tsv.gz");
    let small = ["--min-ranges", "10", "--licence", "public domain (iptoasn.com)"];
    let out = env.run(&[&["asn-db", "update", "--url", &url][..], &small].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains(": 13 IPv4 and 13 IPv6 ranges from http://dual.example:"));
    let info = String::from_utf8(env.run(&["asn-db", "info"]).stdout).unwrap();
    assert!(info.contains("format: iptoasn-tsv\n"), "{info}");
    assert!(info.contains(&format!("source: {url}\n")), "{info}");
    assert!(info.contains("ranges: 13 IPv4, 13 IPv6"), "{info}");
    assert!(info.contains("licence: public domain"), "{info}");
    let broken = format!("http://dual.example:{port}/data/broken.tsv.gz");
    let out = env.run(&[&["asn-db", "update", "--url", &broken][..], &small].concat());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("is not a usable database ("), "{err}");
    assert!(err.ends_with("); kept the previous database\n"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let again = String::from_utf8(env.run(&["asn-db", "info"]).stdout).unwrap();
    assert_eq!(again, info, "the previous database is still in use");
    // The downloaded database now attributes crawls (country from the TSV).
    let text = String::from_utf8(env.run(&["lookup", "dual.example"]).stdout).unwrap();
    assert!(
        text.contains("AS24940 Hetzner Online GmbH\n    org Hetzner  country DE"),
        "{text}"
    );
}

#[test]
fn bad_database_lines_name_file_and_line_or_are_skipped() {
    let env = hosting_world();
    let bad = env.dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "127.1.0.0,127.1.255.255,24940,Hetzner\n127.2.0.0,oops,213230,Hetzner\n",
    )
    .unwrap();
    let out = env.run(&["lookup", "--asn-db", bad.to_str().unwrap(), "127.1.0.9"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        format!(
            "whohosts: {}:2: \"oops\" is neither an address nor an integer\n",
            bad.display()
        )
    );
    let out = env.run(&["lookup", "--lenient", "--asn-db", bad.to_str().unwrap(), "127.1.0.9"]);
    assert!(out.status.success());
}

#[test]
fn a_corrupt_database_file_is_one_clear_line() {
    let env = hosting_world();
    let bad = env.dir.path().join("asn-ipv4.csv.gz");
    std::fs::write(&bad, [0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]).unwrap();
    let out = env.run(&["lookup", "--asn-db", bad.to_str().unwrap(), "127.1.0.9"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!("whohosts: ASN database {}: gzip: ", bad.display())),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let empty = env.dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let out = env.run(&["lookup", "--asn-db", empty.to_str().unwrap(), "127.1.0.9"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        format!("whohosts: ASN database {}: the file is empty\n", empty.display())
    );
}

/// `lookup`'s text fits 80 columns whatever the names (issue #15): a long name and its long
/// CNAME are cut with `…`, each address's AS, organisation, range and block are lines of their
/// own (IPv6 too), an unresolvable long name wraps; TSV keeps every name whole.
#[test]
fn lookup_text_fits_80_columns_with_long_names() {
    let label = |c: &str| c.repeat(63);
    let long = format!("{}.{}.example", label("l"), label("m"));
    let target = format!("{}.{}.example", label("c"), label("n"));
    let mut fronted = inst(&long, Software::Mastodon, "cloudflare");
    fronted.ipv6 = true;
    fronted.cname = Some(target.clone());
    let env = Env::start(world(vec![fronted], vec![]));
    let gone = format!("{}.{}.example", label("g"), label("o"));
    let out = env.run(&["lookup", &long, &gone]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_fits_80("lookup", &text);
    assert!(
        text.starts_with(&format!("{}…\n  →\n  {}…\n", &long[..79], &target[..77])),
        "{text}"
    );
    assert_eq!(
        text.matches("    org Cloudflare [CDN Cloudflare: origin unknown]\n")
            .count(),
        2,
        "{text}"
    );
    assert!(
        text.ends_with(&format!("{}…\n  cannot resolve: NXDOMAIN\n", &gone[..79])),
        "{text}"
    );
    let tsv = String::from_utf8_lossy(&env.run(&["lookup", "--format", "tsv", &long]).stdout).into_owned();
    assert!(tsv.contains(&format!("\t{target}\t")), "{tsv}");
}
