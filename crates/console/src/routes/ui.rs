//! The front-end's pages and files ([`crate::frontend`]: the embedded web UI, or `console.ui_dir`): the page
//! (`index.html`) with the configured base path written into its `<base href>`, the hashed files under `/assets/`
//! and the bundled speedscope under `/speedscope/` with year-long immutable caching, other files revalidated, and
//! the client routes of the single-page app answered with the page.
//!
//! The embedded files are in the binary in release builds and read from disk in debug builds (`rust-embed`), so
//! `cargo build` without Node works: then `/` and the client routes serve the server-rendered sign-in page, which
//! says how to build the UI. Each file is compressed (brotli and gzip) once, on its first request, on the blocking
//! pool, and kept in memory with its ETag; no request compresses anything after that. Release builds also compress
//! every embedded file in the background at start-up ([`warm`]), one at a time, so the first visitors rarely wait.
//!
//! With `console.basic_challenge` (a front-end without a sign-in page of its own, such as the original xui), the
//! page answers a browser without a session or credentials with the HTTP Basic challenge, as the original did.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::auth::CurrentUser;
use crate::error::{ConsoleError, BASIC_CHALLENGE};
use crate::frontend::{Body, Frontend, INDEX};
use crate::routes::auth;
use crate::state::AppState;

type State = web::Data<AppState>;

/// What a built `index.html` holds (`<base href="/">` or `<base href="/" />`): [`index`] replaces its first
/// occurrence with `<base href="{console.base_path}"`.
pub const BASE_PLACEHOLDER: &str = r#"<base href="/""#;

/// How to build the UI, shown by the sign-in page when `dist/index.html` is missing.
pub const HOW_TO_BUILD: &str = "cd crates/console/web && npm ci && npm run build (deploy/local/run.sh does it for you)";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// `GET /`, `GET /signin` and every client route: the SPA's `index.html`, or the sign-in page without a built UI.
/// With `console.basic_challenge`, a browser without a session or credentials gets the Basic challenge instead,
/// but on `/signin`, where a session can still be had.
pub async fn index(state: State, req: HttpRequest) -> HttpResponse {
    if state.auth.basic_challenge && req.path() != "/signin" {
        match <CurrentUser as actix_web::FromRequest>::extract(&req).await {
            Ok(_) => {}
            Err(ConsoleError::Unauthenticated) => return challenge(),
            Err(e) => return actix_web::ResponseError::error_response(&e),
        }
    }
    let frontend = state.frontend.clone();
    let Ok(Some(file)) = web::block(move || frontend.index()).await else {
        return auth::page(state, req).await;
    };
    let html = String::from_utf8_lossy(&file);
    let href = format!(r#"<base href="{}""#, state.base_path);
    let body = html.replacen(BASE_PLACEHOLDER, &href, 1);
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(body.as_bytes())[..16]));
    let fresh = if_none_match(&req, |tag| tag == etag);
    let mut response = match fresh {
        true => HttpResponse::NotModified(),
        false => HttpResponse::Ok(),
    };
    response.insert_header((header::CACHE_CONTROL, REVALIDATE)).insert_header((header::ETAG, etag));
    match fresh {
        true => response.finish(),
        false => response.content_type("text/html; charset=utf-8").body(body),
    }
}

/// `GET /assets/{path}` and `GET /speedscope/{path}`: a file of the build, cached for a year (Vite and speedscope
/// put a content hash in every name) but for an `index.html` (speedscope's page keeps its name across versions and
/// names the hashed files of its own version: cached for a year, an upgrade would load files that are gone); a miss
/// is a plain 404, never the SPA's `index.html`.
pub async fn asset(state: State, req: HttpRequest) -> HttpResponse {
    let name = req.path().trim_start_matches('/');
    let cache_control = match name.rsplit('/').next() == Some("index.html") {
        true => REVALIDATE,
        false => IMMUTABLE,
    };
    serve_file(&state.frontend, &req, name, cache_control).await.unwrap_or_else(not_found)
}

/// Every request no route of the table takes. API paths answer the JSON envelope, the server's own paths and
/// anything that looks like a file a plain 404; a file at the top of the build (a favicon) is served; the rest are
/// the SPA's client routes (`/apps`, `/app/3/instance`, `/admin/users`) and get `index.html`.
pub async fn fallback(state: State, req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if path == "/xapi" || path.starts_with("/xapi/") {
        return common::error::render(&common::error::NO_ROUTE, &format!("no API route {} {path}", req.method()));
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return not_found();
    }
    let name = path.trim_start_matches('/');
    if name != INDEX && !name.is_empty() {
        if let Some(response) = serve_file(&state.frontend, &req, name, REVALIDATE).await {
            return response;
        }
    }
    match is_client_route(path) {
        true => index(state, req).await,
        false => not_found(),
    }
}

/// Compresses every file of the embedded build into the cache, one after the other (called at start-up by release
/// builds; debug builds, tests included, read files from disk and compress them when asked; a directory's files are
/// compressed when first asked for).
pub async fn warm(frontend: Arc<Frontend>) {
    let started = std::time::Instant::now();
    let mut files = 0;
    for name in frontend.embedded_names() {
        if let Some(Some(_)) = cached(&frontend, &name).await {
            files += 1;
        }
    }
    tracing::info!(files, elapsed_ms = started.elapsed().as_millis() as u64, "web ui files compressed");
}

/// A path the SPA may own: not under the server's own prefixes and without a file extension.
fn is_client_route(path: &str) -> bool {
    const SERVER: &[&str] = &["/xapi", "/file", "/dashboard", "/assets", "/speedscope", "/public", "/openapi.json", "/metrics", "/healthz", "/readyz"];
    let server = SERVER.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')));
    let last = path.rsplit('/').next().unwrap_or_default();
    !server && !last.contains('.')
}

/// The original's answer to a browser without credentials: 401 with the Basic challenge, which makes the browser
/// ask for a name and password and send them with every request of the page from then on.
fn challenge() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, BASIC_CHALLENGE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body("Sign in with your Easy-Monitor e-mail and password.\n")
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("text/plain; charset=utf-8").insert_header((header::CACHE_CONTROL, REVALIDATE)).body("not found\n")
}

/// How hard a file is compressed: the embedded build's files at the best ratio (they are few, and release builds
/// compress them at start-up); a directory's at a fast level on their first request, since its files are many (the
/// original xui ships 40 MB of DevTools) and a visitor waits for each (a 1 MB script: milliseconds, not seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effort {
    Best,
    Fast,
}

/// One file of the build in the encodings worth sending, with its ETag.
/// The bodies are `Bytes`: each response shares them, nothing is copied per request.
struct Encoded {
    identity: Bytes,
    gzip: Option<Bytes>,
    br: Option<Bytes>,
    etag: String,
    content_type: &'static str,
}

impl Encoded {
    fn new(name: &str, data: Cow<'static, [u8]>, hash: [u8; 32], effort: Effort) -> Encoded {
        let content_type = content_type(name);
        let worth = compressible(content_type) && data.len() >= 1024;
        // Kept only when smaller: an already dense file is sent as it is.
        let smaller = |packed: Vec<u8>| (packed.len() < data.len()).then(|| Bytes::from(packed));
        let (gzip, br) = match worth {
            true => (smaller(gzip(&data, effort)), smaller(brotli(&data, effort))),
            false => (None, None),
        };
        // Embedded (release) files are borrowed from the binary; files read from disk (debug) are owned.
        let identity = match data {
            Cow::Borrowed(bytes) => Bytes::from_static(bytes),
            Cow::Owned(bytes) => Bytes::from(bytes),
        };
        Encoded { identity, gzip, br, etag: hex::encode(&hash[..16]), content_type }
    }
}

/// The compressed files, by name and key (the content hash of an embedded file, which in debug builds changes on disk
/// while the console runs; the path, size and time of a directory's). Each cell is filled once: concurrent first
/// requests for a file wait for the one compression. A file seen with a new key drops its older ones.
type Cache = Mutex<HashMap<(String, [u8; 32]), Arc<tokio::sync::OnceCell<Arc<Encoded>>>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

async fn serve_file(frontend: &Arc<Frontend>, req: &HttpRequest, name: &str, cache_control: &'static str) -> Option<HttpResponse> {
    // Names come from the URL: only plain relative paths inside the build reach rust-embed (which reads the disk in
    // debug builds).
    let plain = !name.is_empty() && !name.contains('\\') && name.split('/').all(|part| !part.is_empty() && part != "." && part != "..");
    if !plain {
        return None;
    }
    let encoded = cached(frontend, name).await??;
    Some(respond(req, &encoded, cache_control))
}

/// The file `name` of the front-end, compressed: `None` when there is no such file, `Some(None)` when it could not
/// be read (gone since it was found) or the blocking pool is gone (the server is stopping).
async fn cached(frontend: &Arc<Frontend>, name: &str) -> Option<Option<Arc<Encoded>>> {
    let located = match **frontend {
        Frontend::Embedded => frontend.file(name)?,
        // A directory's file is looked up on disk: off the async workers, as its reading is.
        Frontend::Dir(_) => {
            let (frontend, owned) = (frontend.clone(), name.to_owned());
            web::block(move || frontend.file(&owned)).await.ok()??
        }
    };
    let hash = located.key;
    let cell = {
        // The lock is held only to look the cell up, never while compressing.
        let mut map = cache().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (name.to_owned(), hash);
        if !map.contains_key(&key) {
            map.retain(|(other, _), _| other != name);
        }
        map.entry(key).or_default().clone()
    };
    let owned = name.to_owned();
    let effort = match located.body {
        Body::Embedded(_) => Effort::Best,
        Body::Path(_) => Effort::Fast,
    };
    let encode = move || located.body.read().map(|data| Arc::new(Encoded::new(&owned, data, hash, effort)));
    let encoded = cell
        .get_or_try_init(|| async move {
            match web::block(encode).await {
                Ok(Ok(encoded)) => Ok(encoded),
                _ => Err(()),
            }
        })
        .await;
    Some(encoded.ok().cloned())
}

fn respond(req: &HttpRequest, file: &Encoded, cache_control: &'static str) -> HttpResponse {
    let accepts = accepted(req);
    let (encoding, body) = match (&file.br, &file.gzip) {
        (Some(br), _) if accepts.br => (Some("br"), br),
        (_, Some(gz)) if accepts.gzip => (Some("gzip"), gz),
        _ => (None, &file.identity),
    };
    // One tag per representation, as HTTP wants for strong validators; a tag of any of them names the same content.
    let etag = match encoding {
        Some(e) => format!("\"{}-{e}\"", file.etag),
        None => format!("\"{}\"", file.etag),
    };
    let fresh = if_none_match(req, |tag| tag.strip_prefix('"').is_some_and(|t| t.starts_with(&file.etag)));
    let mut response = match fresh {
        true => HttpResponse::NotModified(),
        false => HttpResponse::Ok(),
    };
    response.insert_header((header::CACHE_CONTROL, cache_control)).insert_header((header::ETAG, etag));
    if file.gzip.is_some() || file.br.is_some() {
        response.insert_header((header::VARY, HeaderValue::from_static("accept-encoding")));
    }
    if fresh {
        return response.finish();
    }
    if let Some(encoding) = encoding {
        response.insert_header((header::CONTENT_ENCODING, encoding));
    }
    response.content_type(file.content_type).body(body.clone())
}

/// `If-None-Match` holds `*` or a tag `matches` accepts (weak tags compared weakly, as RFC 9110 says for it).
fn if_none_match(req: &HttpRequest, matches: impl Fn(&str) -> bool) -> bool {
    let values = req.headers().get_all(header::IF_NONE_MATCH).filter_map(|v| v.to_str().ok());
    let mut tags = values.flat_map(|v| v.split(',')).map(|t| t.trim().trim_start_matches("W/"));
    tags.any(|tag| tag == "*" || matches(tag))
}

#[derive(Debug, Default, PartialEq)]
struct Accepts {
    br: bool,
    gzip: bool,
}

/// The encodings `Accept-Encoding` allows (a `q=0` refuses one; `*` allows both).
fn accepted(req: &HttpRequest) -> Accepts {
    let values = req.headers().get_all(header::ACCEPT_ENCODING).filter_map(|v| v.to_str().ok());
    parse_accept_encoding(values.flat_map(|v| v.split(',')))
}

fn parse_accept_encoding<'a>(items: impl Iterator<Item = &'a str>) -> Accepts {
    let mut accepts = Accepts::default();
    let mut star = None;
    let (mut br, mut gzip) = (None, None);
    for item in items {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts.filter_map(|p| p.trim().strip_prefix("q=")).next().and_then(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
        match coding.as_str() {
            "br" => br = Some(q > 0.0),
            "gzip" | "x-gzip" => gzip = Some(q > 0.0),
            "*" => star = Some(q > 0.0),
            _ => {}
        }
    }
    accepts.br = br.or(star).unwrap_or(false);
    accepts.gzip = gzip.or(star).unwrap_or(false);
    accepts
}

fn gzip(data: &[u8], effort: Effort) -> Vec<u8> {
    let level = match effort {
        Effort::Best => flate2::Compression::best(),
        Effort::Fast => flate2::Compression::default(),
    };
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), level);
    // Writing into a Vec cannot fail.
    encoder.write_all(data).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// Brotli at its best quality for the usual bundle sizes; above 1 MiB a lower quality keeps the first request of a
/// large file (speedscope's wasm) within a second or so. Fast: quality 5, within a few percent of 9 on scripts.
fn brotli(data: &[u8], effort: Effort) -> Vec<u8> {
    let quality = match (effort, data.len() <= 1024 * 1024) {
        (Effort::Fast, _) => 5,
        (Effort::Best, true) => 11,
        (Effort::Best, false) => 9,
    };
    let mut out = Vec::with_capacity(data.len() / 4);
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, quality, 22);
        // Writing into a Vec cannot fail.
        writer.write_all(data).expect("brotli into memory");
    }
    out
}

fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn compressible(content_type: &str) -> bool {
    let textual = content_type.starts_with("text/") || content_type.starts_with("application/json");
    textual || matches!(content_type, "application/wasm" | "application/manifest+json" | "image/svg+xml" | "image/x-icon" | "font/ttf")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_routes_are_everything_but_the_servers_paths_and_files() {
        for path in ["/", "/signin", "/apps", "/app/3/instance", "/app/3/files", "/admin", "/admin/users", "/xapis"] {
            assert!(is_client_route(path), "{path}");
        }
        for path in [
            "/xapi",
            "/xapi/nope",
            "/file/download",
            "/dashboard/x",
            "/assets/x-abc.js",
            "/assets",
            "/speedscope/index.html",
            "/public/devtools/new/devtools_app.html",
            "/openapi.json",
            "/metrics",
            "/healthz",
            "/readyz",
            "/favicon.ico",
            "/app/3/x.map",
        ] {
            assert!(!is_client_route(path), "{path}");
        }
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let parse = |v: &str| parse_accept_encoding(v.split(','));
        assert_eq!(parse("gzip, deflate, br, zstd"), Accepts { br: true, gzip: true });
        assert_eq!(parse("gzip"), Accepts { br: false, gzip: true });
        assert_eq!(parse("br;q=0, gzip;q=0.5"), Accepts { br: false, gzip: true });
        assert_eq!(parse("*"), Accepts { br: true, gzip: true });
        assert_eq!(parse("*;q=0, br"), Accepts { br: true, gzip: false });
        assert_eq!(parse("identity"), Accepts::default());
        assert_eq!(parse(""), Accepts::default());
    }

    #[test]
    fn content_types_include_wasm_and_module_scripts() {
        assert_eq!(content_type("speedscope/demangle.123.wasm"), "application/wasm");
        assert_eq!(content_type("assets/index-abc123.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("assets/index-abc123.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("assets/LICENSE"), "application/octet-stream");
        assert!(compressible(content_type("x.wasm")) && !compressible(content_type("x.woff2")) && !compressible(content_type("x.png")));
    }

    #[test]
    fn a_file_keeps_only_the_encodings_that_make_it_smaller() {
        let text = "function f() { return 42; }\n".repeat(200).into_bytes();
        let file = Encoded::new("assets/a.js", Cow::Owned(text.clone()), [7; 32], Effort::Best);
        let br = file.br.as_ref().expect("text compresses");
        assert!(br.len() < text.len() && file.gzip.is_some());
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut br.as_ref(), &mut back).unwrap();
        assert_eq!(back, text);
        let small = Encoded::new("assets/a.js", Cow::Borrowed(b"x"), [7; 32], Effort::Best);
        assert!(small.br.is_none() && small.gzip.is_none());
        // xorshift noise: nothing to compress
        let mut x = 0x2545_f491_u32;
        let dense: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let noise = Encoded::new("assets/a.wasm", Cow::Owned(dense), [7; 32], Effort::Best);
        assert!(noise.br.is_none() && noise.gzip.is_none());
    }
}
