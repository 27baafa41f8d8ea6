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
pub fn short(e: &clap::Error) -> Option<String> {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    Some(shorten(&e.render().to_string()))
}

/// Shorten clap's rendered (uncoloured) error text.
fn shorten(rendered: &str) -> String {
    let mut message = String::new();
    let mut tips = vec![];
    let mut command = "whohosts".to_string();
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
    format!("whohosts: {message}\nwhohosts: see `{command} --help`\n")
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn clap_usage_block_becomes_two_lines() {
        let rendered =
            "error: unexpected argument '--fromat' found\n\n  tip: a similar argument exists: '--format'\n\n\
                        Usage: whohosts crawl --format <FORMAT> <HANDLE>...\n\nFor more information, try '--help'.\n";
        assert_eq!(
            shorten(rendered),
            "whohosts: unexpected argument '--fromat' found (tip: a similar argument exists: '--format')\n\
             whohosts: see `whohosts crawl --help`\n"
        );
        let rendered = "error: the following required arguments were not provided:\n  <HANDLE>...\n\n\
                        Usage: whohosts crawl <HANDLE>...\n\nFor more information, try '--help'.\n";
        assert_eq!(
            shorten(rendered),
            "whohosts: the following required arguments were not provided: <HANDLE>...\n\
             whohosts: see `whohosts crawl --help`\n"
        );
    }
}
