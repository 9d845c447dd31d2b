//! The command that reruns only a step's failed tests, built from the step's
//! own command and the failed tests' names: `cargo test -- --exact NAME…`,
//! `cargo nextest run -E 'test(=NAME) | …'`, pytest node ids, jest and vitest
//! `-t '^(…)$'`, `go test -run '^(A|B)$'`. Sans-I/O: text in, text out; the
//! caller runs the result as a new build on the same tree to tell flaky
//! tests from real failures.
//!
//! The step's command is read as the shell would split it: the segment that
//! runs the test tool is rewritten (its own test filters and positional
//! test selections dropped, QIDE's appended), the segments before it (`cd
//! sub &&`, `cargo build &&`) kept as written and the ones after it (`| tee
//! log`, `&& echo done`) dropped. Words that are kept keep their exact text,
//! quotes and `$VAR`s included, which is why this module has its own small
//! word scanner rather than a split-and-requote library; only the test
//! names QIDE adds are quoted, in single quotes.

use std::fmt;

/// A test runner QIDE knows how to filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestTool {
    /// `cargo test` (libtest).
    CargoTest,
    /// `cargo nextest run`.
    Nextest,
    /// `pytest`, `python -m pytest`.
    Pytest,
    /// `jest`, `npx jest`.
    Jest,
    /// `vitest`, `npx vitest run`.
    Vitest,
    /// `go test`.
    GoTest,
}

impl TestTool {
    /// A stable name: `cargo-test`, `nextest`, `pytest`, `jest`, `vitest`,
    /// `go`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestTool::CargoTest => "cargo-test",
            TestTool::Nextest => "nextest",
            TestTool::Pytest => "pytest",
            TestTool::Jest => "jest",
            TestTool::Vitest => "vitest",
            TestTool::GoTest => "go",
        }
    }

    /// Whether `name` has the shape this runner gives its tests' names, so
    /// that a step running several runners can tell whose a failure is.
    pub fn accepts(self, name: &str) -> bool {
        let pytest_like = name
            .split("::")
            .next()
            .is_some_and(|file| file.ends_with(".py"));
        match self {
            TestTool::Pytest => pytest_like,
            TestTool::CargoTest => !pytest_like && !name.contains(" › ") && !name.contains(" > "),
            TestTool::Nextest => !pytest_like && name.contains(' '),
            TestTool::Jest => !pytest_like && !name.contains("::"),
            TestTool::Vitest => name.contains(" > "),
            TestTool::GoTest => {
                !name.contains(' ')
                    && ["Test", "Example", "Fuzz", "Benchmark"]
                        .iter()
                        .any(|p| name.starts_with(p))
            }
        }
    }
}

impl fmt::Display for TestTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed test to rerun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedTest {
    /// The name as the runner printed it.
    pub name: String,
    /// The test's file, when known (jest and vitest use it to pick suites).
    pub file: Option<String>,
}

/// The command that reruns the failed tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RerunPlan {
    pub tool: TestTool,
    /// A shell command for `sh -c`, run in the project root like the step.
    pub command: String,
    /// The failed tests the command reruns, as named in the build.
    pub tests: Vec<String>,
}

/// Why no rerun command could be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RerunError {
    /// The step runs no test tool QIDE can filter.
    #[error(
        "rerunning failed tests is not supported for `{command}`: QIDE can rerun single \
         tests of cargo test, cargo nextest, pytest, jest, vitest and go test"
    )]
    Unsupported { command: String },
    /// The step runs its tests through a package script QIDE could not read.
    #[error(
        "rerunning failed tests of `{command}` needs the package's test script (package.json's \
         scripts.test) to tell which runner it starts"
    )]
    UnknownScript { command: String },
    /// There were no failed tests.
    #[error("there are no failed tests to rerun")]
    NoTests,
    /// A failed test's name cannot be given to the runner.
    #[error("{tool} cannot rerun the test {name:?} on its own: {why}")]
    Unfilterable {
        tool: TestTool,
        name: String,
        why: &'static str,
    },
    /// The command could not be read as shell words.
    #[error("cannot read the command `{command}`: {why}")]
    Unreadable { command: String, why: &'static str },
}

/// The test tool a step's command runs, if QIDE knows it; `package_script`
/// is package.json's `scripts.test`, for `npm test` and its kin.
pub fn detect_test_tool(command: &str, package_script: Option<&str>) -> Option<TestTool> {
    let segments = segments(command).ok()?;
    segments
        .iter()
        .find_map(|s| invocation(&s.words, package_script).map(|i| i.tool))
}

/// The command that reruns only `failed` of a step that ran `command`.
pub fn rerun_command(
    command: &str,
    failed: &[FailedTest],
    package_script: Option<&str>,
) -> Result<RerunPlan, RerunError> {
    if failed.is_empty() {
        return Err(RerunError::NoTests);
    }
    let segments = segments(command).map_err(|why| RerunError::Unreadable {
        command: command.to_owned(),
        why,
    })?;
    let runs: Vec<(usize, Invocation)> = segments
        .iter()
        .enumerate()
        .filter_map(|(i, s)| invocation(&s.words, package_script).map(|inv| (i, inv)))
        .collect();
    if runs.is_empty() {
        if segments.iter().any(|s| is_package_test(&s.words).is_some()) {
            return Err(RerunError::UnknownScript {
                command: command.to_owned(),
            });
        }
        return Err(RerunError::Unsupported {
            command: command.to_owned(),
        });
    }
    // The first runner whose names all the failures have; with one runner,
    // that runner (its own checks then say what it cannot filter).
    let (index, run) = runs
        .iter()
        .find(|(_, inv)| failed.iter().all(|t| inv.tool.accepts(&t.name)))
        .unwrap_or(&runs[0]);
    let args = match run.tool {
        TestTool::CargoTest => cargo_test_args(&segments[*index].words[run.args..], failed)?,
        TestTool::Nextest => nextest_args(&segments[*index].words[run.args..], failed)?,
        TestTool::Pytest => pytest_args(&segments[*index].words[run.args..], failed)?,
        TestTool::Jest => jest_args(&segments[*index].words[run.args..], failed, run.script)?,
        TestTool::Vitest => vitest_args(&segments[*index].words[run.args..], failed, run.script)?,
        TestTool::GoTest => go_args(&segments[*index].words[run.args..], failed)?,
    };
    let mut out = String::new();
    for segment in &segments[..*index] {
        out.push_str(segment.raw.trim());
        out.push(' ');
        out.push_str(segment.separator.unwrap_or(";"));
        out.push(' ');
    }
    let head: Vec<&str> = segments[*index].words[..run.args]
        .iter()
        .map(|w| w.raw.as_str())
        .collect();
    out.push_str(&head.join(" "));
    for arg in args {
        out.push(' ');
        out.push_str(&arg);
    }
    Ok(RerunPlan {
        tool: run.tool,
        command: out,
        tests: failed.iter().map(|t| t.name.clone()).collect(),
    })
}

/// A shell word: its text as written and its value once quotes and escapes
/// are removed (expansions are not performed: `$X` stays `$X`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    raw: String,
    value: String,
}

/// A simple command between shell operators, and the operator after it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    raw: String,
    words: Vec<Word>,
    separator: Option<&'static str>,
}

/// Splits a command line at its top-level operators (`&&`, `||`, `;`, `|`,
/// `&`, newlines) into words. Quotes, backslashes, `$(…)` and backticks
/// are respected; redirections (`2>&1`) stay words.
fn segments(command: &str) -> Result<Vec<Segment>, &'static str> {
    let chars: Vec<char> = command.chars().collect();
    let mut segments = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut raw_segment = String::new();
    let mut word: Option<Word> = None;
    let mut i = 0;
    let end_word = |word: &mut Option<Word>, words: &mut Vec<Word>| {
        if let Some(w) = word.take() {
            words.push(w);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let operator = match c {
            '&' if chars.get(i + 1) == Some(&'&') => Some(("&&", 2)),
            '|' if chars.get(i + 1) == Some(&'|') => Some(("||", 2)),
            ';' => Some((";", 1)),
            '\n' => Some((";", 1)),
            '|' => Some(("|", 1)),
            // `&` after `>`/`<` or before `>` is a redirection (`2>&1`,
            // `&>file`), not a background job.
            '&' if !matches!(raw_segment.chars().last(), Some('>' | '<'))
                && chars.get(i + 1) != Some(&'>') =>
            {
                Some(("&", 1))
            }
            _ => None,
        };
        if let Some((op, len)) = operator {
            end_word(&mut word, &mut words);
            segments.push(Segment {
                raw: std::mem::take(&mut raw_segment),
                words: std::mem::take(&mut words),
                separator: Some(op),
            });
            i += len;
            continue;
        }
        if c.is_whitespace() {
            end_word(&mut word, &mut words);
            raw_segment.push(c);
            i += 1;
            continue;
        }
        let w = word.get_or_insert_with(|| Word {
            raw: String::new(),
            value: String::new(),
        });
        match c {
            '\'' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .ok_or("a single quote is not closed")?;
                let quoted: String = chars[i + 1..i + 1 + close].iter().collect();
                w.value.push_str(&quoted);
                let raw: String = chars[i..i + close + 2].iter().collect();
                w.raw.push_str(&raw);
                raw_segment.push_str(&raw);
                i += close + 2;
            }
            '"' => {
                let mut j = i + 1;
                let mut value = String::new();
                loop {
                    match chars.get(j) {
                        None => return Err("a double quote is not closed"),
                        Some('"') => break,
                        Some('\\') if chars.get(j + 1).is_some() => {
                            let next = chars[j + 1];
                            if !matches!(next, '"' | '\\' | '$' | '`') {
                                value.push('\\');
                            }
                            value.push(next);
                            j += 2;
                        }
                        Some(&other) => {
                            value.push(other);
                            j += 1;
                        }
                    }
                }
                w.value.push_str(&value);
                let raw: String = chars[i..=j].iter().collect();
                w.raw.push_str(&raw);
                raw_segment.push_str(&raw);
                i = j + 1;
            }
            '\\' => {
                let next = *chars.get(i + 1).ok_or("the command ends in a backslash")?;
                if next != '\n' {
                    w.value.push(next);
                }
                w.raw.push(c);
                w.raw.push(next);
                raw_segment.push(c);
                raw_segment.push(next);
                i += 2;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                // `$(…)`: kept whole, nested parentheses and all.
                let mut depth = 0;
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err("a $( is not closed"),
                        Some('(') => depth += 1,
                        Some(')') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let text: String = chars[i..=j].iter().collect();
                w.value.push_str(&text);
                w.raw.push_str(&text);
                raw_segment.push_str(&text);
                i = j + 1;
            }
            '`' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .ok_or("a backquote is not closed")?;
                let text: String = chars[i..i + close + 2].iter().collect();
                w.value.push_str(&text);
                w.raw.push_str(&text);
                raw_segment.push_str(&text);
                i += close + 2;
            }
            _ => {
                w.value.push(c);
                w.raw.push(c);
                raw_segment.push(c);
                i += 1;
            }
        }
    }
    end_word(&mut word, &mut words);
    segments.push(Segment {
        raw: raw_segment,
        words,
        separator: None,
    });
    Ok(segments
        .into_iter()
        .filter(|s| !s.words.is_empty())
        .collect())
}

/// `text` as one shell word, in single quotes unless it needs none.
fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | ',' | '+')
        });
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Where in a segment's words a test tool starts.
#[derive(Debug, Clone, Copy)]
struct Invocation {
    tool: TestTool,
    /// Index of the first word after the tool and its subcommand.
    args: usize,
    /// The package script the tool was found in (`npm test`), whose own
    /// words are not in the segment: only additions can be passed.
    script: Option<ScriptRunner>,
}

/// How a package manager passes extra arguments to its `test` script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScriptRunner {
    /// `npm test -- ARGS`.
    Npm,
    /// `yarn test ARGS`, `pnpm test ARGS`, `bun run test ARGS`.
    Direct,
}

fn base(word: &Word) -> &str {
    word.value.rsplit('/').next().unwrap_or(&word.value)
}

/// `npm test`, `npm run test`, `yarn test`, `pnpm test`, `bun run test`:
/// the index of the word after `test`, and how extra arguments are passed.
fn is_package_test(words: &[Word]) -> Option<(usize, ScriptRunner)> {
    let start = skip_prefix(words);
    let manager = base(words.get(start)?);
    let mut i = start + 1;
    if matches!(
        words.get(i).map(|w| w.value.as_str()),
        Some("run" | "run-script")
    ) {
        i += 1;
    }
    if words.get(i).map(|w| w.value.as_str()) != Some("test") {
        return None;
    }
    match manager {
        "npm" => Some((i + 1, ScriptRunner::Npm)),
        "yarn" | "pnpm" | "bun" => Some((i + 1, ScriptRunner::Direct)),
        _ => None,
    }
}

/// Skips environment assignments and wrappers (`env`, `time`, `nice`,
/// `timeout 600`, `xvfb-run`) in front of a command.
fn skip_prefix(words: &[Word]) -> usize {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let v = w.value.as_str();
        let assignment = v.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        });
        if assignment || matches!(v, "env" | "time" | "nice" | "xvfb-run" | "exec" | "command") {
            i += 1;
        } else if v == "timeout" {
            // `timeout [-s SIG] DURATION CMD`
            i += 1;
            while words.get(i).is_some_and(|w| w.value.starts_with('-')) {
                i += 1;
            }
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The test tool a segment runs, if any.
fn invocation(words: &[Word], package_script: Option<&str>) -> Option<Invocation> {
    let at = |i: usize| words.get(i).map(|w| w.value.as_str());
    let found = |tool, args| {
        Some(Invocation {
            tool,
            args,
            script: None,
        })
    };
    if let Some((after, runner)) = is_package_test(words) {
        let script = segments(package_script?).ok()?;
        let tool = script.iter().find_map(|s| invocation(&s.words, None))?.tool;
        if !matches!(tool, TestTool::Jest | TestTool::Vitest) {
            return None;
        }
        return Some(Invocation {
            tool,
            args: after,
            script: Some(runner),
        });
    }
    let mut i = skip_prefix(words);
    // Runners that start a program from the project's environment.
    loop {
        match (at(i), at(i + 1)) {
            (Some("uv" | "poetry" | "pipenv" | "pdm" | "rye" | "hatch"), Some("run")) => i += 2,
            (Some("pnpm" | "npm"), Some("exec")) => i += 2,
            (Some("npx" | "bunx" | "yarn" | "pnpm"), _) => i += 1,
            (Some("--"), _) => i += 1,
            _ => break,
        }
        while at(i).is_some_and(|w| w.starts_with('-') && w != "--") {
            i += 1;
        }
    }
    let program = words.get(i).map(base)?;
    match program {
        "cargo" => {
            let mut j = i + 1;
            // A toolchain and cargo's own options before the subcommand.
            while let Some(w) = at(j) {
                if w.starts_with('+') {
                    j += 1;
                } else if matches!(w, "--config" | "-Z" | "--color" | "-C") {
                    j += 2;
                } else if w.starts_with('-') {
                    j += 1;
                } else {
                    break;
                }
            }
            match (at(j), at(j + 1)) {
                (Some("test" | "t"), _) => found(TestTool::CargoTest, j + 1),
                (Some("nextest"), Some("run" | "r")) => found(TestTool::Nextest, j + 2),
                _ => None,
            }
        }
        "cargo-nextest" if at(i + 1) == Some("nextest") && at(i + 2) == Some("run") => {
            found(TestTool::Nextest, i + 3)
        }
        "pytest" | "py.test" => found(TestTool::Pytest, i + 1),
        p if (p.starts_with("python") || p == "py")
            && at(i + 1) == Some("-m")
            && at(i + 2) == Some("pytest") =>
        {
            found(TestTool::Pytest, i + 3)
        }
        "jest" | "jest.js" => found(TestTool::Jest, i + 1),
        "node"
            if words.get(i + 1).is_some_and(|w| {
                let b = base(w);
                b == "jest" || b == "jest.js"
            }) =>
        {
            found(TestTool::Jest, i + 2)
        }
        "vitest" => found(TestTool::Vitest, i + 1),
        "go" if at(i + 1) == Some("test") => found(TestTool::GoTest, i + 2),
        _ => None,
    }
}

/// The words of `args` with the options in `drop` (and, for those in
/// `valued`, their values) and every positional word removed. A word after
/// an option that takes a value is that value.
fn keep_options(args: &[Word], valued: &[&str], drop: &[&str]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let w = &args[i];
        let v = w.value.as_str();
        let redirect = v.starts_with('>')
            || v.starts_with('<')
            || v.starts_with("&>")
            || v.trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with(['>', '<']);
        if redirect {
            kept.push(w.raw.clone());
            // A bare `>` takes the next word as its file.
            if matches!(
                v.trim_start_matches(|c: char| c.is_ascii_digit()),
                ">" | ">>" | "<"
            ) && let Some(file) = args.get(i + 1)
            {
                kept.push(file.raw.clone());
                i += 1;
            }
            i += 1;
            continue;
        }
        if !v.starts_with('-') || v == "-" {
            // A positional word: a test filter or path, replaced by QIDE's.
            i += 1;
            continue;
        }
        let name = v.split_once('=').map_or(v, |(n, _)| n);
        let takes_value = valued.contains(&name) && !v.contains('=');
        if drop.contains(&name) {
            i += if takes_value { 2 } else { 1 };
            continue;
        }
        kept.push(w.raw.clone());
        if takes_value && let Some(value) = args.get(i + 1) {
            kept.push(value.raw.clone());
            i += 1;
        }
        i += 1;
    }
    kept
}

/// The positional words of `args` (not options, not their values), as
/// written.
fn positionals(args: &[Word], valued: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let v = args[i].value.as_str();
        if v.starts_with('-') {
            let name = v.split_once('=').map_or(v, |(n, _)| n);
            if valued.contains(&name) && !v.contains('=') {
                i += 1;
            }
        } else {
            out.push(args[i].raw.clone());
        }
        i += 1;
    }
    out
}

/// Splits the words at the first bare `--`.
fn split_dashdash(args: &[Word]) -> (&[Word], Option<&[Word]>) {
    match args.iter().position(|w| w.value == "--") {
        Some(at) => (&args[..at], Some(&args[at + 1..])),
        None => (args, None),
    }
}

const CARGO_VALUED: &[&str] = &[
    "-p",
    "--package",
    "--exclude",
    "-F",
    "--features",
    "--target",
    "--target-dir",
    "--manifest-path",
    "--bin",
    "--example",
    "--test",
    "--bench",
    "-j",
    "--jobs",
    "--profile",
    "--color",
    "--message-format",
    "-Z",
    "--config",
    "--lockfile-path",
];

const LIBTEST_VALUED: &[&str] = &[
    "--test-threads",
    "--skip",
    "--format",
    "--logfile",
    "--color",
    "-Z",
    "--shuffle-seed",
    "--report-time",
];

fn cargo_test_args(args: &[Word], failed: &[FailedTest]) -> Result<Vec<String>, RerunError> {
    let (cargo, harness) = split_dashdash(args);
    let mut out = keep_options(cargo, CARGO_VALUED, &[]);
    out.push("--".to_owned());
    if let Some(harness) = harness {
        out.extend(keep_options(
            harness,
            LIBTEST_VALUED,
            &["--skip", "--exact"],
        ));
    }
    out.push("--exact".to_owned());
    out.extend(failed.iter().map(|t| quote(&t.name)));
    Ok(out)
}

const NEXTEST_VALUED: &[&str] = &[
    "-p",
    "--package",
    "--exclude",
    "-E",
    "--filterset",
    "--filter-expr",
    "-P",
    "--profile",
    "--cargo-profile",
    "--bin",
    "--test",
    "--example",
    "--bench",
    "-F",
    "--features",
    "--target",
    "--target-dir",
    "--manifest-path",
    "-j",
    "--jobs",
    "--test-threads",
    "--retries",
    "--color",
    "--message-format",
    "--partition",
    "--status-level",
    "--final-status-level",
    "--failure-output",
    "--success-output",
    "--config",
    "--tool-config-file",
    "--archive-file",
    "--workspace-remap",
    "--run-ignored",
];

/// A nextest filterset string matcher: `)` and `,` would end it, so they,
/// and the backslash, are escaped.
fn filterset_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, ')' | ',' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn nextest_args(args: &[Word], failed: &[FailedTest]) -> Result<Vec<String>, RerunError> {
    // Words after `--` go to the test binaries as filters: replaced too.
    let (own, _) = split_dashdash(args);
    let mut out = keep_options(own, NEXTEST_VALUED, &["-E", "--filterset", "--filter-expr"]);
    let expr: Vec<String> = failed
        .iter()
        .map(|t| match t.name.split_once(' ') {
            // nextest names a test by its binary, then the test.
            Some((binary, test)) => format!(
                "(binary_id(={}) & test(={}))",
                filterset_text(binary),
                filterset_text(test)
            ),
            None => format!("test(={})", filterset_text(&t.name)),
        })
        .collect();
    out.push("-E".to_owned());
    out.push(quote(&expr.join(" | ")));
    Ok(out)
}

const PYTEST_VALUED: &[&str] = &[
    "-k",
    "-m",
    "-p",
    "-c",
    "-o",
    "-r",
    "-n",
    "-W",
    "--maxfail",
    "--tb",
    "--rootdir",
    "--confcutdir",
    "--basetemp",
    "--junitxml",
    "--junit-xml",
    "--log-level",
    "--log-file",
    "--log-cli-level",
    "--cov",
    "--cov-report",
    "--cov-config",
    "--cov-fail-under",
    "--import-mode",
    "--durations",
    "--capture",
    "--deselect",
    "--ignore",
    "--ignore-glob",
    "--pythonwarnings",
    "--override-ini",
    "--html",
    "--dist",
    "--numprocesses",
    "--timeout",
    "--reruns",
    "--color",
    "--json-report-file",
    "--benchmark-json",
    "--pyargs-root",
    "--config-file",
];

fn pytest_args(args: &[Word], failed: &[FailedTest]) -> Result<Vec<String>, RerunError> {
    let drop = [
        "-k",
        "--deselect",
        "--lf",
        "--last-failed",
        "--ff",
        "--failed-first",
        "--sw",
        "--stepwise",
        "--nf",
        "--new-first",
        // A rerun's verdict needs every test's name and outcome, which
        // pytest prints only when verbose.
        "-q",
        "-qq",
        "--quiet",
    ];
    let mut out = keep_options(args, PYTEST_VALUED, &drop);
    if !out
        .iter()
        .any(|a| a == "-v" || a == "-vv" || a == "--verbose")
    {
        out.push("-v".to_owned());
    }
    for test in failed {
        let file = test.name.split("::").next().unwrap_or_default();
        if !file.ends_with(".py") {
            return Err(RerunError::Unfilterable {
                tool: TestTool::Pytest,
                name: test.name.clone(),
                why: "it is not a node id (path.py::test)",
            });
        }
        out.push(quote(&test.name));
    }
    Ok(out)
}

const JEST_VALUED: &[&str] = &[
    "-c",
    "--config",
    "-t",
    "--testNamePattern",
    "--testPathPattern",
    "--testPathPatterns",
    "--testPathIgnorePatterns",
    "--reporters",
    "-w",
    "--maxWorkers",
    "--rootDir",
    "--roots",
    "--selectProjects",
    "--shard",
    "--testTimeout",
    "--outputFile",
    "--coverageDirectory",
    "--env",
    "--testEnvironment",
    "--seed",
    "--changedSince",
    "--project",
    "--dir",
    "--root",
    "--reporter",
    "--pool",
    "--environment",
];

/// `-t '^(?:A|B)$'` over full test names (describe blocks and title joined
/// by spaces), and the failed tests' files as path patterns.
fn name_pattern_args(names: &[String], files: &[String]) -> Vec<String> {
    let alternatives: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
    let mut out: Vec<String> = files.iter().map(|f| quote(&regex::escape(f))).collect();
    out.push("-t".to_owned());
    out.push(quote(&format!("^(?:{})$", alternatives.join("|"))));
    out
}

/// Unique files, when every failure has one (otherwise no path patterns:
/// all suites run, filtered by name).
fn failed_files(files: impl Iterator<Item = Option<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for file in files {
        let Some(file) = file else { return Vec::new() };
        if !out.contains(&file) {
            out.push(file);
        }
    }
    out
}

fn jest_args(
    args: &[Word],
    failed: &[FailedTest],
    script: Option<ScriptRunner>,
) -> Result<Vec<String>, RerunError> {
    let names: Vec<String> = failed.iter().map(|t| t.name.replace(" › ", " ")).collect();
    let files = failed_files(failed.iter().map(|t| t.file.clone()));
    let mut added = name_pattern_args(&names, &files);
    if !args.iter().any(|w| w.value == "--verbose") {
        // Passing tests are listed by name only when verbose (or with a
        // single suite).
        added.insert(0, "--verbose".to_owned());
    }
    Ok(script_args(args, added, script, |args| {
        keep_options(
            args,
            JEST_VALUED,
            &[
                "-t",
                "--testNamePattern",
                "--testPathPattern",
                "--testPathPatterns",
                "-o",
                "--onlyChanged",
                "--changedSince",
                "--watch",
                "--watchAll",
            ],
        )
    }))
}

fn vitest_args(
    args: &[Word],
    failed: &[FailedTest],
    script: Option<ScriptRunner>,
) -> Result<Vec<String>, RerunError> {
    let mut names = Vec::new();
    let mut files = Vec::new();
    for test in failed {
        // vitest names a failure `file > describe > title`.
        let mut parts: Vec<&str> = test.name.split(" > ").collect();
        let file = if parts.len() > 1 && parts[0].contains('.') {
            Some(parts.remove(0).to_owned())
        } else {
            test.file.clone()
        };
        names.push(parts.join(" "));
        files.push(file);
    }
    let files = failed_files(files.into_iter());
    let added = name_pattern_args(&names, &files);
    // `vitest` alone watches in a terminal; `run` runs once.
    let explicit_run = args.first().is_some_and(|w| w.value == "run");
    Ok(script_args(args, added, script, |args| {
        let rest = if explicit_run { &args[1..] } else { args };
        let mut out = vec!["run".to_owned()];
        out.extend(keep_options(
            rest,
            JEST_VALUED,
            &["-t", "--testNamePattern", "--changed", "--watch"],
        ));
        out
    }))
}

/// Arguments for a runner started directly (its own options kept, then
/// QIDE's) or through a package script (the script's words are not ours to
/// change: QIDE's are passed through).
fn script_args(
    args: &[Word],
    added: Vec<String>,
    script: Option<ScriptRunner>,
    own: impl FnOnce(&[Word]) -> Vec<String>,
) -> Vec<String> {
    match script {
        None => {
            let mut out = own(args);
            out.extend(added);
            out
        }
        Some(runner) => {
            let mut out = Vec::new();
            if runner == ScriptRunner::Npm {
                out.push("--".to_owned());
            }
            out.extend(added);
            out
        }
    }
}

const GO_VALUED: &[&str] = &[
    "-run",
    "-skip",
    "-count",
    "-timeout",
    "-parallel",
    "-cpu",
    "-tags",
    "-bench",
    "-benchtime",
    "-coverprofile",
    "-covermode",
    "-coverpkg",
    "-o",
    "-exec",
    "-p",
    "-ldflags",
    "-gcflags",
    "-mod",
    "-C",
    "-vet",
    "-shuffle",
    "-list",
];

fn go_args(args: &[Word], failed: &[FailedTest]) -> Result<Vec<String>, RerunError> {
    // Packages are positional, and kept: each runs the named tests it has.
    let packages = positionals(args, GO_VALUED);
    let mut out = keep_options(args, GO_VALUED, &["-run", "-skip", "-list"]);
    if !out.iter().any(|a| a.starts_with("-count")) {
        // Reruns must run: never a cached result.
        out.push("-count=1".to_owned());
    }
    if !out.iter().any(|a| a == "-v" || a.starts_with("-v=")) {
        // Passing tests are named only with -v.
        out.push("-v".to_owned());
    }
    let mut parents: Vec<String> = Vec::new();
    for test in failed {
        // A subtest reruns with its parent: `-run` matches top-level names
        // first, and a parent that fails names its failed subtests again.
        let parent = test.name.split('/').next().unwrap_or_default();
        if parent.is_empty() || parent.contains(char::is_whitespace) {
            return Err(RerunError::Unfilterable {
                tool: TestTool::GoTest,
                name: test.name.clone(),
                why: "it is not a Go test function name",
            });
        }
        let parent = regex::escape(parent);
        if !parents.contains(&parent) {
            parents.push(parent);
        }
    }
    out.push("-run".to_owned());
    out.push(quote(&format!("^({})$", parents.join("|"))));
    out.extend(packages);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(names: &[&str]) -> Vec<FailedTest> {
        names
            .iter()
            .map(|n| FailedTest {
                name: (*n).to_owned(),
                file: None,
            })
            .collect()
    }

    fn rerun(command: &str, names: &[&str]) -> String {
        rerun_command(command, &failed(names), None)
            .unwrap_or_else(|e| panic!("{command}: {e}"))
            .command
    }

    #[test]
    fn cargo_test_reruns_exact_names_and_keeps_its_options() {
        assert_eq!(
            rerun("cargo test", &["tests::flaky", "parses"]),
            "cargo test -- --exact tests::flaky parses"
        );
        assert_eq!(
            rerun(
                "cargo test -p qide-store --all-features some_filter -- --nocapture --test-threads 1 other --skip slow",
                &["tests::a"]
            ),
            "cargo test -p qide-store --all-features -- --nocapture --test-threads 1 --exact tests::a"
        );
        // A doc test's name has spaces and parentheses: quoted.
        assert_eq!(
            rerun("cargo +nightly test --doc", &["src/lib.rs - add (line 5)"]),
            "cargo +nightly test --doc -- --exact 'src/lib.rs - add (line 5)'"
        );
    }

    #[test]
    fn words_before_the_runner_are_kept_and_after_it_dropped() {
        assert_eq!(
            rerun(
                "cd \"$PROJECT dir\" && RUST_LOG=debug cargo build && cargo test 2>&1 | tee log.txt",
                &["t"]
            ),
            "cd \"$PROJECT dir\" && RUST_LOG=debug cargo build && cargo test 2>&1 -- --exact t"
        );
        assert_eq!(
            rerun(
                "FOO=1 timeout 600 cargo test --release; echo done",
                &["x::y"]
            ),
            "FOO=1 timeout 600 cargo test --release -- --exact x::y"
        );
    }

    #[test]
    fn nextest_filters_by_binary_and_test() {
        assert_eq!(
            rerun(
                "cargo nextest run --workspace -E 'test(/slow/)' some_filter --retries 2",
                &["nexcalc tests::it_fails", "plain"]
            ),
            "cargo nextest run --workspace --retries 2 -E \
             '(binary_id(=nexcalc) & test(=tests::it_fails)) | test(=plain)'"
        );
        assert_eq!(
            rerun("cargo nextest run", &["crate::bin/tool odd(,)name"]),
            r"cargo nextest run -E '(binary_id(=crate::bin/tool) & test(=odd(\,\)name))'"
        );
    }

    #[test]
    fn pytest_reruns_node_ids() {
        assert_eq!(
            rerun(
                "python -m pytest -q -x tests/ -k 'slow or fast' --maxfail 3 --lf",
                &[
                    "tests/test_a.py::test_flaky",
                    "tests/test_b.py::TestX::test_p[1-2]"
                ]
            ),
            "python -m pytest -x --maxfail 3 -v tests/test_a.py::test_flaky \
             'tests/test_b.py::TestX::test_p[1-2]'"
        );
        assert_eq!(
            rerun("uv run pytest", &["t.py::test_it"]),
            "uv run pytest -v t.py::test_it"
        );
        let err = rerun_command("pytest", &failed(&["test_it"]), None).unwrap_err();
        assert!(
            matches!(
                err,
                RerunError::Unfilterable {
                    tool: TestTool::Pytest,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn jest_reruns_by_full_name_within_the_failed_files() {
        let tests = vec![
            FailedTest {
                name: "math › adds (1+1)".to_owned(),
                file: Some("src/math.test.js".to_owned()),
            },
            FailedTest {
                name: "it's fine".to_owned(),
                file: Some("src/other.test.js".to_owned()),
            },
        ];
        let plan = rerun_command("npx jest --ci -t old src/", &tests, None).unwrap();
        assert_eq!(plan.tool, TestTool::Jest);
        assert_eq!(
            plan.command,
            r"npx jest --ci --verbose 'src/math\.test\.js' 'src/other\.test\.js' -t '^(?:math adds \(1\+1\)|it'\''s fine)$'"
        );
        // Without files: every suite, filtered by name.
        assert_eq!(rerun("jest", &["a › b"]), "jest --verbose -t '^(?:a b)$'");
    }

    #[test]
    fn package_scripts_pass_the_filter_through() {
        let tests = failed(&["suite › case"]);
        let plan = rerun_command("npm test", &tests, Some("jest --coverage")).unwrap();
        assert_eq!(plan.command, "npm test -- --verbose -t '^(?:suite case)$'");
        let plan = rerun_command("yarn test", &tests, Some("vitest")).unwrap();
        assert_eq!(plan.tool, TestTool::Vitest);
        assert_eq!(plan.command, "yarn test -t '^(?:suite › case)$'");
        // A script QIDE cannot read, or none at all, is said plainly.
        let err = rerun_command("npm test", &tests, None).unwrap_err();
        assert!(matches!(err, RerunError::UnknownScript { .. }), "{err:?}");
        let err = rerun_command("npm test", &tests, Some("mocha")).unwrap_err();
        assert!(matches!(err, RerunError::UnknownScript { .. }), "{err:?}");
    }

    #[test]
    fn vitest_runs_once_with_file_and_name() {
        assert_eq!(
            rerun(
                "npx vitest --reporter verbose",
                &["src/a.test.ts > math > adds"]
            ),
            r"npx vitest run --reporter verbose 'src/a\.test\.ts' -t '^(?:math adds)$'"
        );
        assert_eq!(
            rerun("vitest run", &["src/a.test.ts > adds"]),
            r"vitest run 'src/a\.test\.ts' -t '^(?:adds)$'"
        );
    }

    #[test]
    fn go_test_reruns_top_level_names_in_every_package() {
        assert_eq!(
            rerun(
                "go test -v -run Old -timeout 60s ./...",
                &["TestFlaky", "TestTable/case_2", "TestTable/case_3"]
            ),
            "go test -v -timeout 60s -count=1 -run '^(TestFlaky|TestTable)$' ./..."
        );
        assert_eq!(
            rerun("go test -count=3 ./pkg/a ./pkg/b", &["TestX"]),
            "go test -count=3 -v -run '^(TestX)$' ./pkg/a ./pkg/b"
        );
    }

    #[test]
    fn unknown_tools_and_bad_input_are_said_plainly() {
        let err = rerun_command("make check", &failed(&["t"]), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rerunning failed tests is not supported for `make check`: QIDE can rerun single \
             tests of cargo test, cargo nextest, pytest, jest, vitest and go test"
        );
        assert_eq!(
            rerun_command("cargo test", &[], None).unwrap_err(),
            RerunError::NoTests
        );
        assert!(matches!(
            rerun_command("cargo test 'oops", &failed(&["t"]), None).unwrap_err(),
            RerunError::Unreadable { .. }
        ));
        // cargo's other subcommands are not test runs.
        assert_eq!(detect_test_tool("cargo build --all-targets", None), None);
    }

    #[test]
    fn a_step_of_several_runners_reruns_the_one_whose_tests_failed() {
        let plan = rerun_command(
            "cargo test && pytest -q",
            &failed(&["tests/t.py::test_a"]),
            None,
        )
        .unwrap();
        assert_eq!(plan.tool, TestTool::Pytest);
        assert_eq!(plan.command, "cargo test && pytest -v tests/t.py::test_a");
    }

    #[test]
    fn the_tool_is_detected_through_wrappers() {
        for (command, tool) in [
            ("cargo test", TestTool::CargoTest),
            ("cargo --locked t", TestTool::CargoTest),
            ("cargo nextest run", TestTool::Nextest),
            ("poetry run python3 -m pytest", TestTool::Pytest),
            ("env CI=1 pnpm exec jest", TestTool::Jest),
            ("node node_modules/.bin/jest", TestTool::Jest),
            ("bunx vitest run", TestTool::Vitest),
            ("go vet ./... && go test ./...", TestTool::GoTest),
        ] {
            assert_eq!(detect_test_tool(command, None), Some(tool), "{command}");
        }
        assert_eq!(
            detect_test_tool("npm test", Some("jest")),
            Some(TestTool::Jest)
        );
        assert_eq!(detect_test_tool("npm test", None), None);
    }

    #[test]
    fn shell_words_keep_their_text() {
        let segs = segments(r#"a "b c" 'd e'\ f $(g h) `i j` 2>&1 && k & l"#).unwrap();
        let raws: Vec<Vec<&str>> = segs
            .iter()
            .map(|s| s.words.iter().map(|w| w.raw.as_str()).collect())
            .collect();
        assert_eq!(
            raws,
            [
                vec!["a", "\"b c\"", r"'d e'\ f", "$(g h)", "`i j`", "2>&1"],
                vec!["k"],
                vec!["l"]
            ]
        );
        assert_eq!(segs[0].words[2].value, "d e f");
        assert_eq!(segs[0].separator, Some("&&"));
        assert_eq!(segs[1].separator, Some("&"));
        assert_eq!(quote("plain-name::x"), "plain-name::x");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
