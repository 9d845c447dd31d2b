//! Command-line arguments and what each command does.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use futures_util::StreamExt;
use qide_api as api;
use qide_client::{Client, DEFAULT_SERVER, LogQuery};
use qide_store::Store;

use crate::output;
use crate::serve::{self, ServeOptions};

/// Build intelligence for coding agents: runs a project's builds and tests,
/// keeps their history, and turns logs into structured diagnostics.
#[derive(Debug, Parser)]
#[command(
    name = "qide",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = CLI_HELP
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve a project: run its builds and answer the HTTP API.
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// Start a build and follow its log; the exit code is the build's result
    /// (0 success, 1 failed, 2 error).
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// List builds, newest first.
    #[command(after_help = BUILDS_HELP)]
    Builds(BuildsArgs),
    /// Show one build: steps, root-cause errors, tests, the log's end.
    #[command(after_help = SHOW_HELP)]
    Show(ShowArgs),
    /// Print a build's log, or part of it.
    #[command(after_help = LOG_HELP)]
    Log(LogArgs),
    /// Write a qide.toml with the build steps detected for the project.
    #[command(after_help = INIT_HELP)]
    Init(InitArgs),
    /// List failures tracked across builds, with counts per category.
    #[command(after_help = PATTERNS_HELP)]
    Patterns(PatternsArgs),
    /// Send an analysis of a build.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Summarise the project the server builds: files, languages, key files.
    #[command(after_help = CODEBASE_HELP)]
    Codebase(CodebaseArgs),
    /// Manage access tokens: once one exists, the server requires them.
    #[command(after_help = TOKEN_HELP)]
    Token(TokenArgs),
    /// Manage dashboard users: once one exists, the server requires signing
    /// in.
    #[command(after_help = USER_HELP)]
    User(UserArgs),
    /// Show who ran, cancelled and reported what, and who signed in, newest
    /// first.
    #[command(after_help = AUDIT_HELP)]
    Audit(AuditArgs),
    /// Serve MCP (Model Context Protocol) on stdin and stdout for a coding
    /// agent: tools over the project's QIDE server, started in this process
    /// when none is running (see docs/mcp.md).
    #[command(after_help = MCP_HELP)]
    Mcp(McpArgs),
    /// Analyse failed builds and report back, as they happen (or once).
    #[command(after_help = AGENT_HELP)]
    Agent(AgentArgs),
    /// Print a shell completion script for qide.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Print the OpenAPI 3.1 document of the HTTP API, as a server's
    /// GET /openapi.json serves it, for generating clients without a server.
    #[command(after_help = OPENAPI_HELP)]
    Openapi,
}

const CLI_HELP: &str = "\
Quick start:
  qide serve .                 serve the project in this directory on http://127.0.0.1:8000
  qide run                     build it (qide.toml steps, or detected), follow the log
  qide show 1                  the failure: root-cause errors with file, line and code
  qide mcp .                   MCP on stdio for a coding agent

Client commands talk to --server (or QIDE_SERVER, default http://127.0.0.1:8000) with --token
(or QIDE_TOKEN), and print JSON with --json. Logging goes to stderr; QIDE_LOG=debug for more.
Guide: docs/README.md in the QIDE repository.";

const SERVE_HELP: &str = "\
Data stays in DIR/.qide/ (SQLite and logs) unless --database names a PostgreSQL server. With no
access tokens the server is open, so it binds loopback unless --insecure-open is given.

Examples:
  qide serve .
  qide serve ~/src/app --bind 127.0.0.1:9000
  qide serve . --database postgres://qide:secret@db/qide";

const RUN_HELP: &str = "\
With no server at the default address, `qide run` serves --dir itself for the length of the
build. Exit code: 0 success, 1 failed, 2 error (could not run, cancelled, interrupted), 3 when
QIDE itself failed (bad arguments, unreachable server).

Examples:
  qide run
  qide run --step 'test=cargo test --workspace' --timeout 900
  qide run --profile quick --json | jq .status
  qide run --no-follow";

const BUILDS_HELP: &str = "\
Examples:
  qide builds
  qide builds --status failed --limit 5
  qide builds --json | jq '.builds[0].id'";

const SHOW_HELP: &str = "\
Examples:
  qide show 12
  qide show 12 --json | jq '.log_summary.errors[0]'";

const LOG_HELP: &str = "\
Without --limit or --tail the whole log is printed, page by page. --json prints each page as
one JSON object per line: {lines: [{n, stream, step, text}], total_lines, next_from, ...}.

Examples:
  qide log 12 --tail 50
  qide log 12 --grep 'error\\[E[0-9]+\\]' -C 3
  qide log 12 --from 120 --limit 40";

const INIT_HELP: &str = "\
Detection: Cargo.toml, package.json (npm, pnpm or yarn scripts), pyproject.toml or setup.py,
go.mod, Makefile. The file is printed too; edit it to change the steps.

Examples:
  qide init
  qide init ~/src/app --force";

const PATTERNS_HELP: &str = "\
Examples:
  qide patterns
  qide patterns --status open --category test_failure
  qide patterns --json | jq '.categories'";

const REPORT_HELP: &str = "\
Examples:
  qide report 12 --analysis 'parse() assigns &str to u64' --recommend 'use text.parse()?' \\
      --confidence 0.9 --model my-model
  qide report 12 --type test_coverage --analysis 'no test covers the empty input' --json";

const CODEBASE_HELP: &str = "\
Examples:
  qide codebase
  qide codebase --mode map --budget-tokens 2000 --build 12
  qide codebase --mode pack --budget-tokens 8000 > context.txt";

const USER_HELP: &str = "\
Users live in the project's store, so these commands need no running server. A user signs in to
the dashboard at /login with a password (stored as an argon2id hash) and gets the scopes given here
(default read,run,report).

Examples:
  qide user add alice --scope read,run
  printf '%s\\n' \"$PASSWORD\" | qide user add ci-viewer --scope read --password-stdin
  qide user list --json
  qide user remove alice";

const AUDIT_HELP: &str = "\
Reads the trail from the project's store (admins can also read it over HTTP at GET /admin/audit).
Tokens and passwords are never recorded.

Examples:
  qide audit
  qide audit --limit 200 --json
  qide audit --dir ../service --database postgres://qide@db/qide";

const TOKEN_HELP: &str = "\
Tokens live in the project's store, so these commands need no running server. Scopes: read (every
GET), run (start and cancel builds), report (send reports), admin (everything).

Examples:
  qide token create --name claude --scope read,run,report
  qide token list --json
  qide token revoke claude";

const AGENT_HELP: &str = "\
Without --llm the agent writes analyses from its rules and from earlier fixes of the same failure.

Examples:
  qide agent --once
  qide agent --llm openai --model gpt-4o-mini
  qide agent --llm openai --base-url http://127.0.0.1:11434/v1 --model qwen2.5-coder
  qide agent --llm anthropic --model claude-sonnet-4-5 --api-key-env ANTHROPIC_API_KEY";

const MCP_HELP: &str = "\
Which server the tools use:
  qide mcp DIR             the server at --server (default http://127.0.0.1:8000) when it
                           serves DIR; otherwise QIDE serves DIR itself, in this process, on
                           a free loopback port, for as long as the MCP session lasts
  qide mcp                 the same for the current directory
  qide mcp --server URL    the server at URL, whatever it serves

stdout carries only MCP's JSON-RPC messages; diagnostics go to stderr (QIDE_LOG=info for more).

Examples:
  claude mcp add qide -- qide mcp /path/to/project
  qide mcp --server http://build-host:8000 --token \"$QIDE_TOKEN\"";

const COMPLETIONS_HELP: &str = "\
Examples:
  qide completions bash > ~/.local/share/bash-completion/completions/qide
  qide completions zsh > \"${fpath[1]}/_qide\"
  qide completions fish > ~/.config/fish/completions/qide.fish
  qide completions powershell >> $PROFILE";

const OPENAPI_HELP: &str = "\
Examples:
  qide openapi > qide-openapi.json
  qide openapi | jq '.paths | keys'";

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct AgentArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The agent's name on claims and reports.
    #[arg(long, default_value = "qide-agent")]
    name: String,
    /// Analyse the recent failed builds nobody has analysed, then exit.
    #[arg(long)]
    once: bool,
    /// Seconds a claim on a build lasts (1 to 3600): another agent may take
    /// the build after that.
    #[arg(long, default_value_t = 300)]
    lease: u64,
    /// A language model for failures the rules are unsure of: `openai` (any
    /// OpenAI-compatible server: OpenAI, Ollama, vLLM, llama.cpp) or
    /// `anthropic`.
    #[arg(long, value_parser = ["openai", "anthropic"])]
    llm: Option<String>,
    /// The model API's base URL (default: the provider's public API).
    #[arg(long)]
    base_url: Option<String>,
    /// The model's name.
    #[arg(long)]
    model: Option<String>,
    /// The environment variable holding the API key (default
    /// OPENAI_API_KEY or ANTHROPIC_API_KEY).
    #[arg(long)]
    api_key_env: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PatternsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Only `open` or `resolved` failures.
    #[arg(long, value_parser = ["open", "resolved"])]
    status: Option<String>,
    /// Only failures of this category (`compile_error`, `test_failure`, …).
    #[arg(long)]
    category: Option<String>,
    /// How many patterns to list (at most 500).
    #[arg(long, default_value_t = 20)]
    limit: i64,
    /// Patterns to skip, for the next page.
    #[arg(long, default_value_t = 0)]
    skip: i64,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The build the analysis is about.
    build_id: i64,
    /// What was found.
    #[arg(long)]
    analysis: String,
    /// A recommended change; repeat for several.
    #[arg(long = "recommend", value_name = "TEXT")]
    recommendations: Vec<String>,
    /// How sure the analysis is, from 0 to 1.
    #[arg(long, default_value_t = 0.5)]
    confidence: f64,
    /// What kind of report it is.
    #[arg(long = "type", default_value = "failure_analysis",
          value_parser = ["failure_analysis", "code_improvement", "test_coverage", "other"])]
    kind: String,
    /// A failure fingerprint the analysis is about; repeat for several.
    #[arg(long = "fingerprint")]
    fingerprints: Vec<String>,
    /// Who wrote it.
    #[arg(long)]
    agent: Option<String>,
    /// The model that wrote it.
    #[arg(long)]
    model: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CodebaseArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// `summary` (files, languages, key files), `map` (ranked definitions)
    /// or `pack` (file contents).
    #[arg(long, default_value = "summary", value_parser = ["summary", "map", "pack"])]
    mode: String,
    /// Token budget for `map` and `pack` (o200k_base tokens; the server's
    /// default when left out).
    #[arg(long)]
    budget_tokens: Option<u64>,
    /// Centre `map` and `pack` on this build's failing files.
    #[arg(long)]
    build: Option<i64>,
}

#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The project directory (default: the current directory, unless
    /// --server is given).
    dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// The QIDE server to talk to.
    #[arg(long, env = "QIDE_SERVER", default_value = DEFAULT_SERVER, global = true,
          value_name = "URL")]
    server: String,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Access token for a server that needs one (see `qide token`).
    #[arg(long, env = "QIDE_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// PEM certificates to trust besides the system's, for an https://
    /// server with a self-signed or private-CA certificate.
    #[arg(long, env = "QIDE_CA_CERT", global = true, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
    /// The project directory whose server the tokens are for.
    #[arg(long, default_value = ".", global = true)]
    dir: PathBuf,
    /// A postgres:// URL, when the server stores its data there.
    #[arg(long, env = "QIDE_DATABASE", global = true)]
    database: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print it (it is shown only this once).
    Create {
        /// A name to tell it by, e.g. the agent that uses it.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: read, run, report, admin.
        #[arg(long, default_value = "read,run,report", value_delimiter = ',')]
        scope: Vec<String>,
    },
    /// List tokens (names, scopes, use; never the tokens).
    List,
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8000", env = "QIDE_BIND")]
    bind: SocketAddr,
    /// A postgres:// URL to store data in PostgreSQL instead of the embedded
    /// SQLite database under DIR/.qide/.
    #[arg(long, env = "QIDE_DATABASE")]
    database: Option<String>,
    /// Allow a non-loopback bind without authentication.
    #[arg(long)]
    insecure_open: bool,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, env = "QIDE_TLS_CERT", requires = "tls_key", value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "QIDE_TLS_KEY", requires = "tls_cert", value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Builds that may run at the same time (default: `[build]
    /// max_concurrent_builds` of qide.toml, else 1, since builds share the
    /// project's working tree).
    #[arg(long, env = "QIDE_MAX_CONCURRENT_BUILDS", value_name = "N")]
    max_concurrent_builds: Option<usize>,
    /// Let pages from this origin (e.g. https://ci.example.com) call the API
    /// from a browser (CORS); repeat for several. Off by default.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// How long an unused dashboard session lasts, e.g. 12h, 30m.
    #[arg(long, default_value = "12h", value_parser = humantime::parse_duration)]
    session_idle: std::time::Duration,
    /// Builds one caller may start per minute (a burst of up to a third of
    /// it, at least 1, is allowed at once); 0 turns the limit off.
    #[arg(long, default_value_t = 60, value_name = "N")]
    builds_per_minute: u32,
    /// Codebase packs and maps one caller may ask for per minute; 0 turns
    /// the limit off.
    #[arg(long, default_value_t = 120, value_name = "N")]
    packs_per_minute: u32,
}

impl ServeArgs {
    /// What the flags say about TLS, limits, sessions and CORS.
    fn security(&self) -> anyhow::Result<serve::ServeSecurity> {
        for origin in &self.cors_origins {
            let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.trim_end_matches('/').contains(['?', '#', ' '])
                && origin
                    .split("://")
                    .nth(1)
                    .is_some_and(|host| !host.is_empty() && !host.contains('/'));
            if !ok {
                bail!(
                    "--cors-origin {origin:?} must be an origin like https://ci.example.com (scheme and host, no path)"
                );
            }
        }
        let rate = |per_minute: u32| {
            (per_minute > 0).then_some(qide_server::Rate {
                burst: (per_minute / 3).max(1),
                per_minute,
            })
        };
        let defaults = qide_server::RateLimits::default();
        Ok(serve::ServeSecurity {
            tls: self.tls_cert.clone().zip(self.tls_key.clone()),
            max_concurrent_builds: self.max_concurrent_builds,
            options: qide_server::SecurityOptions {
                session_idle: self.session_idle,
                secure_cookies: self.tls_cert.is_some(),
                rate_limits: qide_server::RateLimits {
                    builds: rate(self.builds_per_minute),
                    codebase: rate(self.packs_per_minute),
                    sign_in: defaults.sign_in,
                },
                cors_origins: self.cors_origins.clone(),
            },
        })
    }
}

#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    #[command(subcommand)]
    pub(crate) command: UserCommand,
    /// The project directory whose server the users are for.
    #[arg(long, default_value = ".", global = true)]
    pub(crate) dir: PathBuf,
    /// A postgres:// URL, when the server stores its data there.
    #[arg(long, env = "QIDE_DATABASE", global = true)]
    pub(crate) database: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Add a user who signs in to the dashboard with a password (asked for
    /// on the terminal, or read from stdin with --password-stdin).
    Add {
        /// The user's name.
        name: String,
        /// Comma-separated scopes: read, run, report, admin.
        #[arg(long, default_value = "read,run,report", value_delimiter = ',')]
        scope: Vec<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users (names and scopes; never passwords).
    List,
    /// Remove a user; their sessions end.
    Remove {
        /// The user's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// The project directory whose server's trail to show.
    #[arg(long, default_value = ".")]
    pub(crate) dir: PathBuf,
    /// A postgres:// URL, when the server stores its data there.
    #[arg(long, env = "QIDE_DATABASE")]
    pub(crate) database: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Most events to show, newest first (1 to 500).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=500))]
    pub(crate) limit: i64,
    /// Newest events to skip, for paging.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    pub(crate) skip: i64,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// A step to run instead of the project's steps, as NAME=COMMAND or just
    /// COMMAND; repeat for several.
    #[arg(long = "step", value_name = "[NAME=]COMMAND")]
    steps: Vec<String>,
    /// A [profiles.NAME] of qide.toml.
    #[arg(long)]
    profile: Option<String>,
    /// Timeout for the whole build, in seconds (default: qide.toml's
    /// `[build] timeout_s`, else one hour).
    #[arg(long)]
    timeout: Option<u64>,
    /// Queue the build, print its id and return at once.
    #[arg(long)]
    no_follow: bool,
    /// When the build fails in its tests, rerun only the failed tests on the
    /// same tree up to N times: tests that pass on a rerun are flaky. Exits
    /// 0 (with a warning) when every failure was flaky, 1 when a test failed
    /// every time.
    #[arg(long, value_name = "N", conflicts_with = "no_follow",
          value_parser = clap::value_parser!(u32).range(1..=20))]
    rerun_failed: Option<u32>,
    /// The project to serve when no server runs at the default address.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct BuildsArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Only builds with this status (queued, running, success, failed, error).
    #[arg(long)]
    status: Option<String>,
    /// How many builds to list (at most 500).
    #[arg(long, default_value_t = 20)]
    limit: i64,
    /// Builds to skip, newest first, for the next page.
    #[arg(long, default_value_t = 0)]
    skip: i64,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The build id.
    id: i64,
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The build id.
    id: i64,
    /// First line to print (lines count from 1 over the whole build).
    #[arg(long)]
    from: Option<i64>,
    /// Most lines to print (at most 5000).
    #[arg(long)]
    limit: Option<i64>,
    /// Print the last N lines.
    #[arg(long)]
    tail: Option<i64>,
    /// Print lines matching this regular expression (Rust regex syntax).
    #[arg(long)]
    grep: Option<String>,
    /// Lines of context around each match.
    #[arg(long, short = 'C')]
    context: Option<i64>,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Overwrite an existing qide.toml.
    #[arg(long)]
    force: bool,
    /// Print `{path, content}` as JSON instead of the file's text.
    #[arg(long)]
    json: bool,
}

fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let mut client = Client::new(&args.server)?.with_token(args.token.clone());
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read --ca-cert {}", path.display()))?;
        client = client
            .with_ca_certificates(&pem)
            .with_context(|| format!("--ca-cert {}", path.display()))?;
    }
    Ok(client)
}

/// `qide agent`.
async fn agent_command(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let llm = match args.llm.as_deref() {
        None => None,
        Some(kind) => {
            let (provider, default_url, default_key) = match kind {
                "anthropic" => (
                    qide_agent::Provider::Anthropic,
                    "https://api.anthropic.com",
                    "ANTHROPIC_API_KEY",
                ),
                _ => (
                    qide_agent::Provider::OpenAi,
                    "https://api.openai.com/v1",
                    "OPENAI_API_KEY",
                ),
            };
            let model = args.model.clone().context("--llm needs --model")?;
            let key_env = args
                .api_key_env
                .clone()
                .unwrap_or_else(|| default_key.to_owned());
            Some(qide_agent::LlmConfig {
                provider,
                base_url: args
                    .base_url
                    .clone()
                    .unwrap_or_else(|| default_url.to_owned()),
                model,
                api_key: std::env::var(&key_env).ok(),
            })
        }
    };
    let options = qide_agent::AgentOptions {
        name: args.name.clone(),
        lease_s: args.lease,
        llm,
        ..qide_agent::AgentOptions::default()
    };
    let agent = qide_agent::Agent::new(client(&args.client)?, options);
    if args.once {
        let reports = agent.run_once().await?;
        if args.client.json {
            print_json(&reports)?;
        } else {
            for r in &reports {
                println!(
                    "build #{}: {} (confidence {:.2})",
                    r.build_id, r.analysis, r.confidence
                );
            }
            eprintln!("qide: {} builds analysed", reports.len());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let shutdown = tokio_util::sync::CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    eprintln!(
        "qide: agent {:?} following {}",
        args.name, args.client.server
    );
    agent.run(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// `qide mcp [DIR]`: MCP on stdio over the server that serves the project,
/// or over one started here when none does.
async fn mcp_command(args: McpArgs) -> anyhow::Result<ExitCode> {
    let c = client(&args.client)?;
    let Some(dir) = args
        .dir
        .or_else(|| (args.client.server == DEFAULT_SERVER).then(|| PathBuf::from(".")))
    else {
        serve_mcp(c).await?;
        return Ok(ExitCode::SUCCESS);
    };
    let root = dir
        .canonicalize()
        .with_context(|| format!("project directory {}", dir.display()))?;
    match serving_root(&c).await? {
        Some(served) if served == root => {
            eprintln!(
                "qide: MCP over the server at {} for {}",
                c.base_url(),
                root.display()
            );
            serve_mcp(c).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(served) => eprintln!(
            "qide: the server at {} serves {}, not {}; serving it here",
            c.base_url(),
            served.display(),
            root.display()
        ),
        None => eprintln!(
            "qide: no QIDE server at {}; serving {} here",
            c.base_url(),
            root.display()
        ),
    }
    let running = serve::start(ServeOptions {
        dir: root,
        bind: "127.0.0.1:0".parse()?,
        database: None,
        insecure_open: false,
        security: Default::default(),
    })
    .await
    .context("starting a server for the project")?;
    // The project's own tokens guard this server too, so the caller's
    // token (if any) goes with every call.
    let local = Client::new(&format!("http://{}", running.addr))?.with_token(args.client.token);
    eprintln!("qide: MCP over http://{}", running.addr);
    let served = serve_mcp(local).await;
    running.stop().await?;
    served?;
    Ok(ExitCode::SUCCESS)
}

/// The project directory the server behind `c` serves, or `None` when no
/// QIDE server answers there (nothing listening, or another program).
async fn serving_root(c: &Client) -> anyhow::Result<Option<PathBuf>> {
    if c.health().await.is_err() {
        return Ok(None);
    }
    match c.codebase().await {
        Ok(codebase) => Ok(Some(PathBuf::from(codebase.root))),
        Err(e) if matches!(e.status(), Some(401 | 403)) => bail!(
            "the QIDE server at {} needs a token with the read scope to tell which project it \
             serves: pass --token (or set QIDE_TOKEN), or name another server with --server",
            c.base_url()
        ),
        Err(e) => Err(e).with_context(|| {
            format!(
                "asking the QIDE server at {} which project it serves",
                c.base_url()
            )
        }),
    }
}

async fn serve_mcp(c: Client) -> anyhow::Result<()> {
    qide_mcp::QideMcp::new(c).serve_stdio().await?;
    Ok(())
}

/// `qide token …`: works on the project's store directly, so it needs no
/// running server (and no token to make the first one).
async fn token_command(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let root = args
        .dir
        .canonicalize()
        .with_context(|| format!("project directory {}", args.dir.display()))?;
    let store = serve::open_store(&root, args.database.as_deref()).await?;
    let now = qide_runner::now_ms();
    match args.command {
        TokenCommand::Create { name, scope } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.len() > 100 {
                bail!("a token name must be 1 to 100 characters");
            }
            for s in &scope {
                if !qide_server::SCOPES.contains(&s.as_str()) {
                    bail!("unknown scope {s:?}; use read, run, report or admin");
                }
            }
            let token = qide_server::new_token().context("reading random bytes for the token")?;
            let record = store
                .create_token(&name, &qide_server::token_hash(&token), &scope, now)
                .await?;
            crate::users::audit_cli(
                &store,
                "token.create",
                format!("token:{}", record.name),
                Some(record.scopes.join(",")),
            )
            .await?;
            if args.json {
                print_json(
                    &serde_json::json!({"name": record.name, "scopes": record.scopes, "token": token}),
                )?;
            } else {
                eprintln!(
                    "qide: token {:?} with scopes {} (shown only now):",
                    record.name,
                    record.scopes.join(",")
                );
                println!("{token}");
            }
        }
        TokenCommand::List => {
            let tokens = store.list_tokens().await?;
            if args.json {
                let list: Vec<_> = tokens
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "name": t.name,
                            "scopes": t.scopes,
                            "created_at": t.created_at_ms,
                            "last_used_at": t.last_used_at_ms,
                            "revoked": t.revoked_at_ms.is_some(),
                        })
                    })
                    .collect();
                print_json(&list)?;
            } else {
                println!("{:<24}  {:<24}  {:<8}  USED", "NAME", "SCOPES", "STATE");
                for t in &tokens {
                    println!(
                        "{:<24}  {:<24}  {:<8}  {}",
                        t.name,
                        t.scopes.join(","),
                        if t.revoked_at_ms.is_some() {
                            "revoked"
                        } else {
                            "active"
                        },
                        if t.last_used_at_ms.is_some() {
                            "yes"
                        } else {
                            "never"
                        }
                    );
                }
            }
        }
        TokenCommand::Revoke { name } => {
            store.revoke_token(&name, now).await?;
            crate::users::audit_cli(&store, "token.revoke", format!("token:{name}"), None).await?;
            if args.json {
                print_json(&serde_json::json!({"name": name, "revoked": true}))?;
            } else {
                eprintln!("qide: token {name:?} revoked");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a command; the exit code is the command's result.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => {
            let security = args.security()?;
            serve::serve(ServeOptions {
                dir: args.dir,
                bind: args.bind,
                database: args.database,
                insecure_open: args.insecure_open,
                security,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => run_build(args).await,
        Command::Builds(args) => {
            let status = match args.status.as_deref() {
                None => None,
                Some(s) => Some(api::BuildStatus::parse(s).with_context(|| {
                    format!("unknown status {s:?}; use queued, running, success, failed or error")
                })?),
            };
            let list = client(&args.client)?
                .builds(args.skip, args.limit, status)
                .await?;
            if args.client.json {
                print_json(&list)?;
            } else {
                print!("{}", output::builds_table(&list));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show(args) => {
            let detail = client(&args.client)?.build_detail(args.id).await?;
            if args.client.json {
                print_json(&detail)?;
            } else {
                print!("{}", output::build_detail(&detail));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Log(args) => {
            let c = client(&args.client)?;
            let mut query = LogQuery {
                from: args.from,
                limit: args.limit,
                tail: args.tail,
                grep: args.grep,
                context: args.context,
            };
            let paging = args.limit.is_none() && args.tail.is_none();
            if paging {
                query.limit = Some(5000);
            }
            let stdout = std::io::stdout();
            loop {
                let page = c.log(args.id, &query).await?;
                let mut out = stdout.lock();
                if args.client.json {
                    serde_json::to_writer(&mut out, &page)?;
                    writeln!(out)?;
                } else {
                    for line in &page.lines {
                        writeln!(out, "{}", line.text)?;
                    }
                }
                match page.next_from {
                    Some(next) if paging => query.from = Some(next),
                    _ => break,
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Patterns(args) => {
            let list = client(&args.client)?
                .patterns(
                    args.status.as_deref(),
                    args.category.as_deref(),
                    args.skip,
                    args.limit,
                )
                .await?;
            if args.client.json {
                print_json(&list)?;
            } else {
                print!("{}", output::patterns_table(&list));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            let report = client(&args.client)?
                .submit_report(&api::ReportRequest {
                    build_id: args.build_id,
                    kind: args.kind,
                    analysis: args.analysis,
                    recommendations: args.recommendations,
                    confidence: args.confidence,
                    fingerprints: args.fingerprints,
                    agent: args.agent,
                    model: args.model,
                })
                .await?;
            if args.client.json {
                print_json(&report)?;
            } else {
                println!(
                    "report #{} stored for build #{}",
                    report.id, report.build_id
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Codebase(args) => {
            let c = client(&args.client)?;
            match args.mode.as_str() {
                "pack" => {
                    let pack = c.codebase_pack(args.budget_tokens, args.build).await?;
                    if args.client.json {
                        print_json(&pack)?;
                    } else {
                        let (text, dropped) = output::pack_text(&pack, qide_server::count_tokens);
                        print!("{text}");
                        eprintln!(
                            "qide: {} files, {} tokens of {} with their headers; {} left out",
                            pack.files.len() - dropped,
                            qide_server::count_tokens(&text),
                            pack.budget_tokens,
                            pack.left_out_count + dropped as u64
                        );
                    }
                }
                "map" => {
                    let map = c.codebase_map(args.budget_tokens, args.build).await?;
                    if args.client.json {
                        print_json(&map)?;
                    } else {
                        for file in &map.files {
                            print!("{}", file.text);
                        }
                        eprintln!(
                            "qide: {} files, {} tokens of {}; {} left out",
                            map.files.len(),
                            map.tokens,
                            map.budget_tokens,
                            map.left_out_count
                        );
                        if let Some(note) = &map.note {
                            eprintln!("qide: {note}");
                        }
                    }
                }
                _ => {
                    let codebase = c.codebase().await?;
                    if args.client.json {
                        print_json(&codebase)?;
                    } else {
                        print!("{}", output::codebase_summary(&codebase));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(args) => token_command(args).await,
        Command::User(args) => crate::users::user_command(args).await,
        Command::Audit(args) => crate::users::audit_command(args).await,
        Command::Mcp(args) => mcp_command(args).await,
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut command, "qide", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Agent(args) => agent_command(args).await,
        Command::Openapi => {
            println!("{}", qide_server::document_json_pretty());
            Ok(ExitCode::SUCCESS)
        }
        Command::Init(args) => {
            let path = args.dir.join(qide_runner::CONFIG_FILE);
            if path.exists() && !args.force {
                bail!("{} exists; pass --force to overwrite it", path.display());
            }
            let text = qide_runner::render_init(&args.dir);
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            if args.json {
                print_json(&serde_json::json!({"path": path, "content": text}))?;
            } else {
                eprintln!("qide: wrote {}", path.display());
                print!("{text}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn parse_step(i: usize, text: &str) -> api::StepRequest {
    let (name, run) = match text.split_once('=') {
        Some((name, run))
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            (name.to_owned(), run.to_owned())
        }
        _ => (format!("step{}", i + 1), text.to_owned()),
    };
    api::StepRequest {
        name: Some(name),
        run,
        timeout_s: None,
        env: Default::default(),
    }
}

/// `qide run`: queue a build on the server (or, when none answers at the
/// default address, on a server started in this process), follow it, and
/// exit with its result.
async fn run_build(args: RunArgs) -> anyhow::Result<ExitCode> {
    let request = api::RunRequest {
        steps: if args.steps.is_empty() {
            None
        } else {
            Some(
                args.steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| parse_step(i, s))
                    .collect(),
            )
        },
        profile: args.profile.clone(),
        env: Default::default(),
        timeout_s: args.timeout,
        trigger: Some("cli".to_owned()),
        rerun_of: None,
    };
    let mut c = client(&args.client)?;
    let mut local = None;
    let accepted = match c.run_build(&request).await {
        Ok(accepted) => accepted,
        Err(e) if e.is_connect() && args.client.server == DEFAULT_SERVER && !args.no_follow => {
            let running = serve::start(ServeOptions {
                dir: args.dir.clone(),
                bind: "127.0.0.1:0".parse()?,
                database: None,
                insecure_open: false,
                security: Default::default(),
            })
            .await
            .context("no server at the default address, and starting one here failed")?;
            eprintln!(
                "qide: no server at {DEFAULT_SERVER}; running in {}",
                running.root.display()
            );
            c = Client::new(&format!("http://{}", running.addr))?;
            local = Some(running);
            c.run_build(&request).await?
        }
        Err(e) => return Err(e.into()),
    };
    if args.no_follow {
        if args.client.json {
            print_json(&accepted)?;
        } else {
            println!("{}", accepted.id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let result = follow(&c, accepted.id, args.client.json).await;
    // With --rerun-failed, a failed build's failed tests run again on the
    // same tree, and that decides the exit code.
    let verdict = match (&result, args.rerun_failed) {
        (Ok(build), Some(times)) if build.status == api::BuildStatus::Failed => {
            Some(crate::rerun::decide(&c, build, times, &args.dir, args.client.json).await)
        }
        _ => None,
    };
    if let Some(running) = local {
        running.stop().await?;
    }
    if let Some(verdict) = verdict {
        return verdict;
    }
    let build = result?;
    if args.client.json {
        print_json(&build)?;
    }
    Ok(match build.status {
        api::BuildStatus::Success => ExitCode::SUCCESS,
        api::BuildStatus::Failed => ExitCode::from(1),
        _ => ExitCode::from(2),
    })
}

/// Prints a build's log as it happens and returns the finished build. On a
/// terminal, a live line on stderr shows the step, the time and the log
/// lines so far; elsewhere a line per step start does.
pub(crate) async fn follow(c: &Client, id: i64, quiet: bool) -> anyhow::Result<api::Build> {
    use std::io::IsTerminal;

    let mut events = Box::pin(c.events(id, None).await?);
    let mut last_progress: Option<String> = None;
    let mut err = std::io::stderr();
    let mut live =
        (!quiet && err.is_terminal()).then(|| output::LiveLine::new(output::terminal_width()));
    let mut current: Option<api::Build> = None;
    let mut lines = 0;
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    if !quiet {
        let _ = writeln!(err, "qide: build #{id} queued on {}", c.base_url());
    }
    loop {
        let event = tokio::select! {
            event = events.next() => match event {
                Some(event) => event?,
                None => break,
            },
            _ = tick.tick(), if live.is_some() => {
                if let (Some(line), Some(build)) = (live.as_mut(), current.as_ref()) {
                    line.draw(&mut err, &output::live_text(build, started.elapsed(), lines));
                }
                continue;
            }
        };
        match event {
            api::BuildEvent::Log { lines: batch } => {
                lines = batch.last().map_or(lines, |l| l.n);
                if quiet {
                    continue;
                }
                if let Some(line) = live.as_mut() {
                    line.clear(&mut err);
                }
                let mut out = std::io::stdout().lock();
                for line in batch {
                    writeln!(out, "{}", line.text)?;
                }
                out.flush()?;
                drop(out);
                if let (Some(line), Some(build)) = (live.as_mut(), current.as_ref()) {
                    line.draw(
                        &mut err,
                        &output::live_text(build, started.elapsed(), lines),
                    );
                }
            }
            api::BuildEvent::Status { build } => {
                if let Some(line) = live.as_mut() {
                    line.draw(
                        &mut err,
                        &output::live_text(&build, started.elapsed(), lines),
                    );
                } else if !quiet
                    && let Some(line) = output::progress_line(&build)
                    && last_progress.as_ref() != Some(&line)
                {
                    let _ = writeln!(err, "{line}");
                    last_progress = Some(line);
                }
                current = Some(build);
            }
            api::BuildEvent::Done { build } => {
                if let Some(line) = live.as_mut() {
                    line.clear(&mut err);
                }
                if !quiet {
                    let _ = writeln!(err, "{}", output::finish_line(&build));
                }
                return Ok(build);
            }
        }
    }
    if let Some(line) = live.as_mut() {
        line.clear(&mut err);
    }
    // The stream ended without `done` (server restart): ask directly.
    Ok(c.build(id, Some(300)).await?)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Man-page quality: every command and every flag says what it is for.
    #[test]
    fn every_command_and_flag_has_help() {
        fn check(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if command.get_about().is_none() {
                missing.push(format!("{path}: the command"));
            }
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path}: {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" {
                    check(sub, &format!("{path} {}", sub.get_name()), missing);
                }
            }
        }
        let mut missing = Vec::new();
        check(&Cli::command(), "qide", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }
}
