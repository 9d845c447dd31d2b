//! What a build runs: `qide.toml`, or steps detected from the project's files.
//!
//! ```toml
//! [build]
//! timeout_s = 3600            # the whole build
//! no_output_timeout_s = 600   # a step silent this long is stopped
//! redact = ["a-literal-secret"]
//!
//! [env]
//! RUST_BACKTRACE = "1"
//!
//! [[steps]]
//! name = "build"
//! run = "cargo build --all-targets"
//! timeout_s = 900
//!
//! [profiles.quick]
//! steps = [{ name = "check", run = "cargo check" }]
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The file that configures a project's builds.
pub const CONFIG_FILE: &str = "qide.toml";

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// `qide.toml` exists but is not valid.
    #[error("{CONFIG_FILE} is invalid: {0}")]
    InvalidConfig(String),
    /// `qide.toml` could not be read.
    #[error("cannot read {CONFIG_FILE}: {0}")]
    Read(#[from] std::io::Error),
    /// The requested profile is not in `qide.toml`.
    #[error("profile {0:?} is not defined in {CONFIG_FILE}")]
    UnknownProfile(String),
    /// Neither `qide.toml` nor a known project file says how to build.
    #[error(
        "no build steps: the project has no {CONFIG_FILE} and no Cargo.toml, package.json, \
         pyproject.toml, setup.py, go.mod or Makefile to detect them from; pass steps or run `qide init`"
    )]
    NoSteps,
}

/// One step to run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub name: String,
    /// A shell command, run with `sh -c` in the project root.
    pub run: String,
    #[serde(default)]
    pub timeout_s: Option<u64>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// `[build]` of `qide.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSection {
    #[serde(default)]
    pub timeout_s: Option<u64>,
    #[serde(default)]
    pub no_output_timeout_s: Option<u64>,
    /// Literal strings masked in every log line before it is stored.
    #[serde(default)]
    pub redact: Vec<String>,
    /// How many builds of the project may run at once, when `qide serve`
    /// is not given `--max-concurrent-builds`.
    #[serde(default)]
    pub max_concurrent_builds: Option<usize>,
}

/// `[profiles.NAME]` of `qide.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub steps: Vec<StepSpec>,
}

/// `qide.toml`, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    #[serde(default)]
    pub build: BuildSection,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

impl ProjectConfig {
    /// Reads `qide.toml` from `root`; `None` when there is none.
    pub fn load(root: &Path) -> Result<Option<ProjectConfig>, PlanError> {
        let path = root.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(PlanError::Read(e)),
        };
        ProjectConfig::parse(&text).map(Some)
    }

    /// Parses the text of a `qide.toml`.
    pub fn parse(text: &str) -> Result<ProjectConfig, PlanError> {
        let config: ProjectConfig =
            toml::from_str(text).map_err(|e| PlanError::InvalidConfig(e.to_string()))?;
        for step in config
            .steps
            .iter()
            .chain(config.profiles.values().flat_map(|p| &p.steps))
        {
            validate_step(step).map_err(PlanError::InvalidConfig)?;
        }
        Ok(config)
    }
}

/// Checks a step's fields; the message names what is wrong.
pub fn validate_step(step: &StepSpec) -> Result<(), String> {
    if step.name.trim().is_empty() || step.name.len() > 200 {
        return Err("a step name must be 1 to 200 characters".to_owned());
    }
    if step.run.trim().is_empty() {
        return Err(format!("step {:?} has an empty `run` command", step.name));
    }
    if step.timeout_s == Some(0) {
        return Err(format!(
            "step {:?}: timeout_s must be at least 1",
            step.name
        ));
    }
    Ok(())
}

/// The steps for a build and the settings that come with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<StepSpec>,
    pub timeout_s: Option<u64>,
    pub no_output_timeout_s: Option<u64>,
    pub env: BTreeMap<String, String>,
    pub redact: Vec<String>,
}

impl Plan {
    /// The plan for `root`: the steps of `profile` (or the default steps) of
    /// `qide.toml`, else steps detected from the project's files.
    pub fn for_project(root: &Path, profile: Option<&str>) -> Result<Plan, PlanError> {
        let config = ProjectConfig::load(root)?;
        let config = match config {
            Some(config) => config,
            None => {
                if let Some(name) = profile {
                    return Err(PlanError::UnknownProfile(name.to_owned()));
                }
                let steps = detect_steps(root);
                if steps.is_empty() {
                    return Err(PlanError::NoSteps);
                }
                return Ok(Plan {
                    steps,
                    timeout_s: None,
                    no_output_timeout_s: None,
                    env: BTreeMap::new(),
                    redact: Vec::new(),
                });
            }
        };
        let steps = match profile {
            Some(name) => config
                .profiles
                .get(name)
                .ok_or_else(|| PlanError::UnknownProfile(name.to_owned()))?
                .steps
                .clone(),
            None if config.steps.is_empty() => detect_steps(root),
            None => config.steps.clone(),
        };
        if steps.is_empty() {
            return Err(PlanError::NoSteps);
        }
        Ok(Plan {
            steps,
            timeout_s: config.build.timeout_s,
            no_output_timeout_s: config.build.no_output_timeout_s,
            env: config.env,
            redact: config.build.redact,
        })
    }
}

fn step(name: &str, run: &str) -> StepSpec {
    StepSpec {
        name: name.to_owned(),
        run: run.to_owned(),
        timeout_s: None,
        env: BTreeMap::new(),
    }
}

/// Steps guessed from the project's build files, in this order of preference:
/// Cargo, npm/pnpm/yarn, Python, Go, Make. Empty when nothing is recognised.
pub fn detect_steps(root: &Path) -> Vec<StepSpec> {
    let has = |name: &str| root.join(name).is_file();
    if has("Cargo.toml") {
        return vec![
            step("build", "cargo build --all-targets"),
            step("test", "cargo test"),
        ];
    }
    if has("package.json") {
        let tool = if has("pnpm-lock.yaml") {
            "pnpm"
        } else if has("yarn.lock") {
            "yarn"
        } else {
            "npm"
        };
        let scripts = std::fs::read_to_string(root.join("package.json"))
            .ok()
            .and_then(|text| package_scripts(&text))
            .unwrap_or_default();
        let mut steps = Vec::new();
        if scripts.iter().any(|s| s == "build") {
            steps.push(step("build", &format!("{tool} run build")));
        }
        if scripts.iter().any(|s| s == "test") {
            steps.push(step("test", &format!("{tool} test")));
        }
        if steps.is_empty() {
            steps.push(step("install", &format!("{tool} install")));
        }
        return steps;
    }
    if has("pyproject.toml") || has("setup.py") || has("setup.cfg") {
        return vec![step("test", "pytest")];
    }
    if has("go.mod") {
        return vec![
            step("build", "go build ./..."),
            step("test", "go test ./..."),
        ];
    }
    if has("Makefile") || has("makefile") || has("GNUmakefile") {
        return vec![step("build", "make")];
    }
    Vec::new()
}

/// The script names of a `package.json`, found without a JSON parser: the
/// keys of its top-level `"scripts"` object.
fn package_scripts(text: &str) -> Option<Vec<String>> {
    let start = text.find("\"scripts\"")?;
    let rest = &text[start + "\"scripts\"".len()..];
    let open = rest.find('{')?;
    let body = &rest[open + 1..];
    let close = body.find('}')?;
    let body = &body[..close];
    let mut names = Vec::new();
    let mut parts = body.split('"');
    // Alternate: outside, key, between, value, outside, key, …
    parts.next();
    while let Some(key) = parts.next() {
        names.push(key.to_owned());
        parts.next(); // `: `
        parts.next(); // the value
        parts.next(); // `, `
    }
    Some(names)
}

/// The `qide.toml` that `qide init` writes for `root`: the detected steps,
/// commented so the user can edit them.
pub fn render_init(root: &Path) -> String {
    let steps = detect_steps(root);
    let mut out = String::from(
        "# QIDE build configuration: the steps `qide serve` runs for a build, in order.\n\
         # A step's `run` is a shell command run in the project root.\n\n\
         [build]\n\
         # timeout_s = 3600           # stop the whole build after this long\n\
         # no_output_timeout_s = 600  # stop a step that prints nothing for this long\n\
         # redact = []                # literal strings masked in stored logs\n\n",
    );
    if steps.is_empty() {
        out.push_str("[[steps]]\nname = \"build\"\nrun = \"make\"\n");
    }
    for step in steps {
        out.push_str(&format!(
            "[[steps]]\nname = {}\nrun = {}\n# timeout_s = 1800\n\n",
            toml_string(&step.name),
            toml_string(&step.run)
        ));
    }
    out
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_scripts_lists_keys() {
        let json = r#"{"name": "x", "scripts": {"build": "tsc", "test": "jest --ci"}, "dependencies": {"a": "1"}}"#;
        assert_eq!(
            package_scripts(json),
            Some(vec!["build".to_owned(), "test".to_owned()])
        );
    }

    #[test]
    fn config_rejects_unknown_fields_with_a_clear_message() {
        let err = ProjectConfig::parse("[[steps]]\nname = \"a\"\nrun = \"true\"\ntimeout = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("timeout"), "{err}");
    }

    #[test]
    fn config_rejects_empty_commands() {
        let err = ProjectConfig::parse("[[steps]]\nname = \"a\"\nrun = \" \"\n").unwrap_err();
        assert!(err.to_string().contains("empty `run`"), "{err}");
    }

    #[test]
    fn init_output_parses_back_to_the_detected_steps() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("go.mod"), "module x\n").unwrap();
        let config = ProjectConfig::parse(&render_init(dir.path())).unwrap();
        assert_eq!(config.steps, detect_steps(dir.path()));
        assert_eq!(config.steps[1].run, "go test ./...");
    }
}
