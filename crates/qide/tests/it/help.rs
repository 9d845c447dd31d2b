//! Shell completions and `--help`, as a user meets them.

use crate::server::qide;

/// Every command of `qide`, as `qide --help` lists them.
const COMMANDS: [&str; 16] = [
    "serve",
    "run",
    "builds",
    "show",
    "log",
    "init",
    "patterns",
    "report",
    "codebase",
    "token",
    "user",
    "audit",
    "openapi",
    "mcp",
    "agent",
    "completions",
];

fn output(args: &[&str]) -> (i32, String, String) {
    let out = qide().args(args).output().expect("run qide");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bash_completion_names_every_command() {
    let (code, script, stderr) = output(&["completions", "bash"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(script.contains("complete -F _qide"), "{script}");
    for command in COMMANDS {
        assert!(
            script.contains(&format!("qide,{command})")),
            "bash completion lacks {command}"
        );
    }
    // Flags of a command complete too.
    assert!(script.contains("--budget-tokens"), "{script}");
}

#[test]
fn completions_exist_for_each_shell_and_refuse_others() {
    for (shell, marker) in [
        ("zsh", "#compdef qide"),
        ("fish", "complete -c qide"),
        ("elvish", "edit:completion:arg-completer[qide]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let (code, script, stderr) = output(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("patterns"), "{shell}");
    }
    let (code, _, stderr) = output(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("possible values: bash"), "{stderr}");
}

#[test]
fn help_lists_every_command_and_each_shows_examples() {
    let (code, help, _) = output(&["--help"]);
    assert_eq!(code, 0);
    for command in COMMANDS {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "qide --help lacks {command}:\n{help}"
        );
    }
    assert!(help.contains("Quick start:"), "{help}");
    for command in COMMANDS {
        let (code, help, stderr) = output(&[command, "--help"]);
        assert_eq!(code, 0, "{command}: {stderr}");
        assert!(help.contains("Examples:"), "qide {command} --help:\n{help}");
        assert!(
            help.contains(&format!("qide {command}")),
            "qide {command} --help shows no use of itself:\n{help}"
        );
    }
    let (_, help, _) = output(&["builds", "--help"]);
    assert!(help.contains("[default: 20]"), "{help}");
}
