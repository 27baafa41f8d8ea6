//! Inline SVG charts for the HTML report, written by hand: a horizontal bar chart per level
//! and a line chart per trend figure. Each chart is an `<svg role="img">` with a `<title>`
//! and a `<desc>` that says the same numbers in words (the page shows them in a table too).
//! Text uses the reader's own sans-serif font: nothing is fetched.

use std::fmt::Write as _;

use crate::metrics::Level;

/// Width of every chart, in SVG units (the page scales it).
const WIDTH: f64 = 720.0;
const ROW: f64 = 24.0;
const LABEL: f64 = 300.0;

/// How a level's series is drawn: its colour (dark enough for 4.5:1 or more against white),
/// the lighter colour the dark scheme gives it (3:1 or more against the dark background) and
/// the class that carries it (`s-LEVEL`).
#[derive(Clone, Copy)]
pub struct Paint {
    pub class: &'static str,
    pub colour: &'static str,
    pub dark: &'static str,
}

/// The [`Paint`] of each level.
pub fn paint(level: Level) -> Paint {
    let (class, colour, dark) = match level {
        Level::Instance => ("s-instance", "#1f5fa8", "#7cb1f4"),
        Level::Organisation => ("s-organisation", "#b3401b", "#f4956b"),
        Level::As => ("s-as", "#2e7d32", "#72c476"),
        Level::Range => ("s-range", "#6a3d9a", "#bb9be0"),
        Level::Block => ("s-block", "#7a5f00", "#d9b53a"),
        Level::Country => ("s-country", "#00695c", "#4fc3b4"),
        Level::Hosting => ("s-hosting", "#ad1457", "#f27aa5"),
    };
    Paint { class, colour, dark }
}

/// The page's background under the dark scheme (the style sheet's `#121212`).
pub const DARK_BACKGROUND: &str = "#121212";

/// The style of the series: each level's colour on the legend text that carries its class,
/// then the dark scheme's rules: its lighter colour on the strokes, fills and legend text
/// that carry its class, and lighter axes.
pub fn dark_style() -> String {
    let mut out = String::new();
    for level in Level::ALL {
        let Paint { class, colour, .. } = paint(*level);
        let _ = writeln!(out, "span.{class} {{ color: {colour}; }}");
    }
    out += "@media (prefers-color-scheme: dark) {\n  line.axis { stroke: #8c8c8c; }\n";
    for level in Level::ALL {
        let Paint { class, dark, .. } = paint(*level);
        let _ = writeln!(
            out,
            "  .{class}[stroke] {{ stroke: {dark}; }} .{class}[fill]:not([fill=\"none\"]) {{ fill: {dark}; }} \
             span.{class} {{ color: {dark}; }}"
        );
    }
    out + "}\n"
}

/// `s` escaped for XML and HTML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn open(id: &str, height: f64, title: &str, desc: &str) -> String {
    open_sized(id, WIDTH, height, title, desc)
}

fn open_sized(id: &str, width: f64, height: f64, title: &str, desc: &str) -> String {
    format!(
        "<svg role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\">\n\
         <title id=\"{id}-t\">{}</title>\n<desc id=\"{id}-d\">{}</desc>\n",
        escape(title),
        escape(desc)
    )
}

/// One bar of a bar chart.
pub struct Bar {
    pub label: String,
    pub share: f64,
    /// The sum of the buckets not shown: drawn in grey.
    pub rest: bool,
}

/// A horizontal bar chart of `bars` (shares 0–1), bars scaled to the largest.
pub fn bars(id: &str, title: &str, paint: Paint, bars: &[Bar]) -> String {
    let height = ROW * bars.len().max(1) as f64 + 8.0;
    let desc: Vec<String> = bars
        .iter()
        .map(|b| format!("{} {:.1} %", b.label, b.share * 100.0))
        .collect();
    let mut out = open(id, height, title, &desc.join("; "));
    let max = bars.iter().map(|b| b.share).fold(0.0, f64::max).max(1e-9);
    let span = WIDTH - LABEL - 70.0;
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let w = (b.share / max * span).max(1.0);
        let label: String = b.label.chars().take(40).collect();
        let fill = match b.rest {
            true => "fill=\"#767676\"".to_string(),
            false => format!("class=\"{}\" fill=\"{}\"", paint.class, paint.colour),
        };
        let _ = writeln!(
            out,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.0}\" {fill}/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{:.1} %</text>",
            LABEL - 8.0,
            y + 16.0,
            escape(&label),
            y + 3.0,
            ROW - 6.0,
            LABEL + w + 6.0,
            y + 16.0,
            b.share * 100.0
        );
    }
    out + "</svg>\n"
}

/// One line of a line chart: a level's values over the snapshots.
pub struct Line {
    pub name: String,
    pub paint: Paint,
    pub values: Vec<f64>,
}

/// Width of a line chart: three fit side by side.
const LINE_WIDTH: f64 = 260.0;

/// How the `n`th line of a chart is drawn, so lines that coincide never hide each other:
/// (stroke width, dash pattern, marker). Earlier lines are wider and solid, later ones thinner
/// and dashed on top of them; markers differ in shape (filled circle, hollow square, cross).
fn line_style(n: usize) -> (f64, &'static str, Marker) {
    match n % 3 {
        0 => (5.0, "", Marker::Disc),
        1 => (2.5, "7 4", Marker::Square),
        _ => (1.5, "2 3", Marker::Cross),
    }
}

#[derive(Clone, Copy)]
enum Marker {
    Disc,
    Square,
    Cross,
}

/// The legend key of the `n`th line of a chart in `colour`: a short stretch of it with its
/// marker, as a small inline SVG (decorative: the legend's text names the level).
pub fn key(n: usize, p: Paint) -> String {
    let (width, dash, mark) = line_style(n);
    format!(
        "<svg class=\"key\" aria-hidden=\"true\" viewBox=\"0 0 40 12\" width=\"40\" height=\"12\" xmlns=\"http://www.w3.org/2000/svg\">\
         <line x1=\"0\" y1=\"6\" x2=\"40\" y2=\"6\" class=\"{}\" stroke=\"{}\" stroke-width=\"{width}\" stroke-dasharray=\"{dash}\"/>{}</svg>",
        p.class,
        p.colour,
        marker(mark, 20.0, 6.0, p)
    )
}

/// A marker in the colour of `p` centred at (`x`, `y`).
fn marker(m: Marker, x: f64, y: f64, p: Paint) -> String {
    let Paint { class, colour, .. } = p;
    match m {
        Marker::Disc => {
            format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5.5\" class=\"{class}\" fill=\"{colour}\"/>")
        }
        Marker::Square => format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"none\" class=\"{class}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            x - 4.0,
            y - 4.0
        ),
        Marker::Cross => format!(
            "<path d=\"M{:.1} {:.1}l8 8m0 -8l-8 8\" class=\"{class}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            x - 4.0,
            y - 4.0
        ),
    }
}

/// A small line chart over `xs` (the x labels) of `lines`, y from 0 to the largest value
/// (or `y_max` when larger); `fmt` writes a value. The legend is the page's, not the chart's.
///
/// `bands` are reference values drawn as labelled dotted rules (the HHI's 1,000 and 1,800).
pub fn lines(
    id: &str,
    title: &str,
    xs: &[String],
    lines: &[Line],
    (y_max, bands): (f64, &[f64]),
    fmt: fn(f64) -> String,
) -> String {
    let (height, left, right, bottom, top) = (180.0, 48.0, 12.0, 26.0, 12.0);
    let max = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(y_max, f64::max)
        .max(1e-9);
    let desc: Vec<String> = lines
        .iter()
        .map(|l| {
            let points: Vec<String> = xs
                .iter()
                .zip(&l.values)
                .map(|(x, v)| match v.is_finite() {
                    true => format!("{x} {}", fmt(*v)),
                    false => format!("{x} not rated"),
                })
                .collect();
            format!("{}: {}", l.name, points.join(", "))
        })
        .collect();
    let mut out = open_sized(id, LINE_WIDTH, height, title, &desc.join("; "));
    let plot_w = LINE_WIDTH - left - right;
    let x = |i: usize| left + plot_w * i as f64 / (xs.len().max(2) - 1) as f64;
    let y = |v: f64| top + (height - top - bottom) * (1.0 - v / max);
    out += &axes(xs, left, plot_w, height, [y(0.0), y(max)], [fmt(0.0), fmt(max)], &x);
    for band in bands.iter().filter(|b| **b <= max) {
        let _ = write!(
            out,
            "<line class=\"band\" x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#767676\" stroke-dasharray=\"1 3\"/>\
             <text class=\"band\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            y(*band),
            left + plot_w,
            y(*band),
            left + plot_w,
            y(*band) - 3.0,
            escape(&fmt(*band))
        );
    }
    for (n, l) in lines.iter().enumerate() {
        let (width, dash, mark) = line_style(n);
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        // A value that is not a number (a level not rated) breaks the line: one polyline per
        // run of rated values.
        let points: Vec<Option<String>> = l
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| v.is_finite().then(|| format!("{:.1},{:.1}", x(i), y(*v))))
            .collect();
        for run in points.split(Option::is_none).filter(|r| !r.is_empty()) {
            let run: Vec<&str> = run.iter().flatten().map(String::as_str).collect();
            let _ = writeln!(
                out,
                "\n<polyline points=\"{}\" fill=\"none\" class=\"{}\" stroke=\"{}\" stroke-width=\"{width}\"{dash}/>",
                run.join(" "),
                l.paint.class,
                l.paint.colour
            );
        }
        for (i, v) in l.values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
            out += &marker(mark, x(i), y(*v), l.paint);
        }
    }
    out + "\n</svg>\n"
}

/// The x axis with its labels and the two y labels (`ys` at heights `at`) of a line chart.
fn axes(
    xs: &[String],
    left: f64,
    plot_w: f64,
    height: f64,
    at: [f64; 2],
    ys: [String; 2],
    x: &dyn Fn(usize) -> f64,
) -> String {
    let mut out = format!(
        "<line class=\"axis\" x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#555\"/>",
        at[0],
        left + plot_w,
        at[0]
    );
    for (y, label) in at.iter().zip(&ys) {
        let _ = write!(
            out,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 5.0,
            escape(label)
        );
    }
    for (i, label) in xs.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(i),
            height - 6.0,
            escape(label)
        );
    }
    out + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap() as f64 / 255.0;
            match c <= 0.03928 {
                true => c / 12.92,
                false => ((c + 0.055) / 1.055).powf(2.4),
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Every series reads on both schemes: 4.5:1 on white, 3:1 (graphics) on the dark
    /// background, and the dark scheme's axis too.
    #[test]
    fn series_colours_contrast_with_both_backgrounds() {
        for level in Level::ALL {
            let p = paint(*level);
            assert!(contrast(p.colour, "#ffffff") >= 4.5, "{} on white", p.colour);
            assert!(contrast(p.dark, DARK_BACKGROUND) >= 3.0, "{} on dark", p.dark);
            assert!(dark_style().contains(&format!(".{}[stroke] {{ stroke: {}; }}", p.class, p.dark)));
        }
        assert!(contrast("#8c8c8c", DARK_BACKGROUND) >= 3.0);
        assert!(
            contrast("#555555", DARK_BACKGROUND) < 3.0,
            "why the axis changes colour"
        );
        assert!(dark_style().contains("line.axis { stroke: #8c8c8c; }"));
    }
}
