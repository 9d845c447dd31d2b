//! The dashboard over HTTP: pages render real builds, everything from logs
//! and reports is escaped, forms need their CSRF token, the log viewer
//! pages, bad parameters are problems. (`browser.rs` drives the same pages
//! in Chromium.)

use qide_api as api;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::harness::{TestApp, spawn_app, spawn_app_with, step, test_limits};

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .expect("GET");
    let status = response.status();
    (status, response.text().await.expect("body"))
}

/// The CSRF token a page's forms carry.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("the page has a CSRF field")
        + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    no_redirects()
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).expect("form"))
        .send()
        .await
        .expect("POST")
}

async fn build_count(app: &TestApp) -> i64 {
    let query = qide_store::BuildQuery {
        limit: 1,
        ..Default::default()
    };
    app.store.search_builds(&query).await.expect("builds").1
}

#[tokio::test]
async fn the_build_list_shows_builds_and_filters_them() {
    let app = spawn_app().await;
    let ok = app.run(vec![step("ok", "true")]).await;
    let bad = app
        .run(vec![step(
            "bad",
            "echo 'src/main.c:3:5: error: expected ;'; exit 1",
        )])
        .await;
    assert_eq!(bad.status, api::BuildStatus::Failed);

    let (status, html) = page(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("data-build=\"{}\"", ok.id)));
    assert!(html.contains(&format!("data-build=\"{}\"", bad.id)));
    assert!(html.contains("data-status=\"failed\""));

    let (_, failed_only) = page(&app, "/?status=failed").await;
    assert!(failed_only.contains(&format!("data-build=\"{}\"", bad.id)));
    assert!(!failed_only.contains(&format!("data-build=\"{}\"", ok.id)));

    let category = bad.failure_category.clone().expect("a category");
    let (_, by_category) = page(&app, &format!("/?category={category}")).await;
    assert!(by_category.contains(&format!("data-build=\"{}\"", bad.id)));
    assert!(!by_category.contains(&format!("data-build=\"{}\"", ok.id)));

    // The fragment live.js swaps in is the list alone.
    let (_, rows) = page(&app, "/?fragment=rows").await;
    assert!(rows.starts_with("<div class=\"table-wrap\">"), "{rows}");
    assert!(!rows.contains("<html"));
}

#[tokio::test]
async fn pages_answer_bad_parameters_and_unknown_builds_with_problems() {
    let app = spawn_app().await;
    for (path, status, code) in [
        ("/?status=bogus", 422, "invalid_field"),
        ("/?category=nonsense", 422, "invalid_field"),
        ("/?limit=0", 422, "invalid_field"),
        ("/builds/999", 404, "not_found"),
        ("/builds/abc/log", 404, "not_found"),
        ("/builds/1/log?from=0", 422, "invalid_field"),
        ("/stats?range=year", 422, "invalid_field"),
        ("/patterns?status=maybe", 422, "invalid_field"),
        ("/assets/x/nope.css", 404, "not_found"),
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        let problem: api::Problem = response.json().await.unwrap();
        assert_eq!(problem.code, code, "{path}");
    }
}

#[tokio::test]
async fn logs_and_reports_are_shown_as_text_never_as_markup() {
    let app = spawn_app().await;
    let build = app
        .run(vec![step(
            "xss",
            "echo '<script>alert(1)</script>'; printf 'bidi \\342\\200\\256 bell \\007 \\033[31mred\\033[0m\\n'; exit 1",
        )])
        .await;
    app.client
        .submit_report(&api::ReportRequest {
            build_id: build.id,
            kind: "failure_analysis".to_owned(),
            analysis: "<img src=x onerror=alert(2)> <b>bold</b>".to_owned(),
            recommendations: vec!["<a href=\"javascript:alert(3)\">click</a>".to_owned()],
            confidence: 0.5,
            fingerprints: vec![],
            agent: Some("<i>agent</i>".to_owned()),
            model: None,
        })
        .await
        .unwrap();

    let (_, log) = page(&app, &format!("/builds/{}/log", build.id)).await;
    assert!(log.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!log.contains("<script>alert(1)"));
    // Colours are classes; the bidi override and the bell are visible marks.
    assert!(log.contains("<span class=\"fg1\">red</span>"));
    assert!(log.contains("U+202E"));
    assert!(log.contains("\u{2407}"));
    assert!(!log.contains('\u{202e}'));
    assert!(!log.contains('\u{1b}'));

    let (_, detail) = page(&app, &format!("/builds/{}", build.id)).await;
    assert!(detail.contains("&lt;img src=x onerror=alert(2)&gt; &lt;b&gt;bold&lt;/b&gt;"));
    assert!(detail.contains("&lt;a href=&quot;javascript:alert(3)&quot;&gt;click&lt;/a&gt;"));
    assert!(detail.contains("&lt;i&gt;agent&lt;/i&gt;"));
    assert!(!detail.contains("<img src=x"));
    assert!(!detail.contains("<i>agent"));
    // The tail on the build's page is escaped too.
    assert!(detail.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn a_secret_in_a_command_never_reaches_a_page() {
    let app = spawn_app().await;
    let secret = format!("ghp_{}", "a".repeat(36));
    let build = app
        .run(vec![step("leak", &format!("echo token={secret}; exit 1"))])
        .await;
    for path in [
        format!("/builds/{}", build.id),
        format!("/builds/{}/log", build.id),
        "/".to_owned(),
    ] {
        let (status, html) = page(&app, &path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains(&secret), "{path} shows the secret");
    }
    let (_, detail) = page(&app, &format!("/builds/{}", build.id)).await;
    assert!(detail.contains("[redacted]"), "the command is shown masked");
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_start_nothing() {
    let app = spawn_app().await;
    let (_, form) = page(&app, "/run").await;
    let token = csrf_of(&form);
    assert_eq!(token.len(), 32);
    let before = build_count(&app).await;
    for fields in [
        vec![("steps", "touch ran")],
        vec![("steps", "touch ran"), ("csrf", "")],
        vec![
            ("steps", "touch ran"),
            ("csrf", "0123456789abcdef0123456789abcdef"),
        ],
    ] {
        let response = post_form(&app, "/run", &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let problem: api::Problem = response.json().await.unwrap();
        assert_eq!(problem.code, "csrf_failed");
    }
    assert_eq!(build_count(&app).await, before, "no build was queued");

    // Cancel and rerun check the token before acting.
    let build = app.run(vec![step("s", "true")]).await;
    for action in ["cancel", "rerun"] {
        let response = post_form(
            &app,
            &format!("/builds/{}/{action}", build.id),
            &[("csrf", "stale")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(build_count(&app).await, before + 1);
    assert!(!app.path("ran").exists());
}

#[tokio::test]
async fn the_run_form_starts_a_build_and_the_build_page_reruns_and_cancels() {
    let app = spawn_app().await;
    let (_, form) = page(&app, "/run").await;
    let token = csrf_of(&form);
    let response = post_form(
        &app,
        "/run",
        &[
            ("csrf", &token),
            ("steps", "echo one\n\necho two > two.txt"),
            ("timeout_s", ""),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = location.strip_prefix("/builds/").unwrap().parse().unwrap();
    let build = app.wait(id).await;
    assert_eq!(build.status, api::BuildStatus::Success);
    assert_eq!(build.trigger, "ui");
    let steps = build.steps.unwrap();
    assert_eq!(steps.len(), 2, "blank lines are not steps");
    assert_eq!(steps[1].run, "echo two > two.txt");

    // A bad timeout is a problem naming the field, and queues nothing.
    let response = post_form(&app, "/run", &[("csrf", &token), ("timeout_s", "soon")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: api::Problem = response.json().await.unwrap();
    assert_eq!(problem.field.as_deref(), Some("timeout_s"));

    // Re-run: the same steps in a new build.
    let (_, detail) = page(&app, &format!("/builds/{id}")).await;
    assert!(detail.contains(&format!("action=\"/builds/{id}/rerun\"")));
    let response = post_form(
        &app,
        &format!("/builds/{id}/rerun"),
        &[("csrf", &csrf_of(&detail))],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let rerun: i64 = response.headers()["location"].to_str().unwrap()["/builds/".len()..]
        .parse()
        .unwrap();
    assert!(rerun > id);
    let again = app.wait(rerun).await;
    assert_eq!(again.trigger, "rerun");
    assert_eq!(
        again
            .steps
            .unwrap()
            .iter()
            .map(|s| s.run.clone())
            .collect::<Vec<_>>(),
        steps.iter().map(|s| s.run.clone()).collect::<Vec<_>>()
    );

    // Cancel: a running build's page offers it, and it stops the build.
    let long = app.start(vec![step("long", "sleep 30")]).await;
    let (_, running) = page(&app, &format!("/builds/{long}")).await;
    assert!(running.contains(&format!("action=\"/builds/{long}/cancel\"")));
    let response = post_form(
        &app,
        &format!("/builds/{long}/cancel"),
        &[("csrf", &csrf_of(&running))],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let stopped = app.wait(long).await;
    assert_eq!(stopped.status, api::BuildStatus::Error);
    assert_eq!(stopped.failure_kind.as_deref(), Some("cancelled"));
}

#[tokio::test]
async fn the_log_viewer_pages_searches_and_highlights() {
    let app = spawn_app().await;
    let build = app
        .run(vec![step("count", "seq 1 1200 | sed 's/^/line /'")])
        .await;
    let id = build.id;
    let lines_in = |html: &str| html.matches("<div class=\"ln ").count();

    let (_, first) = page(&app, &format!("/builds/{id}/log")).await;
    assert_eq!(lines_in(&first), 500);
    assert!(first.contains("id=\"L1\""));
    assert!(first.contains("id=\"L500\""));
    assert!(!first.contains("id=\"L501\""));
    assert!(first.contains(&format!("href=\"/builds/{id}/log?from=501\"")));

    let (_, later) = page(&app, &format!("/builds/{id}/log?from=1100&hl=1150-1151")).await;
    // Line 1 is QIDE's note of the command; the last one its exit.
    assert_eq!(lines_in(&later), 103);
    assert!(later.contains("<div class=\"ln so hl\" id=\"L1150\""));
    assert!(later.contains("<div class=\"ln so\" id=\"L1149\""));

    let (_, tail) = page(&app, &format!("/builds/{id}/log?tail=1&limit=10")).await;
    assert_eq!(lines_in(&tail), 10);
    assert!(tail.contains("id=\"L1202\""));

    let (_, found) = page(&app, &format!("/builds/{id}/log?q=LINE+117")).await;
    // "line 117" and "line 1170" to "line 1179" (lines 118 and 1171 to
    // 1180), case-insensitively.
    assert_eq!(lines_in(&found), 11);
    assert!(found.contains(&format!(
        "/builds/{id}/log?from=1161&amp;hl=1171-1171#L1171"
    )));

    let (status, _) = page(&app, &format!("/builds/{id}/log?q=%28&re=1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The fragment the live tail appends: the lines after `from`.
    let (_, fragment) = page(&app, &format!("/builds/{id}/log?fragment=lines&from=1199")).await;
    assert_eq!(lines_in(&fragment), 4);
    assert!(
        !fragment.contains("step-sep"),
        "same step as the line before"
    );
}

#[tokio::test]
async fn a_failed_build_page_leads_from_root_cause_to_log_line() {
    let app = spawn_app_with(test_limits(), |dir| {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("src/main.c"),
            "int main() {\n  int x = 1\n  return x;\n}\n",
        )
        .unwrap();
    })
    .await;
    let build = app
        .run(vec![step(
            "cc",
            "echo compiling; echo 'src/main.c:2:12: error: expected ; before return'; exit 1",
        )])
        .await;
    let (_, html) = page(&app, &format!("/builds/{}", build.id)).await;
    assert!(html.contains("class=\"diag sev-error root\""), "{html}");
    assert!(html.contains("expected ; before return"));
    // The snippet shows the source with the line marked.
    assert!(html.contains("<div class=\"src hit\"><span class=\"n\">2</span><span class=\"t\">  int x = 1</span></div>"));
    let link = format!("/builds/{}/log?from=1&amp;hl=3-3#L3", build.id);
    assert!(html.contains(&link), "{html}");
    let (_, log) = page(&app, &link.replace("&amp;", "&")).await;
    assert!(log.contains("<div class=\"ln so hl\" id=\"L3\""));
}

#[tokio::test]
async fn patterns_and_statistics_draw_their_charts() {
    let app = spawn_app().await;
    let script = app.path("check.sh");
    std::fs::write(
        &script,
        "echo \"src/parse.c:7:3: error: 'count' undeclared\"; exit 1\n",
    )
    .unwrap();
    for _ in 0..2 {
        app.run(vec![step("check", "sh check.sh")]).await;
    }
    app.run(vec![step("ok", "true")]).await;

    let (status, patterns) = page(&app, "/patterns").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        patterns.contains("&#39;count&#39; undeclared") || patterns.contains("'count' undeclared")
    );
    assert!(patterns.contains("<svg class=\"spark\""));
    // Two builds in the sparkline's current bucket.
    assert!(patterns.contains(": 2 in the period"));

    let (status, stats) = page(&app, "/stats?range=day").await;
    assert_eq!(status, StatusCode::OK);
    assert!(stats.contains(
        "<svg viewBox=\"0 0 640 180\" role=\"img\" aria-label=\"Builds per outcome, last 24 hours\""
    ));
    assert!(stats.contains("Failed builds per category"));
    assert!(stats.contains("<strong>3</strong> builds"));
    assert!(stats.contains("<strong>33%</strong> succeeded"));
}

#[tokio::test]
async fn assets_are_embedded_and_cacheable() {
    let app = spawn_app().await;
    let (_, html) = page(&app, "/").await;
    let at = html.find("/assets/").unwrap();
    let href: String = html[at..].split('"').next().unwrap().to_owned();
    assert!(href.ends_with("/style.css"));
    let response = app
        .http
        .get(format!("{}{href}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("prefers-color-scheme: dark")
    );
    // Pages forbid inline script and framing.
    let response = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn with_tokens_pages_need_read_and_forms_need_run() {
    let app = spawn_app().await;
    let reader = qide_server::new_token().unwrap();
    app.store
        .create_token(
            "reader",
            &qide_server::token_hash(&reader),
            &["read".to_owned()],
            1,
        )
        .await
        .unwrap();
    let get = |path: &str, token: Option<&str>| {
        let mut request = app.http.get(format!("{}{path}", app.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    // Without a credential: no page, but the stylesheet.
    assert_eq!(
        get("/", None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let html = get("/", Some(&reader)).await.unwrap().text().await.unwrap();
    let at = html.find("/assets/").unwrap();
    let css: String = html[at..].split('"').next().unwrap().to_owned();
    assert_eq!(get(&css, None).await.unwrap().status(), StatusCode::OK);

    // A reader sees the form but may not post it, whatever its token.
    let form = get("/run", Some(&reader)).await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.unwrap();
    assert!(
        form.contains("disabled"),
        "the button is disabled for a reader"
    );
    let response = no_redirects()
        .post(format!("{}/run", app.base))
        .bearer_auth(&reader)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}&steps=touch+ran", csrf_of(&form)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let problem: api::Problem = response.json().await.unwrap();
    assert_eq!(problem.code, "insufficient_scope");
    assert_eq!(build_count(&app).await, 0);
}

#[tokio::test]
async fn a_recurring_failure_shows_what_was_reported_about_it_before() {
    let app = spawn_app().await;
    std::fs::write(
        app.path("check.sh"),
        "echo \"src/parse.c:7:3: error: 'count' undeclared\"; exit 1\n",
    )
    .unwrap();
    let first = app.run(vec![step("check", "sh check.sh")]).await;
    let fingerprint = app
        .client
        .build_detail(first.id)
        .await
        .unwrap()
        .log_summary
        .errors[0]
        .fingerprint
        .clone();
    app.client
        .submit_report(&api::ReportRequest {
            build_id: first.id,
            kind: "failure_analysis".to_owned(),
            analysis: "count is used before it is declared".to_owned(),
            recommendations: vec![],
            confidence: 0.7,
            fingerprints: vec![],
            agent: None,
            model: None,
        })
        .await
        .unwrap();
    let second = app.run(vec![step("check", "sh check.sh")]).await;

    let (_, html) = page(&app, &format!("/builds/{}", second.id)).await;
    assert!(html.contains("<h2>Seen before</h2>"), "{html}");
    assert!(html.contains("1 earlier report(s)"));
    assert!(html.contains("count is used before it is declared"));

    let (_, patterns) = page(&app, &format!("/patterns?fingerprint={fingerprint}")).await;
    assert!(patterns.contains("id=\"linked-reports\""));
    assert!(patterns.contains("count is used before it is declared"));
}
