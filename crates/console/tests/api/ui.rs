//! The web UI as the console serves it: client routes answer `index.html` (or, without a built UI, the sign-in page
//! saying how to build it), API misses the JSON envelope, asset misses a plain 404; the base path in `<base href>`;
//! year-long caching of hashed files, `no-cache` for `index.html`; brotli and gzip by `Accept-Encoding`; ETags.
//!
//! Tests that need the built UI (`crates/console/web/dist/index.html`) print why and return when it is missing,
//! unless `EZM_UI_REQUIRED=1` (set by `deploy/local/test.sh` after it builds the UI): then they fail.

use std::io::Read;
use std::path::{Path, PathBuf};

use console::routes::ui::HOW_TO_BUILD;
use serde_json::Value;

use crate::helpers::TestApp;

const CLIENT_ROUTES: &[&str] = &["/", "/signin", "/apps", "/app/3/instance", "/app/3/files?type=cpuprofile", "/admin/users"];

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist")
}

/// The build folder when the UI is built; else `None` after saying so (or a failure under `EZM_UI_REQUIRED=1`).
fn built_ui(test: &str) -> Option<PathBuf> {
    let index = dist().join("index.html");
    if index.exists() {
        return Some(dist());
    }
    let required = std::env::var("EZM_UI_REQUIRED").is_ok_and(|v| v == "1");
    assert!(!required, "EZM_UI_REQUIRED=1 but {} is missing; build the UI: {HOW_TO_BUILD}", index.display());
    eprintln!("{test}: skipped, the web UI is not built ({} is missing; {HOW_TO_BUILD})", index.display());
    None
}

/// The largest script under `assets/`: big enough to be compressed.
fn largest_script(dist: &Path) -> String {
    let mut scripts: Vec<(u64, String)> = std::fs::read_dir(dist.join("assets"))
        .expect("the build has assets/")
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".js"))
        .map(|e| (e.metadata().unwrap().len(), e.file_name().to_string_lossy().into_owned()))
        .collect();
    scripts.sort();
    let (size, name) = scripts.pop().expect("the build has a script under assets/");
    assert!(size >= 1024, "assets/{name} is {size} bytes, too small to be compressed");
    name
}

async fn get(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

#[tokio::test]
async fn api_misses_answer_the_json_envelope_and_server_paths_a_plain_404() {
    let app = TestApp::start().await;
    let base = &app.console.base;
    for path in ["/xapi/nope", "/xapi", "/xapi/app/3/instance"] {
        let response = get(&format!("{base}{path}"), &[]).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(header(&response, "content-type").starts_with("application/json"), "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!((body["ok"].as_bool(), body["code"].as_u64()), (Some(false), Some(404)), "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains(path)), "{path}: {body}");
    }
    let plain = [
        "/assets/nope.js",
        "/assets/nope",
        "/assets",
        "/speedscope/nope.html",
        "/speedscope/",
        "/file/nope",
        "/dashboard/nope",
        "/public/devtools/new/devtools_app.html",
        "/openapi.json/x",
        "/metrics/x",
        "/healthz/x",
        "/favicon-nope.ico",
        "/app/3/nope.map",
        "/assets/../index.html",
        "/assets/%2e%2e/index.html",
    ];
    for path in plain {
        let response = get(&format!("{base}{path}"), &[]).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(header(&response, "content-type").starts_with("text/plain"), "{path}: {}", header(&response, "content-type"));
    }
    // A client route only answers reads.
    let response = reqwest::Client::new().delete(format!("{base}/apps")).send().await.unwrap();
    assert!(matches!(response.status().as_u16(), 403 | 404), "{}", response.status());
    app.finish().await;
}

#[tokio::test]
async fn client_routes_serve_the_ui_or_without_it_the_sign_in_page() {
    let app = TestApp::start().await;
    let built = built_ui("client_routes_serve_the_ui_or_without_it_the_sign_in_page");
    for path in CLIENT_ROUTES {
        let response = get(&format!("{}{path}", app.console.base), &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8", "{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains(r#"<base href="/""#), "{path}: {body}");
        match &built {
            Some(dist) => {
                let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
                assert_eq!(body, index, "{path}: the built index.html (base path /)");
            }
            None => {
                let how = HOW_TO_BUILD.replace('&', "&amp;");
                assert!(body.contains(&how) && body.contains("fetch('xapi/signin'"), "{path}: {body}");
            }
        }
    }
    let response = get(&format!("{}/app/3/instance", app.console.base), &[]).await;
    let cache = header(&response, "cache-control").to_owned();
    match built {
        Some(_) => {
            assert_eq!(cache, "no-cache");
            let etag = header(&response, "etag").to_owned();
            assert!(etag.starts_with('"'), "{etag}");
            let again = get(&format!("{}/apps", app.console.base), &[("if-none-match", &etag)]).await;
            assert_eq!(again.status(), 304);
            assert!(again.bytes().await.unwrap().is_empty());
            // Files at the top of the build (a favicon) are not hashed: served, revalidated on every use.
            let dist = dist();
            let top = std::fs::read_dir(&dist).unwrap().map(|e| e.unwrap()).filter(|e| e.file_type().unwrap().is_file());
            for name in top.map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n != "index.html" && !n.starts_with('.')) {
                let response = get(&format!("{}/{name}", app.console.base), &[]).await;
                assert_eq!((response.status().as_u16(), header(&response, "cache-control")), (200, "no-cache"), "{name}");
                assert_eq!(response.bytes().await.unwrap(), std::fs::read(dist.join(&name)).unwrap(), "{name}");
            }
        }
        None => assert_eq!(cache, "no-store"),
    }
    app.finish().await;
}

#[tokio::test]
async fn the_base_path_is_written_into_the_pages_base_href() {
    let app = TestApp::start_with(&[("EZM__CONSOLE__BASE_PATH", "/ezm/")]).await;
    for path in ["/", "/app/3/instance"] {
        let body = get(&format!("{}{path}", app.console.base), &[]).await.text().await.unwrap();
        assert!(body.contains(r#"<base href="/ezm/""#) && !body.contains(r#"<base href="/""#), "{path}: {body}");
    }
    if let Some(dist) = built_ui("the_base_path_is_written_into_the_pages_base_href") {
        let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
        assert!(index.contains(r#"<base href="/""#), "the built index.html holds the placeholder <base href=\"/\">");
        let body = get(&format!("{}/apps", app.console.base), &[]).await.text().await.unwrap();
        assert_eq!(body, index.replacen(r#"<base href="/""#, r#"<base href="/ezm/""#, 1));
    }
    app.finish().await;
}

#[tokio::test]
async fn hashed_assets_are_immutable_for_a_year_and_sent_compressed_with_etags() {
    let Some(dist) = built_ui("hashed_assets_are_immutable_for_a_year_and_sent_compressed_with_etags") else {
        return;
    };
    // What release builds do at start-up: every file compressed once, before any request asks.
    console::routes::ui::warm(std::sync::Arc::new(console::frontend::Frontend::Embedded)).await;
    let app = TestApp::start().await;
    let name = largest_script(&dist);
    let original = std::fs::read(dist.join("assets").join(&name)).unwrap();
    let url = format!("{}/assets/{name}", app.console.base);

    let plain = get(&url, &[]).await;
    assert_eq!(plain.status(), 200);
    assert_eq!(header(&plain, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&plain, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(header(&plain, "vary"), "accept-encoding");
    assert_eq!(header(&plain, "content-encoding"), "");
    assert!(plain.headers().get("set-cookie").is_none(), "no CSRF cookie on a response shared caches keep");
    let etag = header(&plain, "etag").to_owned();
    assert_eq!(plain.bytes().await.unwrap(), original);

    let gzipped = get(&url, &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&gzipped, "content-encoding"), "gzip");
    let gzip_etag = header(&gzipped, "etag").to_owned();
    let packed = gzipped.bytes().await.unwrap();
    assert!(packed.len() < original.len());
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut unpacked).unwrap();
    assert_eq!(unpacked, original);

    let brotli = get(&url, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
    assert_eq!(header(&brotli, "content-encoding"), "br");
    assert_eq!(header(&brotli, "vary"), "accept-encoding");
    let br_etag = header(&brotli, "etag").to_owned();
    let packed = brotli.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    brotli::BrotliDecompress(&mut &packed[..], &mut unpacked).unwrap();
    assert_eq!(unpacked, original);
    assert!(etag != gzip_etag && gzip_etag != br_etag && etag != br_etag, "one tag per encoding");

    for (tag, accept) in [(&etag, ""), (&br_etag, "br"), (&gzip_etag, "gzip")] {
        let again = get(&url, &[("if-none-match", tag), ("accept-encoding", accept)]).await;
        assert_eq!(again.status(), 304, "{tag}");
        assert_eq!(header(&again, "etag"), tag.as_str());
        assert_eq!(header(&again, "cache-control"), "public, max-age=31536000, immutable");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let other = get(&url, &[("if-none-match", "\"0123\"")]).await;
    assert_eq!(other.status(), 200);

    // The bundled speedscope, when the build has it: immutable too, and its wasm typed for streaming compilation.
    let speedscope = dist.join("speedscope");
    let wasm =
        std::fs::read_dir(&speedscope).into_iter().flatten().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).find(|n| n.ends_with(".wasm"));
    match wasm {
        Some(wasm) => {
            let response = get(&format!("{}/speedscope/{wasm}", app.console.base), &[]).await;
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, "content-type"), "application/wasm");
            assert_eq!(header(&response, "cache-control"), "public, max-age=31536000, immutable");
            // Its page keeps its name across speedscope versions: revalidated, never immutable.
            let page = get(&format!("{}/speedscope/index.html", app.console.base), &[("accept-encoding", "br")]).await;
            assert_eq!((page.status().as_u16(), header(&page, "cache-control")), (200, "no-cache"));
            assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        }
        None => eprintln!("no .wasm under {}: speedscope's files not checked", speedscope.display()),
    }
    app.finish().await;
}

/// The original xui bundle as shipped (`app/view/index.html` + `app/public/**`, an xprofiler-console tree).
pub fn original_bundle() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/xprofiler-console-1.0.5-ui");
    assert!(dir.join("app/view/index.html").is_file(), "the original bundle's fixture is at {}", dir.display());
    dir
}

#[tokio::test]
async fn a_front_end_from_ui_dir_is_served_behind_the_basic_challenge() {
    let bundle = original_bundle();
    let app = TestApp::start_with(&[("EZM__CONSOLE__UI_DIR", bundle.to_str().unwrap()), ("EZM__CONSOLE__BASIC_CHALLENGE", "true")]).await;
    let base = &app.console.base;
    let basic = format!("Basic {}", base64_of(&format!("{}:{}", crate::helpers::ADMIN, crate::helpers::PASSWORD)));

    // Without a session or credentials: the original's browser prompt, on the page and on the API.
    for path in ["/", "/xapi/user", "/xapi/apps?type=myApps"] {
        let response = get(&format!("{base}{path}"), &[]).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(header(&response, "www-authenticate"), r#"Basic realm="easy-monitor""#, "{path}");
    }
    let wrong = format!("Basic {}", base64_of(&format!("{}:nope", crate::helpers::ADMIN)));
    let response = get(&format!("{base}/"), &[("authorization", &wrong)]).await;
    assert_eq!((response.status().as_u16(), header(&response, "www-authenticate")), (401, r#"Basic realm="easy-monitor""#));

    // With credentials: the bundle's page and its files, as the original served them.
    let response = get(&format!("{base}/"), &[("authorization", &basic)]).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert_eq!(page, std::fs::read_to_string(bundle.join("app/view/index.html")).unwrap(), "the bundle's page as it is");
    for (path, file, content_type) in [
        ("/public/js/app.70f7431b.js", "app/public/js/app.70f7431b.js", "text/javascript"),
        ("/public/css/app.31883326.css", "app/public/css/app.31883326.css", "text/css"),
        ("/favicon.ico", "app/public/favicon.ico", "image/x-icon"),
        ("/public/speedscope/flamegraph.html", "app/public/speedscope/flamegraph.html", "text/html"),
    ] {
        let response = get(&format!("{base}{path}"), &[("accept-encoding", "gzip")]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(header(&response, "content-type").starts_with(content_type), "{path}: {}", header(&response, "content-type"));
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}: revalidated, the names need not be hashed");
        let gzip = header(&response, "content-encoding") == "gzip";
        let bytes = response.bytes().await.unwrap().to_vec();
        let body = match gzip {
            true => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
                out
            }
            false => bytes,
        };
        assert_eq!(body, std::fs::read(bundle.join(file)).unwrap(), "{path}");
    }
    for path in ["/public/js/nope.js", "/app/view/index.html", "/public/", "/js/app.70f7431b.js"] {
        assert_eq!(get(&format!("{base}{path}"), &[]).await.status(), 404, "{path}");
    }

    // The session sign-in keeps working beside it: its page, a refusal without the browser's prompt, a session.
    let response = get(&format!("{base}/signin"), &[]).await;
    assert_eq!(response.status(), 200, "the sign-in page stays open");
    let response = reqwest::Client::new()
        .post(format!("{base}/xapi/signin"))
        .header("cookie", "csrfToken=t")
        .header("x-csrf-token", "t")
        .json(&serde_json::json!({"name": crate::helpers::ADMIN, "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!((response.status().as_u16(), header(&response, "www-authenticate")), (401, ""), "a failed sign-in form is not challenged");
    let client = app.sign_in(crate::helpers::ADMIN, crate::helpers::PASSWORD).await;
    let response = client.request(reqwest::Method::GET, "/").send().await.unwrap();
    assert_eq!(response.status(), 200, "a session opens the page");
    app.finish().await;
}

#[tokio::test]
async fn a_ui_dir_without_a_page_stops_the_console_with_its_name() {
    let empty = std::env::temp_dir().join(format!("ezm-ui-dir-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let env = common::testing::TestEnv::new(&[("EZM__CONSOLE__UI_DIR", empty.to_str().unwrap())]).await;
    let error = console::Application::build(env.settings.clone()).await.err().expect("the console refuses to start").to_string();
    assert!(error.contains("console.ui_dir") && error.contains(empty.to_str().unwrap()), "{error}");
    std::fs::remove_dir_all(&empty).unwrap();
    env.finish().await;
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
