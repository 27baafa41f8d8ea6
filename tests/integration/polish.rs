//! What a newcomer found trying the README: `-o` destinations, stderr for cron, JSON logs,
//! messages that name their input.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;
use whohosts::sim::world::Software;

fn one_account() -> Env {
    Env::start(world(
        vec![inst("a.example", Software::Mastodon, "hetzner")],
        vec![acct("u@a.example", &[])],
    ))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `-o /dev/stdout` into a pipe: the report, then the JSON, both on the pipe.
#[test]
fn output_to_dev_stdout_through_a_pipe() {
    let env = one_account();
    let bin = assert_cmd::cargo::cargo_bin("whohosts");
    let script = format!(
        "set -o pipefail; {} --quiet --config {} crawl -o /dev/stdout u@a.example | cat",
        bin.display(),
        env.config_path().display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json_at = stdout.find("{\n").expect("JSON on stdout");
    assert!(stdout[..json_at].contains("Population:"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout[json_at..]).unwrap();
    assert_eq!(v["crawl"]["seeds"][0]["server"], "a.example");
}

/// `-o /dev/stdout` with stdout appended to a file (`>> log`): earlier content stays, the
/// report and the JSON follow it.
#[test]
fn output_to_dev_stdout_appended_to_a_file() {
    let env = one_account();
    let log = env.dir.path().join("log.txt");
    std::fs::write(&log, "earlier run\n").unwrap();
    let file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("whohosts"))
        .arg("--config")
        .arg(env.config_path())
        .args(["--quiet", "crawl", "-o", "/dev/stdout", "u@a.example"])
        .stdout(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = std::fs::read_to_string(&log).unwrap();
    assert!(all.starts_with("earlier run\n"), "{all}");
    let json_at = all.find("{\n").expect("JSON appended");
    assert!(all[..json_at].contains("Population:"), "{all}");
    let v: serde_json::Value = serde_json::from_str(&all[json_at..]).unwrap();
    assert_eq!(v["crawl"]["seeds"][0]["server"], "a.example");
}

/// `-o FILE` keeps the mode of the file it replaces; a new file gets the umask's.
#[test]
fn output_file_keeps_its_mode() {
    let env = one_account();
    for mode in [0o600, 0o444] {
        let file = env.dir.path().join(format!("out-{mode:o}.json"));
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = env.run(&["crawl", "-o", file.to_str().unwrap(), "u@a.example"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, mode, "{}", file.display());
        assert!(std::fs::read_to_string(&file).unwrap().contains("a.example"));
    }
}
