//! A typed async client for the QIDE HTTP API.
//!
//! Every endpoint is a method taking and returning `qide-api` types; an error
//! answer becomes [`Error::Problem`] carrying the server's problem details.
//! Idempotent calls are retried on connection failures.

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use qide_api as api;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The server a client talks to when none is named (the seed's default).
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8000";

/// What can go wrong calling the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error (problem+json).
    #[error("{} ({}): {}", .problem.title, .problem.status, .problem.detail)]
    Problem { problem: Box<api::Problem> },
    /// The server could not be reached or the connection broke.
    #[error("cannot reach the QIDE server at {url}: {source}")]
    Connect { url: String, source: reqwest::Error },
    /// The server answered something that is not the expected JSON.
    #[error("unexpected answer from the server ({status}): {detail}")]
    Unexpected { status: u16, detail: String },
    /// The base URL is not valid.
    #[error("invalid server URL {0:?}")]
    InvalidUrl(String),
    /// Certificates to trust could not be used.
    #[error("cannot use the CA certificates: {0}")]
    Certificate(String),
}

impl Error {
    /// The HTTP status of a problem answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Problem { problem } => Some(problem.status),
            Error::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when the server was not reachable at all.
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Connect { .. })
    }
}

/// The HTTP client under a [`Client`]: HTTP and HTTPS (rustls, the
/// system's roots plus `extra_roots`).
fn http_client(
    base: &str,
    extra_roots: Vec<reqwest::Certificate>,
) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .tls_certs_merge(extra_roots)
        .build()
        .map_err(|e| Error::Connect {
            url: base.to_owned(),
            source: e,
        })
}

/// An error and its causes on one line: reqwest's own message alone
/// ("error sending request") hides why, e.g. an untrusted certificate.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// Query of [`Client::log`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tail: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grep: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<i64>,
}

/// A QIDE server.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    session: Option<String>,
}

impl Client {
    /// A client for the server at `base_url` (`http://host:port`).
    pub fn new(base_url: &str) -> Result<Client, Error> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::InvalidUrl(base_url.to_owned()));
        }
        let http = http_client(&base, Vec::new())?;
        Ok(Client {
            base,
            http,
            token: None,
            session: None,
        })
    }

    /// Trusts the certificates of a PEM bundle besides the system's roots,
    /// for a server whose certificate is self-signed or from a private CA
    /// (`qide serve --tls-cert`).
    pub fn with_ca_certificates(mut self, pem: &[u8]) -> Result<Client, Error> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::Certificate(error_chain(&e)))?;
        if certs.is_empty() {
            return Err(Error::Certificate(
                "no PEM certificate in the bundle".to_owned(),
            ));
        }
        self.http = http_client(&self.base, certs)?;
        Ok(self)
    }

    /// Sends `Authorization: Bearer TOKEN` with every request.
    pub fn with_token(mut self, token: Option<String>) -> Client {
        self.token = token;
        self
    }

    /// Sends `X-Session-Id: ID` with every request: a dashboard session
    /// (`POST /login`), the seed's `session_id`.
    pub fn with_session(mut self, session_id: Option<String>) -> Client {
        self.session = session_id;
        self
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(session) = &self.session {
            req = req.header("x-session-id", session);
        }
        req
    }

    async fn send<T: DeserializeOwned>(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        idempotent: bool,
    ) -> Result<(StatusCode, T), Error> {
        let attempts = if idempotent { 3 } else { 1 };
        let mut delay = Duration::from_millis(200);
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            match build().send().await {
                Ok(response) => break response,
                Err(e) if attempt < attempts && (e.is_connect() || e.is_request()) => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => {
                    return Err(Error::Connect {
                        url: self.base.clone(),
                        source: e,
                    });
                }
            }
        };
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| Error::Connect {
            url: self.base.clone(),
            source: e,
        })?;
        if !status.is_success() {
            return Err(error_answer(status, &bytes));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| Error::Unexpected {
            status: status.as_u16(),
            detail: format!("cannot decode the answer: {e}"),
        })?;
        Ok((status, value))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, timeout: Duration) -> Result<T, Error> {
        self.send(|| self.request(Method::GET, path).timeout(timeout), true)
            .await
            .map(|(_, v)| v)
    }

    /// `GET /health`.
    pub async fn health(&self) -> Result<api::Health, Error> {
        self.get("/health", Duration::from_secs(10)).await
    }

    /// `GET /metrics`: the server's counters in Prometheus' text format.
    pub async fn metrics(&self) -> Result<String, Error> {
        let connect = |source| Error::Connect {
            url: self.base.clone(),
            source,
        };
        let response = self
            .request(Method::GET, "/metrics")
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(connect)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(connect)?;
        if !status.is_success() {
            return Err(error_answer(status, &bytes));
        }
        String::from_utf8(bytes.to_vec()).map_err(|e| Error::Unexpected {
            status: status.as_u16(),
            detail: format!("the metrics are not UTF-8: {e}"),
        })
    }

    /// `GET /openapi.json`: the OpenAPI 3.1 document of the server's API.
    pub async fn openapi(&self) -> Result<serde_json::Value, Error> {
        self.get("/openapi.json", Duration::from_secs(10)).await
    }

    /// `GET /admin/audit`: who did what and when, newest first (admin scope).
    pub async fn audit(&self, skip: i64, limit: i64) -> Result<api::AuditList, Error> {
        self.get(
            &format!("/admin/audit?skip={skip}&limit={limit}"),
            Duration::from_secs(30),
        )
        .await
    }

    /// `POST /build/run`: queue a build.
    pub async fn run_build(&self, request: &api::RunRequest) -> Result<api::RunAccepted, Error> {
        self.send(
            || {
                self.request(Method::POST, "/build/run")
                    .timeout(Duration::from_secs(30))
                    .json(request)
            },
            false,
        )
        .await
        .map(|(_, v)| v)
    }

    /// `GET /build/{id}`, waiting up to `wait_s` seconds for it to finish.
    pub async fn build(&self, id: i64, wait_s: Option<u64>) -> Result<api::Build, Error> {
        let path = match wait_s {
            Some(w) => format!("/build/{id}?wait={w}"),
            None => format!("/build/{id}"),
        };
        self.get(&path, Duration::from_secs(wait_s.unwrap_or(0) + 30))
            .await
    }

    /// `POST /build/{id}/cancel`.
    pub async fn cancel(&self, id: i64) -> Result<api::Build, Error> {
        let path = format!("/build/{id}/cancel");
        self.send(
            || {
                self.request(Method::POST, &path)
                    .timeout(Duration::from_secs(30))
            },
            true,
        )
        .await
        .map(|(_, v)| v)
    }

    /// `GET /llm/learning/builds`.
    pub async fn builds(
        &self,
        skip: i64,
        limit: i64,
        status: Option<api::BuildStatus>,
    ) -> Result<api::BuildList, Error> {
        let mut path = format!("/llm/learning/builds?skip={skip}&limit={limit}");
        if let Some(s) = status {
            path.push_str("&status=");
            path.push_str(s.as_str());
        }
        self.get(&path, Duration::from_secs(30)).await
    }

    /// `GET /llm/learning/build/{id}`: the failure packet.
    pub async fn build_detail(&self, id: i64) -> Result<api::BuildDetail, Error> {
        self.get(
            &format!("/llm/learning/build/{id}"),
            Duration::from_secs(30),
        )
        .await
    }

    /// `GET /llm/learning/build/{id}?budget_tokens=N&cursor=C`: the failure
    /// packet fitted by the server to `budget_tokens`; `cursor` (a
    /// `next_cursor` of an earlier answer) pages on through the diagnostics.
    pub async fn build_detail_budgeted(
        &self,
        id: i64,
        budget_tokens: u64,
        cursor: Option<&str>,
    ) -> Result<api::BuildDetail, Error> {
        #[derive(Serialize)]
        struct DetailQuery<'a> {
            budget_tokens: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            cursor: Option<&'a str>,
        }
        let path = format!("/llm/learning/build/{id}");
        let query = DetailQuery {
            budget_tokens,
            cursor,
        };
        self.send(
            || {
                self.request(Method::GET, &path)
                    .timeout(Duration::from_secs(30))
                    .query(&query)
            },
            true,
        )
        .await
        .map(|(_, v)| v)
    }

    /// `GET /build/{id}/log`.
    pub async fn log(&self, id: i64, query: &LogQuery) -> Result<api::LogPage, Error> {
        let path = format!("/build/{id}/log");
        self.send(
            || {
                self.request(Method::GET, &path)
                    .timeout(Duration::from_secs(30))
                    .query(query)
            },
            true,
        )
        .await
        .map(|(_, v)| v)
    }

    /// `GET /llm/learning/codebase`.
    pub async fn codebase(&self) -> Result<api::Codebase, Error> {
        self.get("/llm/learning/codebase", Duration::from_secs(60))
            .await
    }

    /// `GET /llm/learning/codebase?mode=pack`: file contents within
    /// `budget_tokens`, centred on `build`'s failing files when given.
    pub async fn codebase_pack(
        &self,
        budget_tokens: Option<u64>,
        build: Option<i64>,
    ) -> Result<api::CodebasePack, Error> {
        self.codebase_mode("pack", budget_tokens, build).await
    }

    /// `GET /llm/learning/codebase?mode=map`: ranked definitions within
    /// `budget_tokens`, centred on `build`'s failing files when given.
    pub async fn codebase_map(
        &self,
        budget_tokens: Option<u64>,
        build: Option<i64>,
    ) -> Result<api::CodebaseMap, Error> {
        self.codebase_mode("map", budget_tokens, build).await
    }

    async fn codebase_mode<T: DeserializeOwned>(
        &self,
        mode: &str,
        budget_tokens: Option<u64>,
        build: Option<i64>,
    ) -> Result<T, Error> {
        let mut path = format!("/llm/learning/codebase?mode={mode}");
        if let Some(b) = budget_tokens {
            path.push_str(&format!("&budget_tokens={b}"));
        }
        if let Some(id) = build {
            path.push_str(&format!("&build={id}"));
        }
        self.get(&path, Duration::from_secs(60)).await
    }

    /// `GET /llm/learning/file?path=&start=&end=`: lines of one project
    /// file, numbered from 1.
    pub async fn file(
        &self,
        path: &str,
        start: Option<u64>,
        end: Option<u64>,
    ) -> Result<api::FileText, Error> {
        #[derive(Serialize)]
        struct FileQuery<'a> {
            path: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            start: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            end: Option<u64>,
        }
        let query = FileQuery { path, start, end };
        self.send(
            || {
                self.request(Method::GET, "/llm/learning/file")
                    .timeout(Duration::from_secs(30))
                    .query(&query)
            },
            true,
        )
        .await
        .map(|(_, v)| v)
    }

    /// `GET /llm/learning/patterns`: failures tracked across builds.
    pub async fn patterns(
        &self,
        status: Option<&str>,
        category: Option<&str>,
        skip: i64,
        limit: i64,
    ) -> Result<api::PatternList, Error> {
        #[derive(Serialize)]
        struct PatternQuery<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            status: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            category: Option<&'a str>,
            skip: i64,
            limit: i64,
        }
        let query = PatternQuery {
            status,
            category,
            skip,
            limit,
        };
        self.send(
            || {
                self.request(Method::GET, "/llm/learning/patterns")
                    .timeout(Duration::from_secs(30))
                    .query(&query)
            },
            true,
        )
        .await
        .map(|(_, v)| v)
    }

    /// `POST /llm/learning/report`.
    pub async fn submit_report(&self, report: &api::ReportRequest) -> Result<api::Report, Error> {
        self.send(
            || {
                self.request(Method::POST, "/llm/learning/report")
                    .timeout(Duration::from_secs(30))
                    .json(report)
            },
            false,
        )
        .await
        .map(|(_, v)| v)
    }

    /// `GET /events`: every build's state changes, as they happen.
    pub async fn build_updates(
        &self,
    ) -> Result<impl Stream<Item = Result<ServerEvent, Error>> + use<>, Error> {
        let response = self.open_stream("/events").await?;
        Ok(
            sse_pairs(response, self.base.clone()).filter_map(|pair| async move {
                match pair {
                    Err(e) => Some(Err(e)),
                    Ok((name, _)) if name == "lagged" => Some(Ok(ServerEvent::Lagged)),
                    Ok((name, data)) if name == "build" => {
                        Some(event_data(&data).map(ServerEvent::Build))
                    }
                    Ok(_) => None,
                }
            }),
        )
    }

    /// `POST /llm/learning/build/{id}/claim`: a lease on a build before
    /// analysing it; a 409 problem when another agent has it.
    pub async fn claim(
        &self,
        id: i64,
        agent: &str,
        lease_s: Option<u64>,
    ) -> Result<api::Claim, Error> {
        let path = format!("/llm/learning/build/{id}/claim");
        let body = api::ClaimRequest {
            agent: agent.to_owned(),
            lease_s,
        };
        self.send(
            || {
                self.request(Method::POST, &path)
                    .timeout(Duration::from_secs(30))
                    .json(&body)
            },
            false,
        )
        .await
        .map(|(_, v)| v)
    }

    /// `GET /build/{id}/events`: the build's events until `done`.
    pub async fn events(
        &self,
        id: i64,
        from: Option<i64>,
    ) -> Result<impl Stream<Item = Result<api::BuildEvent, Error>> + use<>, Error> {
        let mut path = format!("/build/{id}/events");
        if let Some(from) = from {
            path.push_str(&format!("?from={from}"));
        }
        let response = self.open_stream(&path).await?;
        let events = sse_pairs(response, self.base.clone())
            .map(|pair| pair.and_then(|(_, data)| event_data::<api::BuildEvent>(&data)));
        // Nothing follows `done`; an error also ends the stream.
        Ok(events.scan(false, |over, event| {
            let item = (!*over).then(|| {
                *over = matches!(event, Ok(api::BuildEvent::Done { .. }) | Err(_));
                event
            });
            std::future::ready(item)
        }))
    }

    /// Opens a server-sent event stream; an error answer becomes an error.
    async fn open_stream(&self, path: &str) -> Result<reqwest::Response, Error> {
        let response = self
            .request(Method::GET, path)
            .header("accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| Error::Connect {
                url: self.base.clone(),
                source: e,
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let bytes = response.bytes().await.unwrap_or_default();
        Err(error_answer(status, &bytes))
    }
}

/// The error an unsuccessful answer carries: its problem details, or its
/// text when it has none.
fn error_answer(status: StatusCode, body: &[u8]) -> Error {
    match serde_json::from_slice::<api::Problem>(body) {
        Ok(problem) => Error::Problem {
            problem: Box::new(problem),
        },
        Err(_) => Error::Unexpected {
            status: status.as_u16(),
            detail: String::from_utf8_lossy(body).chars().take(500).collect(),
        },
    }
}

/// An event's JSON data.
fn event_data<T: DeserializeOwned>(data: &str) -> Result<T, Error> {
    serde_json::from_str(data).map_err(|e| Error::Unexpected {
        status: 200,
        detail: format!("bad event data: {e}"),
    })
}

/// An event of `GET /events`.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// A build changed state.
    Build(Box<api::Build>),
    /// The server dropped events for this client; rescan what matters.
    Lagged,
}

/// The raw `(event, data)` pairs of a server-sent event stream.
fn sse_pairs(
    response: reqwest::Response,
    base: String,
) -> impl Stream<Item = Result<(String, String), Error>> {
    let state = (response.bytes_stream(), Vec::<u8>::new(), false, base);
    futures_util::stream::unfold(state, |(mut bytes, mut buf, done, base)| async move {
        if done {
            return None;
        }
        loop {
            if let Some((text_len, total)) = find_event_end(&buf) {
                let raw: Vec<u8> = buf.drain(..total).collect();
                let Some(pair) = parse_sse(&raw[..text_len]) else {
                    continue;
                };
                return Some((Ok(pair), (bytes, buf, false, base)));
            }
            match bytes.next().await {
                Some(Ok(more)) => buf.extend_from_slice(&more),
                Some(Err(e)) => {
                    let error = Error::Connect {
                        url: base.clone(),
                        source: e,
                    };
                    return Some((Err(error), (bytes, buf, true, base)));
                }
                None => return None,
            }
        }
    })
}

/// The end of the first complete event in `buf`: (length of its text,
/// length including the blank line).
fn find_event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| (p, p + 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, p + 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// One SSE event's text as `(event name, data)`; `None` for comments and
/// keep-alives, which carry no data.
fn parse_sse(raw: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let mut name = String::from("message");
    let mut data = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("event:") {
            name = rest.trim().to_owned();
        } else if let Some(rest) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        }
    }
    (!data.is_empty()).then_some((name, data))
}

/// One SSE event's text into a build event; `None` for comments and
/// keep-alives.
#[cfg(test)]
fn parse_event(raw: &[u8]) -> Option<Result<api::BuildEvent, Error>> {
    parse_sse(raw).map(|(_, data)| event_data(&data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sse_events_and_skips_keepalives() {
        let buf = b":\n\nevent: log\ndata: {\"event\":\"log\",\"lines\":[]}\n\n";
        let (text, total) = find_event_end(buf).unwrap();
        assert!(parse_event(&buf[..text]).is_none());
        let rest = &buf[total..];
        let (text, _) = find_event_end(rest).unwrap();
        let event = parse_event(&rest[..text]).unwrap().unwrap();
        assert_eq!(event, api::BuildEvent::Log { lines: vec![] });
    }
}
