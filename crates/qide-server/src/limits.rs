//! Rate limits on the expensive endpoints, per caller.
//!
//! Starting a build, packing or mapping the codebase, and checking a
//! password cost far more than reading a list; one caller (a token, a
//! dashboard session, or on an open server a peer address) gets a burst of
//! them and then a steady rate, tracked with the GCRA of the `governor`
//! crate. A refused request is a 429 problem with `Retry-After`.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::AppError;

/// A steady rate with a burst on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed at once, before the steady rate applies.
    pub burst: u32,
    /// Requests allowed per minute, on average.
    pub per_minute: u32,
}

/// The limits per kind of expensive request; `None` turns a kind's limit
/// off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /build/run` (and the dashboard's `POST /run`, `/rerun`).
    pub builds: Option<Rate>,
    /// `GET /llm/learning/codebase?mode=pack|map`.
    pub codebase: Option<Rate>,
    /// `POST /login`: password guesses.
    pub sign_in: Option<Rate>,
}

impl Default for RateLimits {
    /// Generous for an agent's edit-build loop (a build every few seconds
    /// at most), tight enough that a runaway loop or a password guesser is
    /// stopped within a minute.
    fn default() -> RateLimits {
        RateLimits {
            builds: Some(Rate {
                burst: 20,
                per_minute: 60,
            }),
            codebase: Some(Rate {
                burst: 40,
                per_minute: 120,
            }),
            sign_in: Some(Rate {
                burst: 10,
                per_minute: 10,
            }),
        }
    }
}

impl RateLimits {
    /// No limits at all: for tests and for a server whose callers are
    /// trusted machines (`--builds-per-minute 0 --packs-per-minute 0`).
    pub fn off() -> RateLimits {
        RateLimits {
            builds: None,
            codebase: None,
            sign_in: None,
        }
    }
}

/// Which limit a request falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expensive {
    Build,
    Codebase,
    SignIn,
}

impl Expensive {
    /// The limit `method path?query` falls under, if any.
    pub(crate) fn of(method: &Method, path: &str, query: Option<&str>) -> Option<Expensive> {
        if method == Method::POST {
            return match path {
                "/build/run" | "/run" => Some(Expensive::Build),
                "/login" => Some(Expensive::SignIn),
                _ if path.starts_with("/builds/") && path.ends_with("/rerun") => {
                    Some(Expensive::Build)
                }
                _ => None,
            };
        }
        if method == Method::GET && path == "/llm/learning/codebase" {
            let heavy = form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .any(|(k, v)| k == "mode" && (v == "pack" || v == "map"));
            return heavy.then_some(Expensive::Codebase);
        }
        None
    }

    fn name(self) -> &'static str {
        match self {
            Expensive::Build => "builds",
            Expensive::Codebase => "codebase packs and maps",
            Expensive::SignIn => "sign-in attempts",
        }
    }
}

/// One keyed limiter per kind.
pub(crate) struct Limiters {
    builds: Option<DefaultKeyedRateLimiter<String>>,
    codebase: Option<DefaultKeyedRateLimiter<String>>,
    sign_in: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters").finish_non_exhaustive()
    }
}

fn limiter(rate: Option<Rate>) -> Option<DefaultKeyedRateLimiter<String>> {
    let rate = rate?;
    let per_minute = NonZeroU32::new(rate.per_minute)?;
    let burst = NonZeroU32::new(rate.burst.max(1))?;
    Some(DefaultKeyedRateLimiter::keyed(
        Quota::per_minute(per_minute).allow_burst(burst),
    ))
}

impl Limiters {
    pub(crate) fn new(limits: &RateLimits) -> Limiters {
        Limiters {
            builds: limiter(limits.builds),
            codebase: limiter(limits.codebase),
            sign_in: limiter(limits.sign_in),
            clock: DefaultClock::default(),
        }
    }

    /// Counts a request of `kind` by `key`; refused when it is one too
    /// many.
    pub(crate) fn check(&self, kind: Expensive, key: &str) -> Result<(), RateLimited> {
        let limiter = match kind {
            Expensive::Build => &self.builds,
            Expensive::Codebase => &self.codebase,
            Expensive::SignIn => &self.sign_in,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        // Forget callers whose allowance is full again, so the map does
        // not grow with every peer address ever seen.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        match limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(RateLimited { kind, wait })
            }
        }
    }
}

/// A request over its caller's limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateLimited {
    kind: Expensive,
    /// How long until the caller may try again.
    wait: Duration,
}

impl IntoResponse for RateLimited {
    /// The 429 answer: whole seconds to wait, rounded up, in `Retry-After`.
    fn into_response(self) -> Response {
        too_many(self.kind, self.wait)
    }
}

fn too_many(kind: Expensive, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = AppError::TooManyRequests(format!(
        "too many {} from this caller: retry in {seconds} s",
        kind.name()
    ))
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expensive_requests_are_recognised() {
        let of = |m: Method, p: &str, q: Option<&str>| Expensive::of(&m, p, q);
        assert_eq!(of(Method::POST, "/build/run", None), Some(Expensive::Build));
        assert_eq!(
            of(Method::POST, "/builds/4/rerun", None),
            Some(Expensive::Build)
        );
        assert_eq!(of(Method::POST, "/login", None), Some(Expensive::SignIn));
        assert_eq!(
            of(Method::GET, "/llm/learning/codebase", Some("mode=pack")),
            Some(Expensive::Codebase)
        );
        assert_eq!(
            of(
                Method::GET,
                "/llm/learning/codebase",
                Some("budget_tokens=9&mode=map")
            ),
            Some(Expensive::Codebase)
        );
        assert_eq!(of(Method::GET, "/llm/learning/codebase", None), None);
        assert_eq!(of(Method::GET, "/build/run", None), None);
        assert_eq!(of(Method::POST, "/build/4/cancel", None), None);
    }

    #[test]
    fn a_burst_passes_then_the_caller_waits_and_others_do_not() {
        let limiters = Limiters::new(&RateLimits {
            builds: Some(Rate {
                burst: 2,
                per_minute: 1,
            }),
            codebase: None,
            sign_in: None,
        });
        assert!(limiters.check(Expensive::Build, "a").is_ok());
        assert!(limiters.check(Expensive::Build, "a").is_ok());
        let refused = limiters
            .check(Expensive::Build, "a")
            .unwrap_err()
            .into_response();
        assert_eq!(refused.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = refused.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        // Another caller has its own allowance; a kind without a limit has
        // none to exhaust.
        assert!(limiters.check(Expensive::Build, "b").is_ok());
        for _ in 0..100 {
            assert!(limiters.check(Expensive::Codebase, "a").is_ok());
        }
    }
}
