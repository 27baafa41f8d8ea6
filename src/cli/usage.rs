//! Usage errors in one or two lines: clap's message without its multi-line usage block,
//! then a hint naming the command's `--help`.
//!
//! ```text
//! whohosts: unexpected argument '--fromat' found (tip: a similar argument exists: '--format')
//! whohosts: see `whohosts crawl --help`
//! ```

use clap::error::ErrorKind;

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
    Some(shorten(&e.render().to_string(), command))
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
fn shorten(rendered: &str, command: &str) -> String {
    let mut message = String::new();
    let mut tips = vec![];
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
            tips.push(tip.to_string());
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
            shorten(rendered, "whohosts"),
            "whohosts: unexpected argument '--fromat' found (tip: a similar argument exists: '--format')\n\
             whohosts: see `whohosts crawl --help`\n"
        );
        let rendered = "error: the following required arguments were not provided:\n  <HANDLE>...\n\n\
                        Usage: whohosts crawl <HANDLE>...\n\nFor more information, try '--help'.\n";
        assert_eq!(
            shorten(rendered, "whohosts"),
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
