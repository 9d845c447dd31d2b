//! `qide user …` and `qide audit`: dashboard users and the audit trail,
//! worked on in the project's store directly (like `qide token`), so they
//! need no running server and no token.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use qide_store::{NewAudit, Store};

use crate::cli::{AuditArgs, UserArgs, UserCommand};
use crate::serve;

/// Shortest password accepted.
const MIN_PASSWORD: usize = 8;

/// Records a change made from the command line in the audit trail.
pub(crate) async fn audit_cli(
    store: &dyn Store,
    action: &str,
    target: String,
    detail: Option<String>,
) -> anyhow::Result<()> {
    store
        .add_audit(&NewAudit {
            at_ms: qide_runner::now_ms(),
            actor: "cli".to_owned(),
            action: action.to_owned(),
            target: Some(target),
            detail,
            remote: None,
        })
        .await
        .context("recording the change in the audit trail")?;
    Ok(())
}

fn check_scopes(scopes: &[String]) -> anyhow::Result<()> {
    for s in scopes {
        if !qide_server::SCOPES.contains(&s.as_str()) {
            bail!("unknown scope {s:?}; use read, run, report or admin");
        }
    }
    Ok(())
}

/// The new user's password: the first line of stdin, or typed twice at a
/// prompt that does not echo.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let again = rpassword::prompt_password("Again: ").context("reading the password")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    };
    if password.chars().count() < MIN_PASSWORD {
        bail!("a password must be at least {MIN_PASSWORD} characters");
    }
    Ok(password)
}

/// `qide user add|list|remove`.
pub(crate) async fn user_command(args: UserArgs) -> anyhow::Result<ExitCode> {
    let root = args
        .dir
        .canonicalize()
        .with_context(|| format!("project directory {}", args.dir.display()))?;
    let store = serve::open_store(&root, args.database.as_deref()).await?;
    match args.command {
        UserCommand::Add {
            name,
            scope,
            password_stdin,
        } => {
            let name = name.trim().to_owned();
            if name.is_empty()
                || name.len() > 100
                || name.chars().any(|c| c.is_control() || c == ',')
            {
                bail!(
                    "a user name must be 1 to 100 characters, without commas or control characters"
                );
            }
            check_scopes(&scope)?;
            if store.get_user(&name).await?.is_some() {
                bail!("a user named {name:?} exists; remove it first to change it");
            }
            let password = read_password(password_stdin)?;
            let hash = tokio::task::spawn_blocking(move || qide_server::hash_password(&password))
                .await
                .context("hashing the password")?
                .map_err(anyhow::Error::msg)?;
            let user = store
                .create_user(&name, &hash, &scope, qide_runner::now_ms())
                .await?;
            audit_cli(
                &store,
                "user.add",
                format!("user:{}", user.name),
                Some(user.scopes.join(",")),
            )
            .await?;
            if args.json {
                print_json(&serde_json::json!({"name": user.name, "scopes": user.scopes}))?;
            } else {
                eprintln!(
                    "qide: user {:?} added with scopes {}; they sign in at /login",
                    user.name,
                    user.scopes.join(",")
                );
            }
        }
        UserCommand::List => {
            let users = store.list_users().await?;
            if args.json {
                let list: Vec<_> = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "name": u.name,
                            "scopes": u.scopes,
                            "created_at": u.created_at_ms,
                        })
                    })
                    .collect();
                print_json(&list)?;
            } else {
                println!("{:<24}  SCOPES", "NAME");
                for u in &users {
                    println!("{:<24}  {}", u.name, u.scopes.join(","));
                }
            }
        }
        UserCommand::Remove { name } => {
            store.remove_user(&name).await?;
            audit_cli(&store, "user.remove", format!("user:{name}"), None).await?;
            eprintln!("qide: user {name:?} removed; their sessions ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `qide audit`: the trail, newest first.
pub(crate) async fn audit_command(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let root = args
        .dir
        .canonicalize()
        .with_context(|| format!("project directory {}", args.dir.display()))?;
    let store = serve::open_store(&root, args.database.as_deref()).await?;
    let (events, total) = store.list_audit(args.skip, args.limit).await?;
    if args.json {
        let list: Vec<_> = events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id,
                    "at_ms": e.at_ms,
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "detail": e.detail,
                    "remote": e.remote,
                })
            })
            .collect();
        print_json(&serde_json::json!({"events": list, "total": total}))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<20}  {:<16}  {:<22}  {:<14}  DETAIL",
        "WHEN (UTC)", "WHO", "WHAT", "TARGET"
    )?;
    for e in &events {
        writeln!(
            out,
            "{:<20}  {:<16}  {:<22}  {:<14}  {}{}",
            utc(e.at_ms),
            e.actor,
            e.action,
            e.target.as_deref().unwrap_or("-"),
            e.detail.as_deref().unwrap_or(""),
            e.remote
                .as_deref()
                .map(|r| format!(" from {r}"))
                .unwrap_or_default()
        )?;
    }
    eprintln!("qide: {} of {total} events", events.len());
    Ok(ExitCode::SUCCESS)
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS`.
fn utc(ms: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    let text = humantime::format_rfc3339_seconds(time).to_string();
    text.trim_end_matches('Z').replace('T', " ")
}

fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}
