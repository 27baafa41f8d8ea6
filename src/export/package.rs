//! The description beside the data: `datapackage.json` (Frictionless Data Package v2, valid
//! as v1 too) and a README.md data dictionary for people.

use serde_json::{json, Value as Json};

use super::pseudonym::PSEUDONYM_BITS;
use super::table::{Table, Value};
use super::{Format, Manifest};

/// The file name of `table` in an export of `format`.
pub fn file_name(table: &Table, format: Format, gzip: bool) -> String {
    match (format, gzip) {
        (Format::Parquet, _) => format!("{}.parquet", table.name),
        (Format::Csv, false) => format!("{}.csv", table.name),
        (Format::Csv, true) => format!("{}.csv.gz", table.name),
    }
}

/// Values read as missing. Frictionless reads Parquet through pandas, which turns a null
/// integer into NaN: `nan` is declared missing there (so a text cell `nan` would read as
/// missing in frictionless only; DuckDB and pandas read the Parquet types).
fn missing_values(format: Format) -> Json {
    match format {
        Format::Csv => json!([""]),
        Format::Parquet => json!(["", "nan"]),
    }
}

fn schema(t: &Table, format: Format) -> Json {
    let fields: Vec<Json> = t
        .fields
        .iter()
        .map(|f| {
            let mut field = json!({
                "name": f.name,
                "type": f.kind.schema_name(),
                "description": f.description,
            });
            if f.required {
                field["constraints"] = json!({ "required": true });
            }
            field
        })
        .collect();
    let foreign: Vec<Json> = t
        .foreign_keys
        .iter()
        .map(|k| json!({ "fields": k.fields, "reference": { "resource": k.resource, "fields": k.reference } }))
        .collect();
    json!({
        "fields": fields,
        "missingValues": missing_values(format),
        "primaryKey": t.primary_key,
        "foreignKeys": foreign,
    })
}

fn resource(t: &Table, m: &Manifest) -> Json {
    let path = file_name(t, m.format, m.gzip);
    let mut r = json!({
        "name": t.name,
        "type": "table",
        "profile": "tabular-data-resource",
        "path": path,
        "description": t.description,
        "schema": schema(t, m.format),
    });
    match m.format {
        Format::Csv => {
            r["format"] = json!("csv");
            r["mediatype"] = json!("text/csv");
            r["encoding"] = json!("utf-8");
            r["dialect"] = json!({ "delimiter": ",", "header": true, "quoteChar": "\"", "doubleQuote": true });
            if m.gzip {
                r["compression"] = json!("gz");
            }
        }
        Format::Parquet => {
            r["format"] = json!("parquet");
            r["mediatype"] = json!("application/vnd.apache.parquet");
        }
    }
    r
}

/// The `datapackage.json` of an export.
pub fn datapackage(tables: &[Table], m: &Manifest) -> Json {
    json!({
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "profile": "tabular-data-package",
        "name": "whohosts-export",
        "title": "whohosts snapshots: who hosts the accounts a social graph follows, or the instances of a list",
        "description": "Follow-list snapshots crawled by whohosts, surveys of instance lists and contacts snapshots, pseudonymised; see README.md for the population and method.",
        "version": "1.0.0",
        "created": m.created,
        "contributors": [{ "title": m.tool, "roles": ["creator"] }],
        "sources": m.sources.iter().map(|s| json!({ "title": s })).collect::<Vec<_>>(),
        "resources": tables.iter().map(|t| resource(t, m)).collect::<Vec<_>>(),
        "whohosts": {
            "tool": m.tool,
            "snapshots": m.snapshots,
            "include_handles": m.include_handles,
            "pseudonyms": if m.include_handles { "none: handles, actor URIs and display names are included".to_string() } else { m.key_kind.clone() },
            "pseudonym_key": m.key_kind,
            "pseudonym_bits": PSEUDONYM_BITS,
            "precise": m.precise,
            "min_instance_users": m.min_instance_users,
            "min_group_members": m.min_group_members,
        },
    })
}

/// The README.md data dictionary of an export.
pub fn readme(tables: &[Table], m: &Manifest) -> String {
    let mut s = String::new();
    s.push_str("# whohosts export\n\n");
    s.push_str(&format!(
        "Made by {} on {} from snapshots {}. Each snapshot keeps its id from the source database.\n\n",
        m.tool,
        m.created,
        m.snapshots.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
    ));
    s.push_str(&privacy_text(m));
    s.push_str(&m.method);
    s.push_str(&m.population);
    s.push_str("## Tables\n\n");
    for t in tables {
        s.push_str(&format!(
            "### `{}` ({})\n\n{}\n\nPrimary key: {}.\n\n| field | type | description |\n| --- | --- | --- |\n",
            t.name,
            file_name(t, m.format, m.gzip),
            t.description,
            t.primary_key.join(", ")
        ));
        for f in &t.fields {
            let req = if f.required { "" } else { " (may be null)" };
            s.push_str(&format!(
                "| `{}` | {}{} | {} |\n",
                f.name,
                f.kind.schema_name(),
                req,
                f.description
            ));
        }
        for k in &t.foreign_keys {
            s.push_str(&format!(
                "\n({}) refers to `{}` ({}).\n",
                k.fields.join(", "),
                k.resource,
                k.reference.join(", ")
            ));
        }
        s.push('\n');
    }
    s.push_str(&reading(tables, m));
    s
}

/// How to read the files, with an example query for each kind of snapshot the export holds
/// (one whose table has rows: on an empty file DuckDB cannot tell a column's type), on the
/// files as this export names them, so each runs as written in DuckDB from the export's
/// directory.
fn reading(tables: &[Table], m: &Manifest) -> String {
    let file = |name: &str| {
        tables
            .iter()
            .find(|t| t.name == name && !t.rows.is_empty())
            .map(|t| file_name(t, m.format, m.gzip))
    };
    let mut s = "## Reading it\n\nCSV: UTF-8, a header line, RFC 4180 quoting; null is an empty field; booleans `true`/`false`; \
         times ISO 8601 in UTC; a text field that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or `'` \
         has a `'` put before it, so a spreadsheet does not run it as a formula (a handle `@user@host` of letters, \
         digits, `_`, `.` and `-` is kept; to undo it, drop the first character of every text field that starts \
         with `'`; numbers are never changed). Parquet: INT64, DOUBLE, BOOLEAN, UTF-8 strings, times as TIMESTAMP (UTC, microseconds). \
         `datapackage.json` describes every field (Frictionless Data Package), with primary and foreign keys.\n"
        .to_string();
    // Each example only where a snapshot of its kind is: a contacts snapshot's buckets have
    // no organisation level under the accounts weight, nor a survey's.
    let holds = |kind: &dyn Fn(&str) -> bool| {
        tables.iter().filter(|t| t.name == "snapshots").any(|t| {
            t.rows
                .iter()
                .any(|r| matches!(r.get(1), Some(Value::Text(k)) if kind(k)))
        })
    };
    let survey_kind = crate::store::instances::KIND;
    let follows = holds(&|k| k != super::contacts::KIND && k != survey_kind);
    if let (true, Some(buckets)) = (follows, file("metric_buckets")) {
        s += &format!(
            "\n```sql\n-- DuckDB, in this directory: top organisations by distinct accounts in each snapshot\n\
             SELECT snapshot_id, key AS organisation, round(100 * share, 1) AS pct\n  FROM '{buckets}' \
             WHERE level = 'organisation' AND weight = 'accounts' AND rank <= 3\n ORDER BY snapshot_id, rank;\n```\n"
        );
    }
    let survey = holds(&|k| k == survey_kind);
    if let (true, Some(buckets), Some(snapshots), Some(population)) =
        (survey, file("metric_buckets"), file("snapshots"), file("population"))
    {
        s += &format!(
            "\n```sql\n-- DuckDB, in this directory: top organisations by the users their instances declare in each survey \
             (kind `instances`) that left no instance out by a software filter (its population `other_software` is 0): \
             a survey made with `--software` counts the users of that software only, so its shares are comparable \
             with those of surveys filtered alike, not with these\n\
             SELECT b.snapshot_id, b.key AS organisation, b.amount AS users, round(100 * b.share, 1) AS pct\n  \
             FROM '{buckets}' b JOIN '{snapshots}' s ON s.snapshot_id = b.snapshot_id\n  \
             JOIN '{population}' p ON p.snapshot_id = b.snapshot_id AND p.name = 'other_software'\n \
             WHERE s.kind = 'instances' AND p.value = 0\n   \
             AND b.level = 'organisation' AND b.weight = 'users' AND b.rank <= 3\n \
             ORDER BY b.snapshot_id, b.rank;\n```\n"
        );
    }
    let contacts = holds(&|k| k == super::contacts::KIND);
    if let (true, Some(buckets), Some(snapshots)) = (contacts, file("metric_buckets"), file("snapshots")) {
        s += &format!(
            "\n```sql\n-- DuckDB, in this directory: contacts by provider in each contacts snapshot, as the report's \
             provider level gives them (providers under the minimum group size merged as (small groups))\n\
             SELECT b.snapshot_id, b.key AS provider, b.amount AS contacts, round(100 * b.share, 1) AS pct\n  \
             FROM '{buckets}' b JOIN '{snapshots}' s ON s.snapshot_id = b.snapshot_id\n \
             WHERE s.kind = 'contacts' AND b.level = 'provider' AND b.weight = 'contacts'\n \
             ORDER BY b.snapshot_id, b.rank;\n```\n"
        );
    }
    if let Some(domains) = file("contact_domains") {
        s += &format!(
            "\n```sql\n-- DuckDB, in this directory: contacts by protocol in each contacts snapshot, from the domain \
             rows (a domain under the minimum group size is in a (small groups) row that keeps its protocol but not \
             its provider, so sum providers from metric_buckets, not from these rows)\n\
             SELECT snapshot_id, protocol, sum(contacts) AS contacts, count(*) AS rows\n  \
             FROM '{domains}'\n GROUP BY snapshot_id, protocol\n ORDER BY snapshot_id, contacts DESC;\n```\n"
        );
    }
    s
}

fn privacy_text(m: &Manifest) -> String {
    let who = if m.include_handles {
        "**Handles, actor URIs and display names are included** (`--include-handles` was given): this export identifies people.".to_string()
    } else {
        format!(
            "Handles, actor URIs and display names are replaced by pseudonyms: the first {PSEUDONYM_BITS} bits (hex) of HMAC-SHA256 under a secret key never exported. Key: {}. The same account has the same pseudonym in every snapshot and every export of one database made with the same key; exports of two databases share no pseudonym. `moved_to` holds the target's account pseudonym. Error messages, which name hosts and accounts, are left out.",
            m.key_kind
        )
    };
    let precise = if m.precise {
        "**Exact per-account values** (`--precise` was given): `followers_count` and `following_count` are the counts the servers gave, `last_status_at` the day (or time) of the last post and `bot` each account's flag. Together with the instance they can single out an account.".to_string()
    } else {
        "Per-account quasi-identifiers are coarsened: `followers_count` and `following_count` hold the lower bound of their band (0; 1 for 1–9; 10 for 10–99; 100 for 100–999; 1000 for 1000 or more) and `last_status_at` the ISO week of the last post (`2026-W47`); `bot` is empty per account, the bots counted per instance in `instances.bots`.".to_string()
    };
    format!(
        "## Privacy\n\n{who}\n\n{precise}\n\nMinimum group size: every group published by name (an instance, a metric bucket at every level) holds at least {} distinct accounts and at least {} NodeInfo users (instances of unknown size count none). Instances under it are generalised to one bucket per AS (`small instance in AS24940`; `small instance, AS unknown`); such a bucket under the minimum again is merged into `(small groups)`, whose members have no `dns_answers`, `addresses` or `host_shares` rows (they would name their AS or hosting). `opted_out` merges every instance with fewer opted-out accounts than the minimum into one `(small groups)` row, left out when it is under the minimum too (the total is `population.accounts_opted_out`). In `metric_buckets`, at every level (instance, organisation, AS, range, block, country, hosting) and under every weight, buckets under the minimum (by their `accounts` and `users` amounts) are merged into one `(small groups)` bucket (at the range and block levels so is every bucket that holds no large instance, whatever its size, so no range or /24 of a small instance is named), marked `metric_summary.rebucketed`; `metric_summary` keeps the figures of every bucket as the report states them (single numbers that name no one), so a level's published buckets do not recompute them when it is rebucketed (they would count `(small groups)` as one actor); when that merged bucket is itself under the minimum it is not published: its weight is in `metric_apart` as `small groups` (suppressed rather than shown, since a bucket that small could single out one instance or account), so buckets plus apart still add up to every total. Instances with fewer than {} NodeInfo users, or of unknown size, are generalised to one bucket per AS (`small instance in AS24940`; `small instance, AS unknown`) everywhere: `instances` (one row per bucket, `members` counting them), the `instance` column of every table, `dns_answers` and `addresses` (without the CNAME chain, address, range, CIDR and /24 or /48 that would name the host), `host_shares` (the members' shares weighted by their accounts) and the instance level of the metrics, whose buckets are merged (`metric_summary.rebucketed`). Accounts that opted out of crawlers (noindex, indexable false, discoverable false, `#nobot`/`#noindex`) are never rows: they are counted in `opted_out`, `lists.opted_out`, `population` and every metric; seeds that opted out are counted in `snapshots.seeds_omitted`.\n\n",
        m.min_group_members,
        m.min_instance_users,
        m.min_instance_users
    )
}
