//! Secrets of many kinds for the canary tests, built from pieces so no
//! source file holds one verbatim. Shared by the server's and the MCP
//! server's canaries.

/// Planted secrets, built from pieces so this source holds none verbatim.
/// Each is `(kind, text to plant, part that must never come back)`.
pub(crate) fn planted() -> Vec<(&'static str, String, String)> {
    let r = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    let whole = |kind: &'static str, s: String| (kind, s.clone(), s);
    vec![
        whole("aws key", format!("AKIA{}", "Q7RZ2MPLK4XW9TBN")),
        whole("google key", format!("AIza{}", r(35, 'g'))),
        whole("github", format!("ghp_{}", r(36, 'h'))),
        whole("github pat", format!("github_pat_{}", r(40, 'i'))),
        whole("gitlab", format!("glpat-{}", r(20, 'j'))),
        whole("npm", format!("npm_{}", r(36, 'k'))),
        whole("slack", format!("xoxb-{}-{}", r(12, '7'), r(24, 'l'))),
        whole("stripe", format!("sk_live_{}", r(24, 'm'))),
        whole("sendgrid", format!("SG.{}.{}", r(22, 'n'), r(43, 'o'))),
        whole("openai", format!("sk-proj-{}", r(40, 'p'))),
        whole("anthropic", format!("sk-ant-{}", r(40, 'q'))),
        whole("digitalocean", format!("dop_v1_{}", r(64, 'b'))),
        whole("huggingface", format!("hf_{}", r(34, 'r'))),
        whole("docker", format!("dckr_pat_{}", r(27, 's'))),
        whole(
            "jwt",
            format!("eyJ{}.eyJ{}.{}", r(20, 't'), r(30, 'u'), r(40, 'v')),
        ),
        (
            "url password",
            format!("https://ci:{}@git.example.com/repo.git", "Wn8qPz3tLm5x"),
            "Wn8qPz3tLm5x".to_owned(),
        ),
        (
            "bearer",
            format!("Authorization: Bearer {}", r(32, 'w')),
            r(32, 'w'),
        ),
        (
            "assignment",
            format!("DB_PASSWORD={}", "tr0ub4dor-and-3"),
            "tr0ub4dor-and-3".to_owned(),
        ),
        (
            "yaml secret",
            format!("client_secret: \"{}\"", "Zx9-secret-Vq2"),
            "Zx9-secret-Vq2".to_owned(),
        ),
        ("azure", format!("AccountKey={}==", r(60, 'Y')), r(60, 'Y')),
        (
            "pem",
            format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
                "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
            ),
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj".to_owned(),
        ),
    ]
}
