//! The OpenAPI document against the server that serves it: the document is
//! valid OpenAPI 3.1, every documented operation is routed, and real
//! answers, good and bad, match what the document says of their status,
//! media type and body.

use std::collections::{BTreeMap, BTreeSet};

use qide_api as api;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::harness::{TestApp, git_repo, spawn_app_with, step, test_limits};

/// The official schema of OpenAPI 3.1 documents (see its `$comment`).
const OAS_31_SCHEMA: &str = include_str!("data/openapi-3.1-schema.json");

/// The document, and the checks of answers against it.
struct Spec {
    document: Value,
    /// Statuses seen per `(METHOD, path template)`, to check coverage.
    seen: BTreeMap<(String, String), BTreeSet<u16>>,
}

impl Spec {
    fn new(document: Value) -> Spec {
        Spec {
            document,
            seen: BTreeMap::new(),
        }
    }

    fn operation(&self, method: &str, template: &str) -> &Value {
        let operation = &self.document["paths"][template][method.to_ascii_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not in the document"
        );
        operation
    }

    /// A validator of `schema`, whose `$ref`s point into the document's
    /// components. Formats (`date-time`) are checked too.
    fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.document["components"],
            "allOf": [schema],
        });
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"))
    }

    fn validate(&self, what: &str, schema: &Value, instance: &Value) {
        let validator = self.validator(schema);
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: the answer does not match its schema:\n{}\nanswer: {instance:#}",
            errors.join("\n")
        );
    }

    /// Checks one answer of `METHOD template`: its status is documented,
    /// its media type is the documented one, and a JSON body matches the
    /// schema documented for that status. Returns the parsed JSON body.
    fn check(
        &mut self,
        method: &str,
        template: &str,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Option<Value> {
        let what = format!("{method} {template} -> {status}");
        let response = self.operation(method, template)["responses"][status.to_string()].clone();
        assert!(response.is_object(), "{what}: the status is not documented");
        self.seen
            .entry((method.to_owned(), template.to_owned()))
            .or_default()
            .insert(status);
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let content = response["content"][&media_type].clone();
        assert!(
            content.is_object(),
            "{what}: answered {media_type:?}, documented {}",
            response["content"]
        );
        if media_type.ends_with("json") {
            let value: Value = serde_json::from_slice(body)
                .unwrap_or_else(|e| panic!("{what}: the body is not JSON: {e}"));
            self.validate(&what, &content["schema"], &value);
            if media_type == "application/problem+json" {
                assert_eq!(value["status"], status, "{what}: {value}");
            }
            Some(value)
        } else {
            None
        }
    }
}

/// The schema `path` documents for one event of its `text/event-stream`
/// (OpenAPI 3.1 has no `itemSchema`; the `schema` describes each event, as
/// schemathesis reads it).
fn stream_schema(spec: &Spec, path: &str) -> Value {
    let schema = spec.document["paths"][path]["get"]["responses"]["200"]["content"]
        ["text/event-stream"]["schema"]
        .clone();
    assert!(schema.is_object(), "{path}: no event schema");
    schema
}

/// One request and the statuses it may get.
struct Case {
    method: Method,
    /// The concrete path and query.
    uri: String,
    /// The documented path it falls under.
    template: String,
    body: Option<(&'static str, Vec<u8>)>,
    expect: &'static [u16],
}

fn get(uri: impl Into<String>, template: &str, expect: &'static [u16]) -> Case {
    Case {
        method: Method::GET,
        uri: uri.into(),
        template: template.to_owned(),
        body: None,
        expect,
    }
}

fn post(uri: impl Into<String>, template: &str, body: Value, expect: &'static [u16]) -> Case {
    Case {
        method: Method::POST,
        uri: uri.into(),
        template: template.to_owned(),
        body: Some(("application/json", body.to_string().into_bytes())),
        expect,
    }
}

fn post_raw(
    uri: impl Into<String>,
    template: &str,
    content_type: &'static str,
    body: impl Into<Vec<u8>>,
    expect: &'static [u16],
) -> Case {
    Case {
        method: Method::POST,
        uri: uri.into(),
        template: template.to_owned(),
        body: Some((content_type, body.into())),
        expect,
    }
}

async fn send(app: &TestApp, case: &Case, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .http
        .request(case.method.clone(), format!("{}{}", app.base, case.uri));
    if let Some((content_type, body)) = &case.body {
        request = request
            .header(header::CONTENT_TYPE, *content_type)
            .body(body.clone());
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request")
}

/// Sends `case` and checks the answer against the document; returns the
/// JSON body, if any.
async fn run_case(
    app: &TestApp,
    spec: &mut Spec,
    case: &Case,
    headers: &[(&str, &str)],
) -> Option<Value> {
    let response = send(app, case, headers).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await.expect("body");
    assert!(
        case.expect.contains(&status),
        "{} {}: {status} (expected {:?}): {}",
        case.method,
        case.uri,
        case.expect,
        String::from_utf8_lossy(&body)
    );
    spec.check(
        case.method.as_str(),
        &case.template,
        status,
        &content_type,
        &body,
    )
}

/// A step that fails the way rustc does, pointing into `src/lib.rs`.
const FAILING: &str = "printf 'error[E0308]: mismatched types\\n --> src/lib.rs:2:18\\n  |\\n\
2 |     let x: u64 = \"a\";\\n  |                  ^^^ expected `u64`, found `&str`\\n\\n\
error: could not compile `demo` (lib) due to 1 previous error\\n' >&2; exit 101";

/// A project under git with one green build, then two failed builds with
/// the same error (so the second has a known issue), a report on the first.
async fn app_with_history() -> (TestApp, i64, i64) {
    let app = spawn_app_with(test_limits(), |dir| {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("src/lib.rs"),
            "pub fn f() -> u64 {\n    let x: u64 = 1;\n    x\n}\n",
        )
        .unwrap();
        std::fs::write(dir.join(".env"), "API_KEY=not-for-models\n").unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("outside")).unwrap();
        git_repo(dir);
    })
    .await;
    let green = app.run(vec![step("build", "echo all good")]).await;
    assert_eq!(green.status, api::BuildStatus::Success);
    std::fs::write(
        app.path("src/lib.rs"),
        "pub fn f() -> u64 {\n    let x: u64 = \"a\";\n    x\n}\n",
    )
    .unwrap();
    let first = app.run(vec![step("build", FAILING)]).await;
    assert_eq!(first.status, api::BuildStatus::Failed);
    let detail = app.client.build_detail(first.id).await.unwrap();
    assert!(!detail.log_summary.errors.is_empty(), "{detail:?}");
    app.client
        .submit_report(&api::ReportRequest {
            build_id: first.id,
            kind: "failure_analysis".to_owned(),
            analysis: "a string where a number belongs".to_owned(),
            recommendations: vec!["parse it".to_owned()],
            confidence: 0.8,
            fingerprints: detail
                .log_summary
                .errors
                .iter()
                .map(|d| d.fingerprint.clone())
                .collect(),
            agent: Some("test".to_owned()),
            model: None,
        })
        .await
        .unwrap();
    let second = app.run(vec![step("build", FAILING)]).await;
    assert_eq!(second.status, api::BuildStatus::Failed);
    (app, green.id, second.id)
}

/// The document as served.
async fn served_document(app: &TestApp) -> Value {
    let response = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/json",
        "media type of /openapi.json"
    );
    response.json().await.unwrap()
}

/// Every `$ref` in `value`, with where it was found.
fn refs(value: &Value, at: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if key == "$ref"
                    && let Some(target) = item.as_str()
                {
                    out.push((at.clone(), target.to_owned()));
                }
                refs(item, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refs(item, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_and_every_ref_resolves() {
    let app = spawn_app_with(test_limits(), |_| {}).await;
    let document = served_document(&app).await;
    // What is served is what the crate generates (and `qide openapi` prints).
    assert_eq!(
        document,
        serde_json::to_value(qide_server::document()).unwrap()
    );
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "openapi: {version}");

    let oas: Value = serde_json::from_str(OAS_31_SCHEMA).unwrap();
    let validator = jsonschema::draft202012::new(&oas).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not OpenAPI 3.1:\n{}", errors.join("\n"));

    let mut found = Vec::new();
    refs(&document, String::new(), &mut found);
    assert!(found.len() > 50, "only {} $refs", found.len());
    for (at, target) in &found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{at}: {target} points outside the document"));
        assert!(
            document.pointer(pointer).is_some(),
            "{at}: {target} does not resolve"
        );
    }
    // Every schema in components compiles as JSON Schema 2020-12, and the
    // checks the other tests rely on do refuse what is wrong.
    let spec = Spec::new(document.clone());
    let build = spec.validator(&json!({"$ref": "#/components/schemas/Build"}));
    let good = serde_json::to_value(app.run(vec![step("ok", "true")]).await).unwrap();
    assert!(build.is_valid(&good), "{good}");
    for (field, wrong) in [
        ("id", json!("seven")),
        ("status", json!("sleeping")),
        ("created_at", json!("yesterday")),
        ("error_count", Value::Null),
    ] {
        let mut bad = good.clone();
        bad[field] = wrong;
        assert!(!build.is_valid(&bad), "{field}: {bad}");
    }
    for name in document["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
    {
        spec.validator(&json!({"$ref": format!("#/components/schemas/{name}")}));
    }
    // Operation ids are unique, for client generators.
    let mut ids = BTreeSet::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        }
    }
    // Links name operations that exist, with parameters they take.
    let mut links = 0;
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for response in operation["responses"].as_object().unwrap().values() {
                for link in response["links"].as_object().into_iter().flatten() {
                    let target = link.1["operationId"].as_str().unwrap();
                    assert!(ids.contains(target), "link to {target}");
                    links += 1;
                }
            }
        }
    }
    assert!(links >= 5, "{links} links");
    // MCP is left out on purpose, and the document says so.
    assert!(document["paths"].get("/mcp").is_none());
    assert!(
        document["info"]["description"]
            .as_str()
            .unwrap()
            .contains("/mcp")
    );
}

#[tokio::test]
async fn every_documented_operation_is_routed_with_the_scope_it_documents() {
    let app = spawn_app_with(test_limits(), |_| {}).await;
    let operations = qide_server::documented_operations();
    let document = served_document(&app).await;
    let documented: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(operations.len(), documented);
    assert!(operations.len() >= 16, "{operations:?}");

    for operation in &operations {
        // A build that does not exist: the route must answer it (404 from
        // the handler), not the fallback ("no such route").
        let path = operation.path.replace("{id}", "999999");
        let method = Method::from_bytes(operation.method.as_bytes()).unwrap();
        let mut request = app.http.request(method, format!("{}{path}", app.base));
        if operation.method == "POST" {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body("{}");
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let streams = response.headers().get(header::CONTENT_TYPE)
            == Some(&header::HeaderValue::from_static("text/event-stream"));
        if streams {
            // `GET /events` never ends; its answer started, so it is routed.
            assert_eq!(status, StatusCode::OK);
            continue;
        }
        let body = response.text().await.unwrap();
        let what = format!("{} {}", operation.method, operation.path);
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}: {body}");
        assert!(
            !body.contains("no such route"),
            "{what} fell through to the fallback: {body}"
        );

        // The scope: `/health` is the only operation open to all, and the
        // rest name the scope their method implies.
        let expected = match (operation.method.as_str(), operation.path.as_str()) {
            (_, "/health") => None,
            ("GET", "/admin/audit") => Some("admin"),
            ("GET", _) => Some("read"),
            ("POST", "/build/run" | "/build/{id}/cancel") => Some("run"),
            ("POST", "/llm/learning/report" | "/llm/learning/build/{id}/claim") => Some("report"),
            _ => Some("admin"),
        };
        assert_eq!(operation.scope.as_deref(), expected, "{what}");
    }

    // And no method is routed on a documented path without being documented.
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if item.get(method.to_ascii_lowercase()).is_some() {
                continue;
            }
            let url = format!("{}{}", app.base, path.replace("{id}", "1"));
            let response = app
                .http
                .request(Method::from_bytes(method.as_bytes()).unwrap(), url)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is routed but not documented"
            );
        }
    }
}

#[tokio::test]
async fn real_answers_match_the_document() {
    let (app, green, failed) = app_with_history().await;
    let mut spec = Spec::new(served_document(&app).await);
    let big = format!(r#"{{"analysis": "{}"}}"#, "x".repeat(2 << 20));

    let cases = vec![
        get("/health", "/health", &[200]),
        get("/metrics", "/metrics", &[200]),
        get("/openapi.json", "/openapi.json", &[200]),
        // Build history.
        get("/llm/learning/builds", "/llm/learning/builds", &[200]),
        get(
            "/llm/learning/builds?skip=1&limit=2&status=failed",
            "/llm/learning/builds",
            &[200],
        ),
        get(
            "/llm/learning/builds?limit=0",
            "/llm/learning/builds",
            &[422],
        ),
        get(
            "/llm/learning/builds?status=broken",
            "/llm/learning/builds",
            &[422],
        ),
        get(
            "/llm/learning/builds?skip=x",
            "/llm/learning/builds",
            &[422],
        ),
        get(
            "/llm/learning/builds?color=1",
            "/llm/learning/builds",
            &[422],
        ),
        // The failure packet.
        get(
            format!("/llm/learning/build/{failed}"),
            "/llm/learning/build/{id}",
            &[200],
        ),
        get(
            format!("/llm/learning/build/{green}"),
            "/llm/learning/build/{id}",
            &[200],
        ),
        get(
            format!("/llm/learning/build/{failed}?budget_tokens=300"),
            "/llm/learning/build/{id}",
            &[200],
        ),
        get(
            format!("/llm/learning/build/{failed}?budget_tokens=1"),
            "/llm/learning/build/{id}",
            &[422],
        ),
        get(
            format!("/llm/learning/build/{failed}?cursor=x"),
            "/llm/learning/build/{id}",
            &[422],
        ),
        get(
            "/llm/learning/build/999999",
            "/llm/learning/build/{id}",
            &[404],
        ),
        get(
            "/llm/learning/build/abc",
            "/llm/learning/build/{id}",
            &[404],
        ),
        // One build.
        get(format!("/build/{failed}"), "/build/{id}", &[200]),
        get(format!("/build/{failed}?wait=1"), "/build/{id}", &[200]),
        get(format!("/build/{failed}?wait=301"), "/build/{id}", &[422]),
        get("/build/999999", "/build/{id}", &[404]),
        get("/build/0", "/build/{id}", &[404]),
        // Logs.
        get(format!("/build/{failed}/log"), "/build/{id}/log", &[200]),
        get(
            format!("/build/{failed}/log?from=2&limit=2"),
            "/build/{id}/log",
            &[200],
        ),
        get(
            format!("/build/{failed}/log?tail=3"),
            "/build/{id}/log",
            &[200],
        ),
        get(
            format!("/build/{failed}/log?grep=error&context=1"),
            "/build/{id}/log",
            &[200],
        ),
        get(
            format!("/build/{failed}/log?grep=%28"),
            "/build/{id}/log",
            &[422],
        ),
        get(
            format!("/build/{failed}/log?limit=0"),
            "/build/{id}/log",
            &[422],
        ),
        get(
            format!("/build/{failed}/log?tail=3&from=1"),
            "/build/{id}/log",
            &[422],
        ),
        get("/build/999999/log", "/build/{id}/log", &[404]),
        get(
            format!("/build/{failed}/events?from=0"),
            "/build/{id}/events",
            &[422],
        ),
        get("/build/999999/events", "/build/{id}/events", &[404]),
        // Patterns.
        get("/llm/learning/patterns", "/llm/learning/patterns", &[200]),
        get(
            "/llm/learning/patterns?status=open&limit=5",
            "/llm/learning/patterns",
            &[200],
        ),
        get(
            "/llm/learning/patterns?status=maybe",
            "/llm/learning/patterns",
            &[422],
        ),
        // The audit trail.
        get("/admin/audit", "/admin/audit", &[200]),
        get("/admin/audit?skip=1&limit=2", "/admin/audit", &[200]),
        get("/admin/audit?limit=0", "/admin/audit", &[422]),
        get("/admin/audit?limit=ten", "/admin/audit", &[400, 422]),
        // The codebase.
        get("/llm/learning/codebase", "/llm/learning/codebase", &[200]),
        get(
            "/llm/learning/codebase?mode=map",
            "/llm/learning/codebase",
            &[200],
        ),
        get(
            format!("/llm/learning/codebase?mode=map&build={failed}&budget_tokens=500"),
            "/llm/learning/codebase",
            &[200],
        ),
        get(
            format!("/llm/learning/codebase?mode=pack&build={failed}&budget_tokens=500"),
            "/llm/learning/codebase",
            &[200],
        ),
        get(
            "/llm/learning/codebase?mode=everything",
            "/llm/learning/codebase",
            &[422],
        ),
        get(
            "/llm/learning/codebase?mode=pack&budget_tokens=0",
            "/llm/learning/codebase",
            &[422],
        ),
        get(
            "/llm/learning/codebase?mode=pack&build=999999",
            "/llm/learning/codebase",
            &[404],
        ),
        // Files.
        get(
            "/llm/learning/file?path=src/lib.rs&start=2&end=3",
            "/llm/learning/file",
            &[200],
        ),
        get("/llm/learning/file", "/llm/learning/file", &[422]),
        get("/llm/learning/file?path=src", "/llm/learning/file", &[422]),
        get(
            "/llm/learning/file?path=src/lib.rs&start=3&end=2",
            "/llm/learning/file",
            &[422],
        ),
        get(
            "/llm/learning/file?path=../../etc/passwd",
            "/llm/learning/file",
            &[422],
        ),
        get(
            "/llm/learning/file?path=outside/passwd",
            "/llm/learning/file",
            &[403],
        ),
        get("/llm/learning/file?path=.env", "/llm/learning/file", &[403]),
        get(
            "/llm/learning/file?path=missing.rs",
            "/llm/learning/file",
            &[404],
        ),
        // Starting builds.
        post(
            "/build/run",
            "/build/run",
            json!({"steps": [{"name": "ok", "run": "true"}], "trigger": "test"}),
            &[202],
        ),
        post("/build/run", "/build/run", json!({}), &[422]),
        post(
            "/build/run",
            "/build/run",
            json!({"steps": [{"run": "true", "timeout_s": 0}]}),
            &[422],
        ),
        post("/build/run", "/build/run", json!({"steps": []}), &[422]),
        post("/build/run", "/build/run", json!({"colour": "red"}), &[422]),
        post("/build/run", "/build/run", json!([1, 2]), &[422]),
        post_raw("/build/run", "/build/run", "application/json", "{", &[400]),
        post_raw("/build/run", "/build/run", "text/plain", "{}", &[415]),
        post_raw(
            "/build/run",
            "/build/run",
            "application/json",
            big.clone(),
            &[413],
        ),
        // Cancelling.
        post_raw(
            format!("/build/{failed}/cancel"),
            "/build/{id}/cancel",
            "application/json",
            "",
            &[409],
        ),
        post_raw(
            "/build/999999/cancel",
            "/build/{id}/cancel",
            "application/json",
            "",
            &[404],
        ),
        // Claims.
        post(
            format!("/llm/learning/build/{failed}/claim"),
            "/llm/learning/build/{id}/claim",
            json!({"agent": "one", "lease_s": 60}),
            &[200],
        ),
        post(
            format!("/llm/learning/build/{failed}/claim"),
            "/llm/learning/build/{id}/claim",
            json!({"agent": "two"}),
            &[409],
        ),
        post(
            format!("/llm/learning/build/{failed}/claim"),
            "/llm/learning/build/{id}/claim",
            json!({"agent": "one", "lease_s": 0}),
            &[422],
        ),
        post(
            format!("/llm/learning/build/{failed}/claim"),
            "/llm/learning/build/{id}/claim",
            json!({}),
            &[422],
        ),
        post(
            "/llm/learning/build/999999/claim",
            "/llm/learning/build/{id}/claim",
            json!({"agent": "one"}),
            &[404],
        ),
        // Reports.
        post(
            "/llm/learning/report",
            "/llm/learning/report",
            json!({"build_id": failed, "type": "failure_analysis", "analysis": "same again",
                   "recommendations": ["parse it"], "confidence": 0.6}),
            &[201],
        ),
        post(
            "/llm/learning/report",
            "/llm/learning/report",
            json!({"build_id": failed, "type": "failure_analysis", "analysis": "x",
                   "confidence": 2}),
            &[422],
        ),
        post(
            "/llm/learning/report",
            "/llm/learning/report",
            json!({"build_id": failed, "type": "poem", "analysis": "x", "confidence": 0.5}),
            &[422],
        ),
        post(
            "/llm/learning/report",
            "/llm/learning/report",
            json!({"build_id": 999999, "type": "other", "analysis": "x", "confidence": 0.5}),
            &[404],
        ),
        post_raw(
            "/llm/learning/report",
            "/llm/learning/report",
            "application/json",
            big,
            &[413],
        ),
    ];
    for case in &cases {
        run_case(&app, &mut spec, case, &[]).await;
    }

    // What the answers hold, beyond their shape: the packet of the second
    // failure knows the first, and the log summary points into the file.
    let packet = run_case(
        &app,
        &mut spec,
        &get(
            format!("/llm/learning/build/{failed}"),
            "/llm/learning/build/{id}",
            &[200],
        ),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(packet["log_summary"]["errors"][0]["file"], "src/lib.rs");
    assert_eq!(
        packet["known_issues"][0]["reports"][0]["type"],
        "failure_analysis"
    );
    assert_eq!(packet["suspect_changes"]["base_build"], green);

    // A running build, cancelled: 202 while it stops (200 had it still
    // been queued).
    let sleeper = app.start(vec![step("wait", "sleep 30")]).await;
    for _ in 0..100 {
        if app.client.build(sleeper, None).await.unwrap().status == api::BuildStatus::Running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let cancel = post_raw(
        format!("/build/{sleeper}/cancel"),
        "/build/{id}/cancel",
        "application/json",
        "",
        &[200, 202],
    );
    run_case(&app, &mut spec, &cancel, &[]).await;
    app.wait(sleeper).await;

    // The event stream of a finished build: every event's data is a
    // `BuildEvent`, and the stream ends with `done`.
    let response = app
        .http
        .get(format!("{}/build/{failed}/events", app.base))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    spec.check(
        "GET",
        "/build/{id}/events",
        status,
        &content_type,
        text.as_bytes(),
    );
    let build_stream = stream_schema(&spec, "/build/{id}/events");
    let event_schema = json!({"$ref": "#/components/schemas/BuildEvent"});
    let mut names = Vec::new();
    for block in text.split("\n\n").filter(|b| b.contains("data:")) {
        let name = block
            .lines()
            .find_map(|l| l.strip_prefix("event:"))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        let data: String = block
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim_start)
            .collect();
        spec.validate(
            &format!("event {name}"),
            &build_stream,
            &json!({"event": name, "data": data}),
        );
        let data: Value = serde_json::from_str(&data).unwrap();
        spec.validate(&format!("event {name} data"), &event_schema, &data);
        assert_eq!(data["event"], name.as_str());
        names.push(name);
    }
    assert_eq!(names.first().map(String::as_str), Some("status"));
    assert_eq!(names.last().map(String::as_str), Some("done"));
    assert!(names.iter().any(|n| n == "log"), "{names:?}");

    // The stream of every build: a build event's data is a `Build`.
    let mut all = app
        .http
        .get(format!("{}/events", app.base))
        .send()
        .await
        .unwrap();
    let status = all.status().as_u16();
    let content_type = all.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    spec.check("GET", "/events", status, &content_type, b"");
    app.start(vec![step("again", "true")]).await;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), all.chunk())
            .await
            .expect("an event within a minute")
            .unwrap()
            .expect("the stream goes on");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let block = text.split("\n\n").find(|b| b.contains("data:")).unwrap();
    assert!(block.contains("event: build"), "{block}");
    let data = block
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .unwrap()
        .trim();
    spec.validate(
        "GET /events event",
        &stream_schema(&spec, "/events"),
        &json!({"event": "build", "data": data}),
    );
    let data: Value = serde_json::from_str(data).unwrap();
    spec.validate(
        "GET /events data",
        &json!({"$ref": "#/components/schemas/Build"}),
        &data,
    );
    drop(all);

    // The layers' problems: a foreign Host on every operation, then, once
    // tokens exist, no token and too small a scope.
    let operations = qide_server::documented_operations();
    for operation in &operations {
        let case = Case {
            method: Method::from_bytes(operation.method.as_bytes()).unwrap(),
            uri: operation.path.replace("{id}", &failed.to_string()),
            template: operation.path.clone(),
            body: None,
            expect: &[403],
        };
        run_case(&app, &mut spec, &case, &[("host", "evil.example")]).await;
    }
    let token = qide_server::new_token().unwrap();
    app.store
        .create_token(
            "reader",
            &qide_server::token_hash(&token),
            &["read".to_owned()],
            1,
        )
        .await
        .unwrap();
    // The open/closed answer is cached for a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let bearer = format!("Bearer {token}");
    run_case(
        &app,
        &mut spec,
        &get("/llm/learning/builds", "/llm/learning/builds", &[401]),
        &[],
    )
    .await;
    run_case(
        &app,
        &mut spec,
        &post("/build/run", "/build/run", json!({}), &[403]),
        &[("authorization", &bearer)],
    )
    .await;
    run_case(&app, &mut spec, &get("/health", "/health", &[200]), &[]).await;

    // Coverage: every documented operation answered at least once with
    // success and once with a problem.
    for operation in operations {
        let seen = spec
            .seen
            .get(&(operation.method.clone(), operation.path.clone()))
            .cloned()
            .unwrap_or_default();
        let what = format!("{} {}", operation.method, operation.path);
        assert!(seen.iter().any(|s| *s < 300), "{what}: no success checked");
        assert!(seen.iter().any(|s| *s >= 400), "{what}: no problem checked");
    }
}

/// Every operation of the document is reachable from the Rust client: each
/// is called once through `qide-client` and must succeed. A new route
/// without a client call fails here.
#[tokio::test]
async fn every_documented_operation_is_reachable_from_the_rust_client() {
    use futures_util::StreamExt;

    let (app, green, failed) = app_with_history().await;
    let client = &app.client;
    let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
    let mut reach = |method: &str, path: &str| {
        reached.insert((method.to_owned(), path.to_owned()));
    };

    assert_eq!(client.health().await.unwrap().status, "ok");
    reach("GET", "/health");
    assert!(
        client
            .metrics()
            .await
            .unwrap()
            .contains("qide_http_requests_total")
    );
    reach("GET", "/metrics");
    let document = client.openapi().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    reach("GET", "/openapi.json");

    // Opened before a build starts, the global stream sees it.
    let mut updates = Box::pin(client.build_updates().await.unwrap());
    let accepted = client
        .run_build(&api::RunRequest {
            steps: Some(vec![step("slow", "sleep 30")]),
            ..Default::default()
        })
        .await
        .unwrap();
    reach("POST", "/build/run");
    let update = tokio::time::timeout(std::time::Duration::from_secs(30), updates.next())
        .await
        .expect("an update within 30 s")
        .expect("the stream stays open");
    assert!(update.is_ok(), "{update:?}");
    reach("GET", "/events");
    let cancelled = client.cancel(accepted.id).await.unwrap();
    assert_eq!(cancelled.id, accepted.id);
    reach("POST", "/build/{id}/cancel");

    assert_eq!(client.build(green, None).await.unwrap().id, green);
    reach("GET", "/build/{id}");
    let log = client
        .log(green, &qide_client::LogQuery::default())
        .await
        .unwrap();
    assert!(!log.lines.is_empty());
    reach("GET", "/build/{id}/log");
    let events: Vec<_> = client.events(green, None).await.unwrap().collect().await;
    assert!(
        events.iter().all(Result::is_ok) && !events.is_empty(),
        "{events:?}"
    );
    reach("GET", "/build/{id}/events");

    assert!(client.builds(0, 10, None).await.unwrap().total >= 3);
    reach("GET", "/llm/learning/builds");
    let detail = client.build_detail(failed).await.unwrap();
    assert!(!detail.log_summary.errors.is_empty());
    reach("GET", "/llm/learning/build/{id}");
    assert!(!client.codebase().await.unwrap().files.is_empty());
    reach("GET", "/llm/learning/codebase");
    let report = client
        .submit_report(&api::ReportRequest {
            build_id: failed,
            kind: "other".to_owned(),
            analysis: "reached from the Rust client".to_owned(),
            recommendations: vec![],
            confidence: 0.5,
            fingerprints: vec![],
            agent: None,
            model: None,
        })
        .await
        .unwrap();
    assert_eq!(report.build_id, failed);
    reach("POST", "/llm/learning/report");
    client.patterns(None, None, 0, 10).await.unwrap();
    reach("GET", "/llm/learning/patterns");
    let claim = client.claim(green, "coverage", None).await.unwrap();
    assert_eq!(claim.build_id, green);
    reach("POST", "/llm/learning/build/{id}/claim");
    let file = client.file("src/lib.rs", None, None).await.unwrap();
    assert!(file.lines.iter().any(|l| l.text.contains("pub fn f")));
    reach("GET", "/llm/learning/file");
    let trail = client.audit(0, 50).await.unwrap();
    assert!(
        trail.events.iter().any(|e| e.action == "report.create"),
        "{trail:?}"
    );
    reach("GET", "/admin/audit");

    let documented: BTreeSet<(String, String)> = qide_server::documented_operations()
        .into_iter()
        .map(|op| (op.method, op.path))
        .collect();
    let missing: Vec<_> = documented.difference(&reached).collect();
    assert!(missing.is_empty(), "no client call reaches {missing:?}");
}
