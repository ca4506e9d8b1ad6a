//! The operator console: a web page served on the management listener
//! (beside `/metrics`), off unless configured, for the people who run a
//! node: peers and their delivery state, the outbox, dead letters (retry,
//! drop), overdue deadlines, refusals by reason, the roster and keys about
//! to expire, the transparency log and witness alarms, and a case's
//! timeline with a map of its route (docs/CONSOLE.md).
//!
//! The page and its script are built into the binary (no build step, no
//! files fetched from the internet, the map drawn from a shipped outline of
//! the region). Its data comes from a small JSON API under `/console/api/`
//! that answers only with the console's token (`Authorization: Bearer`);
//! the page itself holds no data. The console shows record ids, agencies,
//! kinds, stages and the places of compounds and checkpoints: never a
//! person's identity, contacts or medical details.

mod api;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lintas_node::Engine;
use subtle::ConstantTimeEq;

/// The shortest token the console takes.
pub const MIN_TOKEN_CHARS: usize = 32;

/// The console's settings.
#[derive(Clone)]
pub struct Console {
    token: Arc<str>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").finish_non_exhaustive()
    }
}

impl Console {
    /// A console that answers its API only to callers presenting `token`
    /// (at least 32 characters, no white space).
    ///
    /// # Errors
    /// A token that is too short or holds white space, described.
    pub fn with_token(token: &str) -> Result<Self, String> {
        let token = token.trim();
        if token.chars().count() < MIN_TOKEN_CHARS || token.chars().any(char::is_whitespace) {
            return Err(format!(
                "the console token must be at least {MIN_TOKEN_CHARS} characters without white \
                 space (found {} characters)",
                token.chars().count()
            ));
        }
        Ok(Console {
            token: Arc::from(token),
        })
    }

    /// True when `headers` carry this console's token.
    fn admits(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| given.as_bytes().ct_eq(self.token.as_bytes()).into())
    }
}

/// The page, its script, style, translations and map, built in.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_str!("console/assets/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("console/assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("console/assets/app.css"),
    ),
    (
        "i18n/en.json",
        "application/json",
        include_str!("console/assets/en.json"),
    ),
    (
        "i18n/id.json",
        "application/json",
        include_str!("console/assets/id.json"),
    ),
    (
        "region.json",
        "application/json",
        include_str!("console/assets/region.json"),
    ),
];

fn asset(path: &str) -> Response {
    match ASSETS.iter().find(|(p, ..)| *p == path) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "no-cache"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The console's routes: the page under `/console/`, its API under
/// `/console/api/`.
pub(crate) fn routes(console: Console, engine: Engine) -> Router {
    let pages = Router::new()
        .route("/console", axum::routing::get(|| async { asset("") }))
        .route("/console/", axum::routing::get(|| async { asset("") }))
        .route(
            "/console/{*file}",
            axum::routing::get(|axum::extract::Path(file): axum::extract::Path<String>| async move {
                asset(&file)
            }),
        );
    let api = api::routes(engine).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let console = console.clone();
            async move {
                if console.admits(request.headers()) {
                    next.run(request).await
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, "Bearer")],
                        axum::Json(serde_json::json!({
                            "error": "the console's token is required (Authorization: Bearer TOKEN)"
                        })),
                    )
                        .into_response()
                }
            }
        },
    ));
    pages.nest("/console/api", api)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_or_spaced_token_is_refused_and_only_the_token_admits() {
        assert!(Console::with_token("short").is_err());
        assert!(Console::with_token("a token with spaces in it that is long enough").is_err());
        let console = Console::with_token("0123456789abcdef0123456789abcdef")
            .unwrap_or_else(|e| panic!("{e}"));
        let mut headers = HeaderMap::new();
        assert!(!console.admits(&headers));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer 0123456789abcdef0123456789abcdeX"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        assert!(!console.admits(&headers));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer 0123456789abcdef0123456789abcdef"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        assert!(console.admits(&headers));
    }

    fn asset(file: &str) -> &'static str {
        ASSETS
            .iter()
            .find(|(path, _, _)| path.ends_with(file))
            .map(|(_, _, text)| *text)
            .unwrap_or_else(|| panic!("no asset {file}"))
    }

    fn words(file: &str) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::from_str(asset(file)) {
            Ok(serde_json::Value::Object(words)) => words,
            other => panic!("{file}: {other:?}"),
        }
    }

    #[test]
    fn every_word_the_page_or_the_node_uses_has_an_indonesian_translation() {
        use lintas_core::vocab::{ActionKind, NoticeKind, ReceiptStage, TargetOutcome};
        let (en, id) = (words("en.json"), words("id.json"));
        for key in en.keys() {
            assert!(id.contains_key(key), "id.json lacks {key}");
        }
        for key in id.keys() {
            assert!(en.contains_key(key), "en.json lacks {key}");
        }
        let mut wanted: Vec<String> = Vec::new();
        wanted.extend(
            NoticeKind::ALL
                .iter()
                .map(|k| format!("kind.{}", k.label())),
        );
        wanted.extend(
            ReceiptStage::ALL
                .iter()
                .map(|s| format!("stage.{}", s.label())),
        );
        wanted.extend(
            ActionKind::ALL
                .iter()
                .map(|a| format!("action.{}", a.label())),
        );
        wanted.extend(
            TargetOutcome::ALL
                .iter()
                .map(|o| format!("outcome.{}", o.label())),
        );
        for key in wanted {
            assert!(en.contains_key(&key), "en.json lacks {key}");
        }
        // Every t("...") in the script names a word that exists.
        let script = asset("app.js");
        let mut used = 0;
        for (at, _) in script.match_indices("t(\"") {
            let before = script[..at].chars().next_back().unwrap_or(' ');
            if before.is_ascii_alphanumeric() || before == '_' || before == '.' {
                continue; // count(...), not t(...)
            }
            let key = script[at + 3..].split('"').next().unwrap_or_default();
            assert!(
                en.contains_key(key),
                "app.js uses t(\"{key}\"), which en.json lacks"
            );
            used += 1;
        }
        assert!(used > 50, "only {used} words found in the script");
    }
}
