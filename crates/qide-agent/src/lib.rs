//! The learning agent: it waits for failed builds (server-sent events, no
//! polling), claims each one with a lease so two agents never analyse the
//! same build, reads the failure packet, and submits a report.
//!
//! The analysis comes from, in order: a known failure whose earlier report
//! was followed by a green build (the fix is reused), rules per failure
//! kind and category ([`rules`]), or, when configured, a language model
//! ([`llm`]). Everything it learns lives on the server, so a restarted agent
//! does not analyse a build twice and several agents share what is known.

pub mod llm;
pub mod rules;

use futures_util::StreamExt;
use qide_api as api;
use qide_client::{Client, ServerEvent};
use tokio_util::sync::CancellationToken;

pub use llm::{LlmConfig, Provider};

/// What went wrong running the agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The QIDE server failed or could not be reached.
    #[error(transparent)]
    Server(#[from] qide_client::Error),
}

/// An analysis, ready to be sent as a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub analysis: String,
    pub recommendations: Vec<String>,
    /// How sure the analysis is, in [0, 1].
    pub confidence: f64,
    /// `known_fix`, `rules` or `llm`.
    pub source: &'static str,
    /// The model that wrote it, for `llm`.
    pub model: Option<String>,
}

/// How the agent works.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Its name on reports and claims.
    pub name: String,
    /// How long a claim lasts; a crashed agent's builds free up after it.
    pub lease_s: u64,
    /// How many recent failed builds to look at on start.
    pub backlog: i64,
    /// A language model for failures the rules cannot explain well.
    pub llm: Option<LlmConfig>,
}

impl Default for AgentOptions {
    fn default() -> AgentOptions {
        AgentOptions {
            name: "qide-agent".to_owned(),
            lease_s: 300,
            backlog: 50,
            llm: None,
        }
    }
}

/// The agent.
#[derive(Debug, Clone)]
pub struct Agent {
    client: Client,
    options: AgentOptions,
    http: reqwest::Client,
}

/// Builds the agent analyses: failed ones, and errors that are not about
/// the build being stopped.
fn worth_analysing(build: &api::Build) -> bool {
    match build.status {
        api::BuildStatus::Failed => true,
        api::BuildStatus::Error => !matches!(
            build.failure_kind.as_deref(),
            Some("cancelled" | "interrupted")
        ),
        _ => false,
    }
}

impl Agent {
    /// An agent talking to the server behind `client`.
    pub fn new(client: Client, options: AgentOptions) -> Agent {
        Agent {
            client,
            options,
            http: reqwest::Client::new(),
        }
    }

    /// Analyses the recent failed builds nobody has analysed yet; returns the
    /// reports it submitted.
    pub async fn run_once(&self) -> Result<Vec<api::Report>, AgentError> {
        let mut reports = Vec::new();
        let mut seen = 0;
        let mut skip = 0;
        while seen < self.options.backlog {
            let page = self.client.builds(skip, 50, None).await?;
            if page.builds.is_empty() {
                break;
            }
            for build in &page.builds {
                seen += 1;
                if worth_analysing(build)
                    && let Some(report) = self.handle(build.id).await?
                {
                    reports.push(report);
                }
            }
            skip += page.builds.len() as i64;
        }
        Ok(reports)
    }

    /// Works through the backlog, then analyses each build that fails from
    /// now on, until `shutdown`. Reconnects when the event stream drops.
    pub async fn run(&self, shutdown: CancellationToken) -> Result<(), AgentError> {
        loop {
            // Subscribe first, so a build that fails during the backlog scan
            // is not missed.
            let events = self.client.build_updates().await;
            self.run_once().await?;
            let mut events = match events {
                Ok(events) => Box::pin(events),
                Err(e) => {
                    tracing::warn!(%e, "cannot follow build events; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(std::time::Duration::from_secs(5)) => continue,
                    }
                }
            };
            loop {
                let event = tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    event = events.next() => event,
                };
                match event {
                    Some(Ok(ServerEvent::Build(build))) if worth_analysing(&build) => {
                        if let Err(e) = self.handle(build.id).await {
                            tracing::warn!(build = build.id, %e, "analysing build");
                        }
                    }
                    Some(Ok(ServerEvent::Lagged)) => {
                        self.run_once().await?;
                    }
                    Some(Ok(ServerEvent::Build(_))) => {}
                    Some(Err(e)) => {
                        tracing::warn!(%e, "build event stream broke; reconnecting");
                        break;
                    }
                    None => break,
                }
            }
        }
    }

    /// Claims a build, analyses it and reports; `None` when another agent
    /// has it or it was analysed already.
    pub async fn handle(&self, build_id: i64) -> Result<Option<api::Report>, AgentError> {
        match self
            .client
            .claim(build_id, &self.options.name, Some(self.options.lease_s))
            .await
        {
            Ok(_) => {}
            Err(qide_client::Error::Problem { problem }) if problem.status == 409 => {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        let packet = self.client.build_detail(build_id).await?;
        let analysis = self.analyse(&packet).await;
        let fingerprints = packet
            .log_summary
            .errors
            .iter()
            .filter(|d| d.root_cause)
            .map(|d| d.fingerprint.clone())
            .collect();
        let report = api::ReportRequest {
            build_id,
            kind: "failure_analysis".to_owned(),
            analysis: analysis.analysis,
            recommendations: analysis.recommendations,
            confidence: analysis.confidence.clamp(0.0, 1.0),
            fingerprints,
            agent: Some(self.options.name.clone()),
            model: analysis.model,
        };
        let stored = self.client.submit_report(&report).await?;
        tracing::info!(build = build_id, source = analysis.source, "reported");
        Ok(Some(stored))
    }

    /// The analysis of a failure packet: a known fix first, then the model
    /// (when configured and the rules are unsure), then the rules.
    pub async fn analyse(&self, packet: &api::BuildDetail) -> Analysis {
        if let Some(known) = rules::known_fix(packet) {
            return known;
        }
        let by_rules = rules::analyse(packet);
        if let Some(config) = &self.options.llm
            && by_rules.confidence < 0.7
        {
            match llm::analyse(&self.http, config, packet).await {
                Ok(analysis) => return analysis,
                Err(e) => tracing::warn!(%e, "the language model failed; using the rules"),
            }
        }
        by_rules
    }
}
