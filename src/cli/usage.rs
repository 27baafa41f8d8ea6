//! Usage errors in one or two lines: clap's message without its multi-line usage block,
//! then a hint naming the command's `--help`; a flag's value that cannot be used is said in
//! whohosts' words, naming the flag and the value. The parsers of whole numbers every
//! numeric flag uses are here too.
//!
//! ```text
//! whohosts: unexpected argument '--fromat' found (tip: a similar argument exists: '--format')
//! whohosts: see `whohosts crawl --help`
//! whohosts: --keep: 'x' is not a whole number
//! whohosts: see `whohosts prune --help`
//! ```

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The short form of a usage error, ending in a newline; `None` for what is not an error
/// (`--help`, `--version`, help shown for a missing subcommand), which clap prints itself.
/// `command` ([`command_path`]) names the `--help` to read when clap's text does not.
pub fn short(e: &clap::Error, command: &str) -> Option<String> {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    if let Some(line) = value_line(e) {
        return Some(format!("whohosts: {line}\nwhohosts: {}\n", see_help(command)));
    }
    Some(shorten(&e.render().to_string(), command, parameter_tip(e, command)))
}

/// The tip for a word like `level=as` that clap did not expect in `command` ([`command_path`]):
/// a query's parameter given without `-p` ("a parameter is given as -p level=as"). `None` for
/// anything else.
fn parameter_tip(e: &clap::Error, command: &str) -> Option<String> {
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(word)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let (name, _) = word.split_once('=')?;
    let looks_like_one = !name.is_empty() && !name.starts_with('-') && !name.contains(char::is_whitespace);
    // Only `query` takes NAME=VALUE parameters.
    let in_query = command.ends_with(" query");
    (looks_like_one && in_query).then(|| format!("a parameter is given as -p {word}"))
}

/// A value clap refused, in one line naming the flag (or argument) and the value:
/// "--keep: 'x' is not a whole number", "--format: 'pdf' is not one of text, json, csv, html".
/// A parser's reason that starts with "is" follows the value; another follows a colon.
fn value_line(e: &clap::Error) -> Option<String> {
    let string = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let arg = arg_name(string(ContextKind::InvalidArg)?);
    let value = string(ContextKind::InvalidValue).unwrap_or_default();
    match e.kind() {
        ErrorKind::ValueValidation => {
            let source = std::error::Error::source(e)?;
            let reason = match source.downcast_ref::<std::num::ParseIntError>() {
                Some(p) => number_reason(value, p.kind(), None),
                None => source.to_string(),
            };
            Some(if reason.starts_with("is ") {
                format!("{arg}: '{value}' {reason}")
            } else {
                format!("{arg}: '{value}': {reason}")
            })
        }
        ErrorKind::InvalidValue => {
            let valid = match e.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(v)) => v.join(", "),
                _ => String::new(),
            };
            let mut line = if value.is_empty() && valid.is_empty() {
                format!("{arg}: needs a value")
            } else if value.is_empty() {
                format!("{arg}: needs a value, one of {valid}")
            } else {
                format!("{arg}: '{value}' is not one of {valid}")
            };
            if let Some(near) = string(ContextKind::SuggestedValue) {
                line += &format!(" (did you mean '{near}'?)");
            }
            Some(line)
        }
        _ => None,
    }
}

/// The flag or argument clap names as "--top <TOP>", "[SNAPSHOT]..." or "<A>": "--top",
/// "SNAPSHOT", "A".
fn arg_name(clap_name: &str) -> String {
    let first = clap_name.split_whitespace().next().unwrap_or_default();
    first
        .trim_end_matches("...")
        .trim_matches(['[', ']', '<', '>'])
        .to_string()
}

/// Why `text` is not a whole number the flag takes, after the value: "is not a whole
/// number", "is negative: …", "is too large: at most N"; `max` when the type's is known.
fn number_reason(text: &str, kind: &std::num::IntErrorKind, max: Option<String>) -> String {
    use std::num::IntErrorKind;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match kind {
        IntErrorKind::Empty => "is empty: give a whole number".into(),
        _ if text.strip_prefix('-').is_some_and(digits) && kind != &IntErrorKind::NegOverflow => {
            "is negative: give a whole number, 0 or more".into()
        }
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => match max {
            Some(max) => format!("is too large: at most {max}"),
            None => "is too large".into(),
        },
        _ => "is not a whole number".into(),
    }
}

/// A whole number type a flag takes.
pub trait Whole: std::str::FromStr<Err = std::num::ParseIntError> + Copy + PartialOrd + std::fmt::Display {
    /// The largest value.
    const MAX: Self;
}

macro_rules! whole {
    ($($t:ty),*) => {$(impl Whole for $t { const MAX: Self = <$t>::MAX; })*};
}
whole!(u8, u16, u32, u64, usize, i64);

/// The value parser of a numeric flag: a whole number of type `T`, refused in whohosts' words
/// ("is not a whole number", "is negative: …", "is too large: at most …"). "-1" reaches it
/// as a value ([`crate::cli::command`] lets every argument take negative numbers).
///
/// # Errors
/// The reason, to follow the value in [`value_line`].
pub fn whole<T: Whole>(text: &str) -> Result<T, String> {
    text.parse::<T>()
        .map_err(|e| number_reason(text, e.kind(), Some(T::MAX.to_string())))
}

/// [`whole`], 1 or more: "is 0: give 1 or more".
///
/// # Errors
/// The reason, to follow the value in [`value_line`].
pub fn positive(text: &str) -> Result<u64, String> {
    match whole::<u64>(text)? {
        0 => Err("is 0: give 1 or more".into()),
        n => Ok(n),
    }
}

/// [`whole`] within `low..=high`: "is not between 1 and 4".
pub fn whole_in<T: Whole + Send + Sync + 'static>(
    low: T,
    high: T,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |text| {
        let outside = || format!("is not between {low} and {high}");
        match text.parse::<T>() {
            Ok(n) if n < low || n > high => Err(outside()),
            Ok(n) => Ok(n),
            Err(e) => match number_reason(text, e.kind(), None) {
                r if r.starts_with("is negative") || r.starts_with("is too large") => Err(outside()),
                r => Err(r),
            },
        }
    }
}

/// The hint that ends a usage error: "see `whohosts crawl --help`".
pub fn see_help(command: &str) -> String {
    format!("see `{command} --help`")
}

/// The (sub)command the words of a command line name, as its help names it: the program's
/// name, then each subcommand word (`whohosts asn-db update`), skipping options and their
/// values. Clap's own text names it only for some errors (not for a bad value).
pub fn command_path(mut root: clap::Command, words: &[String]) -> String {
    root.build();
    let program = words
        .first()
        .and_then(|w| std::path::Path::new(w).file_name())
        .map_or_else(|| "whohosts".to_string(), |n| n.to_string_lossy().into_owned());
    let mut path = vec![program];
    let mut cmd = &root;
    let mut rest = words.iter().skip(1);
    let takes_value = |cmd: &clap::Command, is: &dyn Fn(&clap::Arg) -> bool| {
        cmd.get_arguments().any(|a| is(a) && a.get_action().takes_values())
    };
    while let Some(w) = rest.next() {
        if w == "--" {
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            if !long.contains('=') && takes_value(cmd, &|a| a.get_long() == Some(long)) {
                rest.next();
            }
        } else if let Some(shorts) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-o FILE`, `-qo FILE`: a value follows when the last letter takes one.
            let last = shorts.chars().last();
            if takes_value(cmd, &|a| a.get_short() == last) {
                rest.next();
            }
        } else if let Some(sub) = cmd.find_subcommand(w) {
            path.push(sub.get_name().to_string());
            cmd = sub;
        } else if cmd.has_subcommands() {
            // Not a subcommand clap knows: the error is about this word.
            break;
        }
    }
    path.join(" ")
}

/// Shorten clap's rendered (uncoloured) error text; `command` names the `--help` to read
/// unless clap's usage line does.
fn shorten(rendered: &str, command: &str, tip: Option<String>) -> String {
    let mut message = String::new();
    let mut tips: Vec<String> = tip.into_iter().collect();
    let mut command = command.to_string();
    // The message may go on over the lines up to the first blank one (the arguments missing).
    let mut in_message = false;
    for line in rendered.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("error: ") {
            message = m.to_string();
            in_message = true;
        } else if line.is_empty() {
            in_message = false;
        } else if in_message {
            message = format!("{message} {line}");
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            // "to pass '--json-copy' as a value, use '-- --json-copy'": no value of whohosts
            // starts with a dash, so the tip only misleads.
            if !tip.contains(" as a value, use '-- ") {
                tips.push(tip.to_string());
            }
        } else if let Some(usage) = line.strip_prefix("Usage: ") {
            // "whohosts crawl [OPTIONS] <HANDLE>...": the words before the first [ or <.
            command = usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ");
        } else if message.is_empty() {
            message = line.to_string();
        }
    }
    // "cannot be used with '--verbose...'": clap's mark of a repeatable flag is no part of
    // its name.
    message = message.replace("...'", "'");
    if !tips.is_empty() {
        message = format!("{message} (tip: {})", tips.join("; "));
    }
    format!("whohosts: {message}\nwhohosts: {}\n", see_help(&command))
}

#[cfg(test)]
mod tests {
    use super::{command_path, shorten};

    fn path(line: &str) -> String {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        command_path(crate::cli::command(), &words)
    }

    #[test]
    fn the_help_named_is_the_subcommands_own() {
        assert_eq!(path("whohosts report --format pdf"), "whohosts report");
        assert_eq!(path("/usr/bin/whohosts --db report demo --weeks x"), "whohosts demo");
        assert_eq!(
            path("whohosts -q --config c.toml asn-db update --bogus"),
            "whohosts asn-db update"
        );
        assert_eq!(
            path("whohosts crawl -o report @a@b.example --depth 9"),
            "whohosts crawl"
        );
        assert_eq!(
            path("whohosts --log-format=json export --since 2026-13-01"),
            "whohosts export"
        );
        assert_eq!(path("whohosts --db"), "whohosts");
        assert_eq!(path("whohosts nosuch --x"), "whohosts");
    }

    #[test]
    fn clap_usage_block_becomes_two_lines() {
        let rendered =
            "error: unexpected argument '--fromat' found\n\n  tip: a similar argument exists: '--format'\n\n\
                        Usage: whohosts crawl --format <FORMAT> <HANDLE>...\n\nFor more information, try '--help'.\n";
        assert_eq!(
            shorten(rendered, "whohosts", None),
            "whohosts: unexpected argument '--fromat' found (tip: a similar argument exists: '--format')\n\
             whohosts: see `whohosts crawl --help`\n"
        );
        let rendered = "error: the argument '--quiet' cannot be used with '--verbose...'\n\n\
                        Usage: whohosts --quiet <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            shorten(rendered, "whohosts", None),
            "whohosts: the argument '--quiet' cannot be used with '--verbose'\n\
             whohosts: see `whohosts --help`\n"
        );
        let rendered = "error: unexpected argument '--json-copy' found\n\n  \
                        tip: to pass '--json-copy' as a value, use '-- --json-copy'\n\n\
                        Usage: whohosts report [OPTIONS] [SNAPSHOT]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            shorten(rendered, "whohosts", None),
            "whohosts: unexpected argument '--json-copy' found\nwhohosts: see `whohosts report --help`\n"
        );
        let rendered = "error: the following required arguments were not provided:\n  <HANDLE>...\n\n\
                        Usage: whohosts crawl <HANDLE>...\n\nFor more information, try '--help'.\n";
        assert_eq!(
            shorten(rendered, "whohosts", None),
            "whohosts: the following required arguments were not provided: <HANDLE>...\n\
             whohosts: see `whohosts crawl --help`\n"
        );
    }
}

#[cfg(test)]
mod value_errors {
    use super::{command_path, short};

    /// A bad value gives no usage line in clap's text: the hint still names the subcommand.
    #[test]
    fn a_bad_value_points_to_the_subcommands_help() {
        let words: Vec<String> = ["whohosts", "report", "--format", "pdf"].map(String::from).to_vec();
        let e = crate::cli::command().try_get_matches_from(&words).unwrap_err();
        let text = short(&e, &command_path(crate::cli::command(), &words)).unwrap();
        assert_eq!(
            text.lines().last().unwrap(),
            "whohosts: see `whohosts report --help`",
            "{text}"
        );
    }
}

#[cfg(test)]
mod every_flag {
    use super::{command_path, short};

    /// The words of `cmd`'s subcommands, each with the command's path.
    fn commands(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
        out.push((path.clone(), cmd.clone()));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            commands(sub, p, out);
        }
    }

    /// Whatever value a flag is given, a refusal is two lines without clap's or Rust's own
    /// words ("invalid digit found in string", "use '-- -1'", "invalid value … for").
    #[test]
    fn no_flag_refuses_a_value_in_rusts_words() {
        let mut root = crate::cli::command();
        root.build();
        let mut all = vec![];
        commands(&root, vec!["whohosts".into()], &mut all);
        let mut tried = 0;
        for (path, cmd) in &all {
            for arg in cmd.get_arguments().filter(|a| a.get_action().takes_values()) {
                let Some(long) = arg.get_long() else { continue };
                for value in ["x", "-1", "", "99999999999999999999999", "1.5"] {
                    let mut words = path.clone();
                    words.extend([format!("--{long}"), value.to_string()]);
                    let Err(e) = crate::cli::command().try_get_matches_from(&words) else {
                        continue;
                    };
                    let Some(text) = short(&e, &command_path(crate::cli::command(), &words)) else {
                        continue;
                    };
                    tried += 1;
                    assert_eq!(text.lines().count(), 2, "{words:?}: {text}");
                    for rusty in [
                        "invalid digit",
                        "cannot parse",
                        "too large to fit",
                        "'-- ",
                        "invalid value",
                        "os error",
                        "is not in ",
                    ] {
                        assert!(!text.contains(rusty), "{words:?}: {text}");
                    }
                }
            }
        }
        assert!(tried > 100, "{tried}");
    }
}
