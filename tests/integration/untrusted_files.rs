//! `check` and `fix` on files as a pull request can make them: aliases that expand without
//! end, nesting deeper than any stack, symbolic link loops, and a reader that stops reading.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

/// A VirtualService with a legacy field `fix` converts, named `name`.
fn legacy_route(name: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  hosts: [{name}]\n  http:\n  - route:\n    - destination:\n        host: {name}\n    fault:\n      abort:\n        httpStatus: 503\n        percent: 10\n"
    )
}

/// What `fix` makes of [`legacy_route`].
fn fixed_route(name: &str) -> String {
    legacy_route(name).replace(
        "        percent: 10\n",
        "        percentage:\n          value: 10.0\n",
    )
}

/// The finding `check` reports for [`legacy_route`] in `file`.
fn legacy_finding(file: &str) -> String {
    format!(
        "{file}:15: error virtualservice-legacy-fields: spec.http[0].fault.abort.percent: removed in Istio 1.5, dropped by current CRDs, so the fault stops firing: write spec.http[0].fault.abort.percentage.value: 10.0"
    )
}

/// Nine levels of aliases, each naming the level before nine times ("billion laughs"): 9^9
/// copies of `"x"` if resolved, in 324 bytes.
fn billion_laughs() -> String {
    let mut text = format!("a: &a [{}]\n", ["\"x\""; 9].join(","));
    for (level, name) in "bcdefghi".chars().enumerate() {
        let before = (b'a' + level as u8) as char;
        let named = format!("*{before}");
        text.push_str(&format!(
            "{name}: &{name} [{}]\n",
            [named.as_str(); 9].join(",")
        ));
    }
    text
}

const ALIAS_LIMIT: &str = "anchors and aliases expand this file by more than 1000000 nodes, the limit: write the repeated parts out";
const NESTING_LIMIT: &str = "collections nest more than 128 levels deep, the limit";

#[test]
fn alias_bombs_stop_at_the_limit_naming_the_line_and_the_other_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = billion_laughs();
    assert_eq!(bomb.len(), 324);
    std::fs::write(dir.path().join("bomb.yaml"), &bomb).unwrap();
    std::fs::write(dir.path().join("route.yaml"), legacy_route("r")).unwrap();

    let out = run(&["check", "."], dir.path(), None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // Levels a to e copy 149,450 nodes, f's aliases 597,870; recording f (line 6, its `[` at
    // column 7) would pass the limit.
    assert_eq!(text(&out.stderr), format!("bomb.yaml:6:7: {ALIAS_LIMIT}\n"));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{}\n1 error, 0 warnings, 0 infos (1 fixable) in 2 files, 1 document, 1 object; 1 input could not be read\n",
            legacy_finding("route.yaml")
        )
    );

    let out = run(&["check", "--format", "json", "."], dir.path(), None);
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["errors"],
        serde_json::json!([{"file": "bomb.yaml", "line": 6, "column": 7, "message": ALIAS_LIMIT}])
    );
    assert_eq!(report["findings"][0]["file"], "route.yaml");

    // fix reads through the same reader: the bomb is left byte for byte, the route is fixed.
    let out = run(&["fix", "--in-place", "."], dir.path(), None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with(&format!("bomb.yaml:6:7: {ALIAS_LIMIT}\n")),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bomb.yaml")).unwrap(),
        bomb
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("route.yaml")).unwrap(),
        fixed_route("r")
    );
}

#[test]
fn documents_whose_aliases_copy_much_are_checked_but_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    // 4,000 nodes anchored, then named twice: 12,000 copied, far under the reading limit.
    let shared = format!(
        "  x-shared: &shared [{}]\n  x-copies: [*shared, *shared]\n",
        vec!["1"; 3_999].join(",")
    );
    let heavy = legacy_route("heavy").replace("spec:\n", &format!("spec:\n{shared}"));
    let stream = format!("{heavy}---\n{}", legacy_route("light"));
    std::fs::write(dir.path().join("routes.yaml"), &stream).unwrap();
    let out = run(&["fix", "routes.yaml"], dir.path(), None);
    assert_eq!(
        text(&out.stdout),
        format!("{heavy}---\n{}", fixed_route("light"))
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("routes.yaml:1: not fixed: its YAML anchors and aliases copy 12000 nodes and 11997 bytes of text, and fix rewrites documents that copy at most 10000 nodes and 1048576 bytes; fix it by hand\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "routes.yaml:17: error virtualservice-legacy-fields: spec.http[0].fault.abort.percent: "
        ),
        "what was not fixed remains: {stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
}

#[test]
fn nesting_deeper_than_the_limit_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    // Left open: the parser stops at its own limit, 256 brackets in.
    std::fs::write(
        dir.path().join("open.yaml"),
        format!("a: {}\n", "[".repeat(100_000)),
    )
    .unwrap();
    // Closed, one level too deep: the reader stops at the 129th bracket.
    std::fs::write(
        dir.path().join("closed.json"),
        format!("{}{}\n", "[".repeat(129), "]".repeat(129)),
    )
    .unwrap();
    // Block mappings count too.
    let block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    std::fs::write(dir.path().join("block.yaml"), block).unwrap();
    std::fs::write(dir.path().join("route.yaml"), legacy_route("r")).unwrap();

    let out = run(&["check", "."], dir.path(), None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "block.yaml:129:129: {NESTING_LIMIT}\nclosed.json:1:129: {NESTING_LIMIT}\nopen.yaml:1:259: {NESTING_LIMIT}\n"
        )
    );
    assert!(
        text(&out.stdout).starts_with(&legacy_finding("route.yaml")),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn fix_cuts_lines_at_bytes_whatever_characters_end_them() {
    let dir = tempfile::tempdir().unwrap();
    let route = |name: &str, last: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}\nspec:\n  hosts: [{name}]\n  http:\n  - name: x\n{last}"
        )
    };
    let member = |text: String| {
        text.lines()
            .enumerate()
            .map(|(i, line)| format!("{}{line}\n", if i == 0 { "- " } else { "  " }))
            .collect::<String>()
    };
    // The removed field's value ends in a two-byte character: at the end of a line, of the
    // text without a newline, and of List members.
    let cases = [
        (route("a", "    websocketUpgrade: café\n"), route("a", "")),
        (route("a", "    websocketUpgrade: café"), route("a", "")),
        (
            format!(
                "apiVersion: v1\nkind: List\nitems:\n{}{}",
                member(route("a", "    websocketUpgrade: café\n")),
                member(route("b", "    websocketUpgrade: naïve\n"))
            ),
            format!(
                "apiVersion: v1\nkind: List\nitems:\n{}{}",
                member(route("a", "")),
                member(route("b", ""))
            ),
        ),
    ];
    for (input, expected) in cases {
        std::fs::write(dir.path().join("route.yaml"), &input).unwrap();
        let out = run(&["fix", "route.yaml"], dir.path(), None);
        assert_eq!(text(&out.stdout), expected, "{input}");
        // `- name: x` alone is no route: that remains.
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            !text(&out.stderr).contains("panicked"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// `tree/base/route.yaml` with links around it: `base/self -> .`, `base/up -> ..` (two
/// loops), `overlay -> base`, `alias.yaml -> base/route.yaml`.
fn linked_tree(dir: &Path) -> std::path::PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("base")).unwrap();
    std::fs::write(tree.join("base/route.yaml"), legacy_route("r")).unwrap();
    symlink(".", tree.join("base/self")).unwrap();
    symlink("..", tree.join("base/up")).unwrap();
    symlink("base", tree.join("overlay")).unwrap();
    symlink("base/route.yaml", tree.join("alias.yaml")).unwrap();
    tree
}

#[test]
fn links_in_directories_are_skipped_with_a_note_or_followed_once() {
    let dir = tempfile::tempdir().unwrap();
    linked_tree(dir.path());
    let summary = "1 error, 0 warnings, 0 infos (1 fixable) in 1 file, 1 document, 1 object\n";

    let out = run(&["check", "tree"], dir.path(), None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{}\n{summary}", legacy_finding("tree/base/route.yaml"))
    );
    let note = "skipped: symbolic link (--follow follows links)";
    assert_eq!(
        text(&out.stderr),
        format!(
            "tree/alias.yaml: {note}\ntree/base/self: {note}\ntree/base/up: {note}\ntree/overlay: {note}\n"
        )
    );

    // Followed, the loops end and the file reached four ways is checked once.
    let out = run(&["check", "--follow", "tree"], dir.path(), None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{}\n{summary}", legacy_finding("tree/alias.yaml"))
    );
    assert_eq!(text(&out.stderr), "");

    // Named on the command line, a link is followed, as by every Unix tool.
    let out = run(
        &["check", "tree/overlay", "tree/alias.yaml"],
        dir.path(),
        None,
    );
    assert_eq!(
        text(&out.stdout),
        format!("{}\n{summary}", legacy_finding("tree/overlay/route.yaml"))
    );
    assert_eq!(
        text(&out.stderr),
        format!("tree/overlay/self: {note}\ntree/overlay/up: {note}\n")
    );
}

#[test]
fn fix_in_place_writes_through_links_and_leaves_them_links() {
    let dir = tempfile::tempdir().unwrap();
    let tree = linked_tree(dir.path());
    let target = tree.join("base/route.yaml");
    let is_link = |path: &Path| {
        std::fs::symlink_metadata(path)
            .unwrap()
            .file_type()
            .is_symlink()
    };

    // Not followed: nothing reached through a link is written, the file itself is fixed.
    let out = run(&["fix", "--in-place", "tree"], dir.path(), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).ends_with("fixed 1 field in 1 file; remaining: 0 errors, 0 warnings, 0 infos (0 fixable) in 1 file, 1 document, 1 object\n"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), fixed_route("r"));

    // Named: written through to its file; the link stays a link.
    std::fs::write(&target, legacy_route("r")).unwrap();
    let out = run(&["fix", "--in-place", "tree/alias.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(is_link(&tree.join("alias.yaml")));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), fixed_route("r"));

    // Followed in a directory: the same, once, however many ways lead to the file.
    std::fs::write(&target, legacy_route("r")).unwrap();
    let out = run(&["fix", "--in-place", "--follow", "tree"], dir.path(), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("fixed 1 field in 1 file;"),
        "{}",
        text(&out.stderr)
    );
    assert!(is_link(&tree.join("alias.yaml")) && is_link(&tree.join("overlay")));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), fixed_route("r"));
    let mut left: Vec<String> = std::fs::read_dir(tree.join("base"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["route.yaml", "self", "up"], "no temporary file left");
}

/// Runs the binary in `cwd`, reads the first line of its stdout and closes the pipe, as
/// `| head -1` does; returns that line, the exit code and stderr.
fn first_line_then_close(args: &[&str], cwd: &Path) -> (String, Option<i32>, String) {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn meshgate");
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (line, out.status.code(), text(&out.stderr))
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    // 40 files of 25 routes: far more output than a pipe holds, so writing blocks until the
    // reader goes away and the next write fails.
    for file in 0..40 {
        let stream: Vec<String> = (0..25).map(|i| legacy_route(&format!("r{i}"))).collect();
        std::fs::write(
            dir.path().join(format!("routes-{file:02}.yaml")),
            stream.join("---\n"),
        )
        .unwrap();
    }
    let first = legacy_finding("routes-00.yaml") + "\n";
    // Without the reader going away these exit 1: errors remain.
    assert_eq!(
        run(&["check", "."], dir.path(), None).status.code(),
        Some(1)
    );
    let cases: [(&[&str], &str); 4] = [
        (&["check", "."], &first),
        (&["check", "--format", "json", "."], "{\n"),
        (&["fix", "."], "apiVersion: networking.istio.io/v1\n"),
        (&["fix", "--diff", "."], "--- a/routes-00.yaml\n"),
    ];
    for (args, line) in cases {
        let (read, code, stderr) = first_line_then_close(args, dir.path());
        assert_eq!(read, line, "{args:?}");
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn commands_that_print_one_answer_exit_0_when_nobody_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let review = captured("namespace-create-both-labels.json");
    let input = dir.path().join("review.json");
    std::fs::write(&input, serde_json::to_vec(&review).unwrap()).unwrap();
    let commands: [&[&str]; 2] = [
        &["review", "review.json"],
        &[
            "certs",
            "--service",
            "meshgate",
            "--namespace",
            "meshgate-system",
            "--out-dir",
            "generated",
        ],
    ];
    for args in commands {
        // The reading end is closed before the command writes at all.
        let out = Command::new(binary())
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            !text(&out.stderr).contains("Broken pipe") && !text(&out.stderr).contains("panicked"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(dir.path().join("generated/ca.crt").exists());
}

/// The writing end of a pipe whose reading end is already closed.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}
