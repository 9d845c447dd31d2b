//! `qide openapi`: the document a server serves, printed without one.

use crate::server::qide;

#[test]
fn qide_openapi_prints_the_served_document() {
    let out = qide().arg("openapi").output().expect("run qide");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        printed,
        serde_json::to_value(qide_server::document()).unwrap()
    );
    assert!(printed["openapi"].as_str().unwrap().starts_with("3.1."));
    assert!(printed["paths"]["/build/run"]["post"].is_object());
}
