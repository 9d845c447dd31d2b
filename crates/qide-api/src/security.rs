//! Wire types of signing in (`POST /login` with a JSON body, for agents
//! that want the seed's `session_id`) and of the audit trail
//! (`GET /admin/audit`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /login` with `Content-Type: application/json`: a token, or a
/// user's name and password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// An access token (`qide token create`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A user's name (`qide user add`), with `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The answer to a JSON sign-in: a session id to send as `X-Session-Id`
/// (or the `session_id` query parameter). Shown only this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionCreated {
    pub session_id: String,
    /// The token's or user's name.
    pub subject: String,
    pub scopes: Vec<String>,
    /// When the session ends unless it is used before then (it is pushed
    /// back by each use).
    pub expires_at: String,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    /// When it happened (RFC 3339 UTC).
    pub at: String,
    /// Who: a token's or user's name, `local` on an open server, `cli` for
    /// commands run on the server's machine.
    pub actor: String,
    /// What: `build.run`, `build.cancel`, `build.rerun`, `build.claim`,
    /// `report.create`, `session.sign_in`, `session.sign_in_failed`,
    /// `session.sign_out`, `token.create`, `token.revoke`, `user.add`,
    /// `user.remove`.
    pub action: String,
    /// To what: `build:42`, `token:ci`, `user:alice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The peer address the request came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
}

/// `GET /admin/audit`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditList {
    pub events: Vec<AuditEvent>,
    pub total: i64,
    pub skip: i64,
    pub limit: i64,
}
