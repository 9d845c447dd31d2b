//! The OpenAPI 3.1 document served at `GET /openapi.json`.
//!
//! Nothing here lists routes. The operations come from the router itself:
//! `routes::operations` builds the same `OpenApiRouter`s the server serves,
//! each handler registered through its own `#[utoipa::path]` annotation,
//! and takes their document. The schemas come from the `qide-api` types the
//! handlers return (`ToSchema`). So a route cannot be served undocumented,
//! and a documented route cannot be missing from the router.
//!
//! What this module adds is the frame (title, tags, the bearer scheme) and
//! the problems the layers around the handlers can answer, whatever the
//! handler: the host guard (403), the token check (401, 403, 503), the body
//! extractor (400, 413, 415, 422) and the query extractor (422). The request
//! timeout's 408 is added by `routes::operations`, which knows which routes
//! run under it.
//!
//! `/mcp` (MCP over streamable HTTP) is deliberately not described: it speaks
//! JSON-RPC as the MCP specification defines it, one URL for every tool, and
//! an OpenAPI operation would say nothing true about it beyond its path. The
//! document's description points there instead.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use qide_api as api;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// The media type of every error answer (RFC 9457).
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// The document's frame: what the API is, its tags, the bearer scheme. The
/// operations are merged in by [`document`].
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "QIDE",
        description = "Build intelligence for coding agents: run a project's builds and tests, \
read their history, get failures as structured diagnostics fitted to a token budget, and \
send analyses back.\n\n\
Errors are `application/problem+json` (RFC 9457) with a stable `code` field. Field names \
are snake_case, times RFC 3339 UTC, build ids positive integers that only grow.\n\n\
Authentication: once any token exists (`qide token create`), every operation but \
`GET /health` needs `Authorization: Bearer TOKEN` with the scope its `security` names \
(`read`, `run`, `report`; `admin` holds all). With no token a loopback server is open.\n\n\
Not described here: MCP at `/mcp` (streamable HTTP, JSON-RPC as the Model Context \
Protocol defines it; present when the server knows its own URL)."
    ),
    tags(
        (name = "builds", description = "Start, read, wait for and cancel builds"),
        (name = "logs", description = "Build logs: pages, tail, grep, server-sent events"),
        (name = "learning", description = "The seed's endpoints for models: build history, \
the failure packet, failure patterns, reports, claims"),
        (name = "codebase", description = "The project as a model sees it: summary, map, \
pack, files"),
        (name = "ops", description = "Health, metrics and this document"),
        (name = "admin", description = "The audit trail, for admins"),
    ),
    components(schemas(api::Problem, api::BuildEvent)),
    modifiers(&BearerScheme),
)]
struct Frame;

/// Adds the `bearer` security scheme every operation's `security` names.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "A token from `qide token create`. The scopes listed with each operation are \
             the token scopes it needs: `read`, `run`, `report`, or `admin` for all."
                .to_owned(),
        );
        components
            .security_schemes
            .insert("bearer".to_owned(), RefOr::T(SecurityScheme::Http(http)));
    }
}

static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(|| {
    let mut document = <Frame as utoipa::OpenApi>::openapi();
    document.merge(crate::routes::operations());
    for_each_operation(&mut document, add_layer_problems);
    document
});

static DOCUMENT_JSON: LazyLock<Bytes> = LazyLock::new(|| {
    // Serialising a document of plain maps, strings and numbers cannot fail.
    Bytes::from(serde_json::to_vec(&*DOCUMENT).expect("the OpenAPI document serialises"))
});

/// The OpenAPI 3.1 document of this server's API, as `GET /openapi.json`
/// serves it.
pub fn document() -> OpenApi {
    DOCUMENT.clone()
}

/// [`document`] as indented JSON, for `qide openapi` and client generators.
pub fn document_json_pretty() -> String {
    // As above: the document is plain data.
    serde_json::to_string_pretty(&*DOCUMENT).expect("the OpenAPI document serialises")
}

/// One operation of the document and the token scope it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentedOperation {
    /// The HTTP method, upper case (`GET`, `POST`).
    pub method: String,
    /// The path template, with `{name}` for path parameters.
    pub path: String,
    /// The scope its `security` names; `None` for an operation open to all.
    pub scope: Option<String>,
}

/// Every operation of [`document`] with its scope: what a test needs to walk
/// the API with each token.
pub fn documented_operations() -> Vec<DocumentedOperation> {
    let value = serde_json::to_value(&*DOCUMENT).unwrap_or_default();
    let mut operations = Vec::new();
    let Some(paths) = value.get("paths").and_then(|p| p.as_object()) else {
        return operations;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            // `security: [{"bearer": ["run"]}]`: one requirement, one scope.
            let scope = operation
                .get("security")
                .and_then(|s| s.as_array())
                .and_then(|s| s.first())
                .and_then(|requirement| requirement.get("bearer"))
                .and_then(|scopes| scopes.as_array())
                .and_then(|scopes| scopes.first())
                .and_then(|scope| scope.as_str())
                .map(str::to_owned);
            operations.push(DocumentedOperation {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                scope,
            });
        }
    }
    operations
}

/// Calls `f` with each operation of `document`, its method and its path.
pub(crate) fn for_each_operation(
    document: &mut OpenApi,
    mut f: impl FnMut(&str, &str, &mut Operation),
) {
    for (path, item) in document.paths.paths.iter_mut() {
        let methods = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("OPTIONS", &mut item.options),
            ("HEAD", &mut item.head),
            ("PATCH", &mut item.patch),
            ("TRACE", &mut item.trace),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                f(method, path, operation);
            }
        }
    }
}

/// Documents a problem answer on `operation`: a new response for `status`,
/// or, when the handler already documents one, `description` appended to
/// it (both can happen: a 403 `secret_file` from the handler, a 403
/// `host_not_allowed` from the host guard).
pub(crate) fn add_problem(operation: &mut Operation, status: u16, description: &str) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut(&status.to_string()) {
        Some(RefOr::T(response)) => {
            if !response.description.contains(description) {
                response.description = format!("{} {description}", response.description);
            }
            response
                .content
                .entry(PROBLEM_JSON.to_owned())
                .or_insert_with(problem_content);
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let mut response = Response::new(description);
            response
                .content
                .insert(PROBLEM_JSON.to_owned(), problem_content());
            responses.insert(status.to_string(), RefOr::T(response));
        }
    }
}

fn problem_content() -> RefOr<Content> {
    RefOr::T(Content::new(Some(Ref::from_schema_name("Problem"))))
}

/// The problems the layers around every handler can answer (see the module
/// documentation), added where the operation's shape says they apply.
fn add_layer_problems(method: &str, _path: &str, operation: &mut Operation) {
    add_problem(
        operation,
        403,
        "`host_not_allowed`: a loopback server answers only `localhost` and IP literals \
         in `Host`.",
    );
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    if secured {
        add_problem(
            operation,
            401,
            "`unauthorized`: tokens exist and none (or a revoked or malformed one) was sent.",
        );
        add_problem(
            operation,
            403,
            "`insufficient_scope`: the token lacks the scope this operation needs.",
        );
        if method != "GET" && method != "HEAD" {
            add_problem(
                operation,
                403,
                "`cross_site_request`: a browser sent it from another site.",
            );
        }
        add_problem(
            operation,
            503,
            "`unavailable`: the database did not answer; retry shortly.",
        );
    }
    if operation.request_body.is_some() {
        add_problem(
            operation,
            400,
            "`malformed_json` or `unreadable_body`: the body is not JSON.",
        );
        add_problem(
            operation,
            413,
            "`body_too_large`: the body is over the limit (1 MiB).",
        );
        add_problem(
            operation,
            415,
            "`unsupported_media_type`: the body was not sent as `application/json`.",
        );
        add_problem(
            operation,
            422,
            "`invalid_field`: a field is missing, unknown or of the wrong type; `field` \
             names it.",
        );
    }
    let has_query = operation.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == ParameterIn::Query,
        RefOr::Ref(_) => false,
    });
    if has_query {
        add_problem(
            operation,
            422,
            "`invalid_field`: a query parameter is unknown, of the wrong type or out of \
             range; `field` names it.",
        );
    }
}

/// `GET /openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "ops",
    summary = "This document",
    description = "The OpenAPI 3.1 document of this API, generated from the server's \
                   handlers and wire types.",
    security(("bearer" = ["read"])),
    responses(
        (status = 200, description = "The OpenAPI document.", content_type = "application/json",
         body = Object),
    )
)]
pub(crate) async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT_JSON.clone(),
    )
}
