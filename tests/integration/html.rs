//! The HTML report of the demo world, rendered headless in Debian's chromium: the page is
//! self-contained, every chart is in the DOM and on the screenshot, and nothing is logged
//! as an error. Under CI (`CI=true`) a missing chromium fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Colours of the level charts (src/report/svg.rs) the default report shows: (level, light
/// scheme, dark scheme).
const CHART_COLOURS: [(&str, [u8; 3], [u8; 3]); 3] = [
    ("instance", [0x1f, 0x5f, 0xa8], [0x7c, 0xb1, 0xf4]),
    ("organisation", [0xb3, 0x40, 0x1b], [0xf4, 0x95, 0x6b]),
    ("as", [0x2e, 0x7d, 0x32], [0x72, 0xc4, 0x76]),
];

/// `whohosts --quiet --db DB ARGS`, which must succeed: its stdout.
pub fn with_db(db: &Path, args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("whohosts")
        .unwrap()
        .env_remove("WHOHOSTS_CONFIG")
        .env_remove("NO_COLOR")
        .arg("--quiet")
        .arg("--db")
        .arg(db)
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The demo (40 instances, seed 3, four weeks) crawled into `dir/demo.db`: the database and
/// what the demo printed.
pub fn demo_db(dir: &Path) -> (PathBuf, String) {
    let db = dir.join("demo.db");
    let printed = with_db(&db, &["demo", "--size", "40", "--seed", "3"]);
    (db, printed)
}

/// The demo's database and its HTML report, `dir/page.html`.
pub fn demo_page(dir: &Path) -> PathBuf {
    let (db, _) = demo_db(dir);
    let page = dir.join("page.html");
    with_db(&db, &["report", "--format", "html", "-o", page.to_str().unwrap()]);
    page
}

/// Run chromium headless on `page` with `extra` arguments: (stdout, stderr).
fn chromium(dir: &Path, page: &Path, extra: &[String]) -> (String, String) {
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Lines of chromium's log that say the page failed: console messages, failed loads.
fn page_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("net::ERR") || l.contains("Failed to load"))
        .collect()
}

/// (width, height, RGB pixels) of a PNG file.
fn pixels(path: &Path) -> (usize, usize, Vec<[u8; 3]>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    assert!(step >= 3 && info.bit_depth == png::BitDepth::Eight, "{info:?}");
    let px = buf[..info.buffer_size()]
        .chunks(step)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width as usize, info.height as usize, px)
}

fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 8)
}

fn chromium_present() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{CHROMIUM} is missing under CI: .ci/run installs Debian's chromium"
    );
    eprintln!("SKIPPED: {CHROMIUM} is absent (apt-get install chromium to run this test)");
    false
}

#[test]
fn the_demo_page_is_self_contained_and_renders_every_chart_in_chromium() {
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = demo_page(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    for banned in [
        "<script", "<link", "<img", "<iframe", "src=", "url(", "@import", "https://",
    ] {
        assert!(!html.contains(banned), "the page holds {banned:?}");
    }
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{html:.60}");
    assert!(
        html.contains("<title>") && html.contains("@media print"),
        "title and print styles"
    );
    // Three level charts and three trend charts, each with a text alternative.
    let (dom, log) = chromium(dir.path(), &page, &["--dump-dom".into()]);
    assert_eq!(dom.matches("<svg role=\"img\"").count(), 6, "{dom}");
    assert_eq!(dom.matches("<title id=\"").count(), 6);
    assert_eq!(dom.matches("<desc id=\"").count(), 6);
    for id in [
        "chart-instance",
        "chart-organisation",
        "chart-as",
        "trend-top3",
        "trend-k50",
        "trend-hhi",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no {id}");
    }
    assert_eq!(page_errors(&log), Vec::<&str>::new());
    let shot = dir.path().join("page.png");
    let (_, log) = chromium(
        dir.path(),
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1000,4200".into(),
        ],
    );
    assert_eq!(page_errors(&log), Vec::<&str>::new());
    let (w, h, px) = pixels(&shot);
    assert_eq!((w, h), (1000, 4200));
    let inked = px.iter().filter(|p| !near(**p, [255, 255, 255])).count();
    assert!(
        inked > px.len() / 20,
        "a blank page: {inked} of {} pixels inked",
        px.len()
    );
    for (level, colour, _) in CHART_COLOURS {
        let n = px.iter().filter(|p| near(**p, colour)).count();
        assert!(
            n > 2000,
            "the {level} chart is not on the screenshot ({n} pixels of its colour)"
        );
    }
    // Under the dark scheme every series takes its lighter colour, by its class.
    for (level, _, _) in CHART_COLOURS {
        let class = format!("s-{level}");
        let chart = html
            .split(&format!("id=\"chart-{level}\""))
            .nth(1)
            .unwrap()
            .split("</svg>")
            .next()
            .unwrap();
        assert!(chart.contains(&format!("class=\"{class}\" fill=\"#")), "{chart}");
        assert!(
            html.contains(&format!(".{class}[stroke] {{ stroke: #")),
            "no dark rule for {class}"
        );
    }
    for polyline in html.split("<polyline ").skip(1) {
        assert!(polyline.contains("fill=\"none\" class=\"s-"), "{polyline:.200}");
    }
    assert!(html.contains("<line class=\"axis\""));
    let dark = dir.path().join("dark.png");
    chromium(
        dir.path(),
        &page,
        &[
            format!("--screenshot={}", dark.display()),
            "--window-size=1000,4200".into(),
            "--force-dark-mode".into(),
        ],
    );
    let (_, _, px) = pixels(&dark);
    let background = px.iter().filter(|p| near(**p, [0x12, 0x12, 0x12])).count();
    assert!(
        background > px.len() / 2,
        "not dark: {background} of {} pixels",
        px.len()
    );
    for (level, light, dark) in CHART_COLOURS {
        let n = |c| px.iter().filter(|p| near(**p, c)).count();
        assert!(
            n(dark) > 2000 && n(light) < 50,
            "under the dark scheme the {level} chart has {} pixels of its dark colour and {} of its light one",
            n(dark),
            n(light)
        );
    }
    // The top of the page at 900 px (the README shows docs/report-1280.png and docs/report-390.png,
    // from the_page_fits_a_phone_and_a_desktop_without_sideways_scroll).
    let top = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-top.png");
    chromium(
        dir.path(),
        &page,
        &[
            format!("--screenshot={}", top.display()),
            "--window-size=900,900".into(),
        ],
    );
    assert!(top.is_file());
}

/// (page width, viewport width, width of the table `table` (its id), width of the box it is
/// in) of `page` laid out by chromium in a frame `width` px wide (headless windows are at
/// least 500 px): a copy of the page with a measuring script (the page itself has none)
/// writes them into the framing page, whose DOM is dumped.
fn widths(dir: &Path, page: &Path, width: u32, table: &str) -> [u32; 4] {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = format!(
        "<script>const t = document.getElementById('{table}');\
         parent.document.body.insertAdjacentHTML('beforeend', '<pre>' + 'MEASURED ' + \
         document.documentElement.scrollWidth + ' ' + window.innerWidth + ' ' + t.scrollWidth + ' ' + \
         t.parentElement.clientWidth + '</pre>');</script>\n</body>"
    );
    std::fs::write(dir.join("measured.html"), html.replace("</body>", &probe)).unwrap();
    let frame = dir.join(format!("frame-{width}.html"));
    std::fs::write(
        &frame,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe src=\"measured.html\" \
             style=\"width:{width}px;height:900px;border:0\"></iframe></body></html>"
        ),
    )
    .unwrap();
    let (dom, _) = chromium(
        dir,
        &frame,
        &[
            "--dump-dom".into(),
            "--allow-file-access-from-files".into(),
            format!("--window-size={},900", width + 100),
        ],
    );
    let measured = dom
        .split("MEASURED ")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("no measurement in {dom:.300}"));
    let m: Vec<u32> = measured.split(' ').map(|n| n.parse().unwrap()).collect();
    m.try_into().unwrap()
}

/// At `width` px, neither `page` nor its table `table` (its id) scrolls sideways.
fn fits(dir: &Path, page: &Path, width: u32, table: &str) {
    let [page_w, view_w, table_w, box_w] = widths(dir, page, width, table);
    assert_eq!(view_w, width, "the window is {width} px wide");
    assert!(
        page_w <= view_w,
        "at {width} px the page is {page_w} px wide: it scrolls sideways"
    );
    assert!(
        table_w <= box_w,
        "at {width} px the table {table} is {table_w} px wide in a box of {box_w} px"
    );
}

/// `html` with what changes from run to run written alike: dates and times (the demo's weeks
/// end today) and the version.
fn normalised(html: &str) -> String {
    let html = html.replace(env!("CARGO_PKG_VERSION"), "VERSION");
    let shape = |s: &[u8], pattern: &[u8]| {
        s.len() >= pattern.len()
            && pattern.iter().zip(s).all(|(p, c)| match p {
                b'9' => c.is_ascii_digit(),
                p => p == c,
            })
    };
    let (mut out, mut rest) = (String::new(), html.as_bytes());
    while !rest.is_empty() {
        if shape(rest, b"9999-99-99T99:99:99Z") {
            out += "DATETIME";
            rest = &rest[20..];
        } else if shape(rest, b"9999-99-99") {
            out += "DATE";
            rest = &rest[10..];
        } else {
            let n = rest[1..]
                .iter()
                .position(|b| b.is_ascii_digit())
                .map_or(rest.len(), |i| i + 1);
            out += std::str::from_utf8(&rest[..n]).unwrap();
            rest = &rest[n..];
        }
    }
    out
}

/// The key of the PNG text chunk that names the page a screenshot in docs/ shows.
const PAGE_KEY: &str = "whohosts-page-sha256";

/// The sha256 of `html` normalised, in hex: what a screenshot in docs/ carries.
fn page_digest(html: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(normalised(html).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Copy the PNG `from` to `to` with a text chunk `PAGE_KEY` = `digest`.
fn stamp_png(from: &Path, to: &Path, digest: &str) {
    let mut reader = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(from).unwrap()))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let mut encoder = png::Encoder::new(std::fs::File::create(to).unwrap(), info.width, info.height);
    encoder.set_color(info.color_type);
    encoder.set_depth(info.bit_depth);
    encoder.set_compression(png::Compression::High);
    encoder.add_text_chunk(PAGE_KEY.into(), digest.into()).unwrap();
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&buf[..info.buffer_size()]).unwrap();
    writer.finish().unwrap();
}

/// (width, height, text `PAGE_KEY`) of a PNG in docs/.
fn png_stamp(path: &Path) -> (u32, u32, Option<String>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
    let info = reader.info();
    let text = info
        .uncompressed_latin1_text
        .iter()
        .find(|t| t.keyword == PAGE_KEY)
        .map(|t| t.text.clone());
    (info.width, info.height, text)
}

/// At a desktop and a phone width the page never scrolls sideways; it carries a glossary, the
/// HHI band lines, a dark scheme and one figure per trend-table cell. Screenshots of both
/// widths go to target/tmp for docs/.
#[test]
fn the_page_fits_a_phone_and_a_desktop_without_sideways_scroll() {
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = demo_page(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"));
    assert!(html.contains("@media (prefers-color-scheme: dark)"));
    assert!(
        html.contains("<dt>k50, k75</dt><dd>The fewest organisations"),
        "glossary"
    );
    assert_eq!(html.matches("<line class=\"band\"").count(), 2, "1,000 and 1,800 lines");
    assert!(html.contains(">1800</text>") && html.contains(">1000</text>"));
    // Each level's line is drawn differently: solid, dashed, dotted.
    let hhi = html
        .split("id=\"trend-hhi\"")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    assert_eq!(hhi.matches("<polyline").count(), 3);
    assert!(
        hhi.contains("stroke-width=\"5\"/>")
            && hhi.contains("stroke-dasharray=\"7 4\"")
            && hhi.contains("stroke-dasharray=\"2 3\"")
    );
    let trend = html
        .split("<table id=\"table-trend\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    // Per snapshot a heading row, a row per level with one figure per cell, then the changes
    // in a row of their own as wide as the table.
    let second: Vec<String> = normalised(trend.split("<tbody>\n").nth(2).unwrap())
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        second[..3],
        [
            "<tr><th colspan=\"4\" scope=\"rowgroup\">snapshot #2 of DATE</th></tr>",
            "<tr><td>instance</td><td class=\"n\">57.0 %</td><td class=\"n\">3</td><td class=\"n\">1416</td></tr>",
            "<tr><td>hosting organisation</td><td class=\"n\">77.3 %</td><td class=\"n\">2</td><td class=\"n\">2742</td></tr>",
        ],
        "{trend}"
    );
    assert!(
        second[4].starts_with("<tr><td class=\"changes\" colspan=\"4\">Since the one before: 4 accounts added"),
        "{}",
        second[4]
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for width in [1280, 390] {
        fits(dir.path(), &page, width, "table-trend");
        let shot = shots.join(format!("report-{width}.png"));
        let height = if width < 500 { 2400 } else { 1100 };
        chromium(
            dir.path(),
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                format!("--window-size={width},{height}"),
            ],
        );
        assert!(shot.is_file());
    }
    // docs/report.html is the page the README's screenshots show (each carries its digest):
    // when the page changes, they are made again, with WHOHOSTS_UPDATE_DOCS=1.
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let digest = page_digest(&html);
    if std::env::var_os("WHOHOSTS_UPDATE_DOCS").is_some() {
        std::fs::write(docs.join("report.html"), &html).unwrap();
        for width in [1280, 390] {
            let name = format!("report-{width}.png");
            stamp_png(&shots.join(&name), &docs.join(&name), &digest);
        }
    }
    let stored = std::fs::read_to_string(docs.join("report.html")).unwrap();
    let (stored, now) = (normalised(&stored), normalised(&html));
    if let Some((a, b)) = stored.lines().zip(now.lines()).find(|(a, b)| a != b) {
        panic!(
            "docs/report.html is not the page this build makes, so neither are the README's screenshots: \
             `WHOHOSTS_UPDATE_DOCS=1 cargo test --release --test integration html::the_page_fits` makes them \
             again.\nstored: {a}\nnow:    {b}"
        );
    }
    assert_eq!(
        stored.lines().count(),
        now.lines().count(),
        "docs/report.html is not this build's page"
    );
    for (width, height) in [(1280, 1100), (390, 2400)] {
        assert_eq!(
            png_stamp(&docs.join(format!("report-{width}.png"))),
            (width, height, Some(digest.clone())),
            "docs/report-{width}.png was not made from docs/report.html"
        );
    }
}

/// The contacts report's page (the demo's contact book) fits a phone and a desktop: neither
/// the page nor its server table (long mail server names) scrolls sideways; it says which
/// services the providers run, as the text report does.
#[test]
fn the_contacts_page_fits_a_phone_and_a_desktop_without_sideways_scroll() {
    if !chromium_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("contacts.db");
    with_db(&db, &["demo", "--size", "40", "--seed", "3", "--contacts"]);
    let page = dir.path().join("contacts.html");
    with_db(&db, &["report", "1", "--format", "html", "-o", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"));
    assert!(
        html.contains("<p id=\"services\">Services: Google: Gmail 7, Google Workspace 2; Microsoft: Microsoft 365"),
        "{html}"
    );
    for width in [1280, 390] {
        fits(dir.path(), &page, width, "table-server");
    }
}
