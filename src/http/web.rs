//! The web app at `/`. The release binary carries `web/dist` inside it (rust-embed; a debug
//! build reads that folder at run time), so it serves the app from any working directory;
//! `TRADESAGE_WEB_DIR`, when set, serves a folder instead (development). A path that names no
//! file but looks like one of the app's own routes gets `index.html`, so a reload on
//! `/admin/users` works; a missing file (`/assets/x.js`) is a plain 404.

use std::borrow::Cow;
use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rust_embed::{Embed, EmbeddedFile};
use tower_http::services::{ServeDir, ServeFile};

use super::error::ApiError;

/// The built app, as `scripts/web-build.sh` leaves it. Missing on a clean clone before the
/// web build: then the binary carries nothing and says so at `/`.
#[derive(Embed)]
#[folder = "web/dist"]
#[allow_missing = true]
struct Dist;

/// Where Vite puts the files whose names carry a hash of their content.
const HASHED: &str = "assets/";

/// A file to answer with, wherever it came from.
struct Asset {
    body: Cow<'static, [u8]>,
    content_type: String,
    /// A strong validator: the file's SHA-256.
    etag: String,
}

impl From<EmbeddedFile> for Asset {
    fn from(file: EmbeddedFile) -> Self {
        Asset {
            content_type: file.metadata.mimetype().to_owned(),
            etag: format!("\"{}\"", URL_SAFE_NO_PAD.encode(file.metadata.sha256_hash())),
            body: file.data,
        }
    }
}

/// Serves the embedded app (the router's fallback when `TRADESAGE_WEB_DIR` is unset).
pub async fn embedded(request: Request) -> Response {
    serve(request.method(), request.uri().path(), request.headers(), |path| Dist::get(path).map(Asset::from))
}

/// Whether this binary carries a built web app.
pub fn embedded_app() -> bool {
    Dist::get("index.html").is_some()
}

/// Serves the folder `dir` instead (`TRADESAGE_WEB_DIR`), with the same fallback to its
/// `index.html`.
pub fn folder(dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")))
}

/// Answers `path` from `lookup`: the file itself, or `index.html` for a route of the app.
fn serve(method: &Method, path: &str, headers: &HeaderMap, lookup: impl Fn(&str) -> Option<Asset>) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::MethodNotAllowed.into_response();
    }
    let path = path.trim_start_matches('/');
    let (name, asset) = match lookup(path).filter(|_| !path.is_empty()) {
        Some(asset) => (path, asset),
        // A file that is not there is a 404, not the app: a stale page asking for an old
        // hashed script must not get HTML back.
        None if path.starts_with(HASHED) || path.rsplit('/').next().is_some_and(|last| last.contains('.')) => {
            return (StatusCode::NOT_FOUND, "no such file").into_response();
        }
        None => match lookup("index.html") {
            Some(index) => ("index.html", index),
            None => {
                let hint = "This server was built without its web app: run scripts/web-build.sh before \
                            building it, or set TRADESAGE_WEB_DIR to the built app's folder.";
                return (StatusCode::NOT_FOUND, hint).into_response();
            }
        },
    };
    let fresh = headers.get(header::IF_NONE_MATCH).is_some_and(|tag| tag.as_bytes() == asset.etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = asset.body.into_owned().into_response();
        if let Ok(value) = HeaderValue::from_str(&asset.content_type) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    };
    let cache = if name.starts_with(HASHED) { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&asset.etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A built app of two files.
    fn lookup(path: &str) -> Option<Asset> {
        let (body, content_type): (&'static [u8], &str) = match path {
            "index.html" => (b"<!doctype html><div id=\"root\"></div>", "text/html"),
            "assets/index-3f2a.js" => (b"console.log(1)", "text/javascript"),
            _ => return None,
        };
        Some(Asset { body: Cow::Borrowed(body), content_type: content_type.into(), etag: format!("\"{path}\"") })
    }

    fn get(path: &str, if_none_match: Option<&str>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(tag) = if_none_match {
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(tag).unwrap());
        }
        serve(&Method::GET, path, &headers, lookup)
    }

    fn header_of(response: &Response, name: header::HeaderName) -> &str {
        response.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    #[test]
    fn app_routes_get_the_index_and_files_themselves_with_their_type() {
        for path in ["/", "/admin/users", "/orders/0190f3c2-7d1e-7000-8000-000000000000"] {
            let response = get(path, None);
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(header_of(&response, header::CONTENT_TYPE), "text/html", "{path}");
            assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache", "{path}");
        }
        let script = get("/assets/index-3f2a.js", None);
        assert_eq!(script.status(), StatusCode::OK);
        assert_eq!(header_of(&script, header::CONTENT_TYPE), "text/javascript");
        assert_eq!(header_of(&script, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    }

    #[test]
    fn missing_files_are_404_not_the_index() {
        for path in ["/assets/index-old.js", "/favicon.ico", "/deep/logo.svg"] {
            assert_eq!(get(path, None).status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[test]
    fn a_matching_etag_answers_304_and_other_methods_405() {
        let fresh = get("/assets/index-3f2a.js", Some("\"assets/index-3f2a.js\""));
        assert_eq!(fresh.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header_of(&fresh, header::ETAG), "\"assets/index-3f2a.js\"");
        assert_eq!(get("/", Some("\"stale\"")).status(), StatusCode::OK);
        let post = serve(&Method::POST, "/", &HeaderMap::new(), lookup);
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn without_a_built_app_the_root_says_how_to_get_one() {
        let response = serve(&Method::GET, "/", &HeaderMap::new(), |_| None);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
