//! Extractors whose rejections are problem+json that name what is wrong:
//! which field of the body has the wrong type, which query parameter is bad.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body, read with the body limit and deserialised field by field so
/// a type error names its field.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type_ok = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        // A body without `Content-Type: application/json` is refused: a web
        // page can send such a body cross-origin without a CORS preflight,
        // and this server runs commands.
        if !content_type_ok {
            return Err(AppError::UnsupportedMediaType(
                "send the body with Content-Type: application/json".to_owned(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::TooLarge(e.body_text())
                } else {
                    AppError::BadRequest {
                        code: "unreadable_body",
                        detail: e.body_text(),
                    }
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body: malformed JSON is a 400, a wrong shape a 422 naming
/// the field.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| AppError::BadRequest {
            code: "malformed_json",
            detail: format!("the body is not valid JSON: {e}"),
        })?;
    if !value.is_object() {
        return Err(AppError::field("body", "the body must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." {
            field_from_message(&inner)
        } else {
            path
        };
        AppError::field(field.clone(), format!("{field}: {inner}"))
    })
}

/// For errors at the top level (a missing or unknown field), serde names the
/// field in backticks in its message.
fn field_from_message(message: &str) -> String {
    message.split('`').nth(1).unwrap_or("body").to_owned()
}

/// Query parameters, with a problem naming the bad parameter.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded_deserializer(query);
        match de {
            Ok(value) => Ok(ApiQuery(value)),
            Err((field, detail)) => Err(AppError::field(field, detail)),
        }
    }
}

fn serde_urlencoded_deserializer<T: DeserializeOwned>(query: &str) -> Result<T, (String, String)> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." {
            field_from_message(&inner)
        } else {
            path
        };
        (field.clone(), format!("query parameter {field}: {inner}"))
    })
}

/// A build id from the path: a positive integer, else a 404 (no such build
/// can exist) rather than a type error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuildId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for BuildId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| AppError::BadRequest {
                    code: "bad_path",
                    detail: e.body_text(),
                })?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(BuildId(id)),
            _ => Err(AppError::NotFound(format!(
                "build {raw:?} does not exist (build ids are positive integers)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Q {
        limit: Option<i64>,
        status: Option<String>,
    }

    #[test]
    fn query_type_errors_name_the_parameter() {
        let err = serde_urlencoded_deserializer::<Q>("limit=abc").unwrap_err();
        assert_eq!(err.0, "limit");
        let ok = serde_urlencoded_deserializer::<Q>("limit=5&status=failed").unwrap();
        assert_eq!(ok.limit, Some(5));
    }
}
