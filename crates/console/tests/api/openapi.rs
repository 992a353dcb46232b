//! The OpenAPI document names every API route of the table, with its parameters, and none of the web UI's pages.

use console::routes::ROUTES;
use serde_json::Value;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_document_lists_every_route_with_its_parameters() {
    let app = TestApp::start().await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", app.console.base)).await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true), "{doc}");
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        match route.api {
            true => assert!(op.is_object(), "{} {} is missing from the document", route.method, route.path),
            false => assert!(op.is_null(), "{} {} is a page of the web UI, not the API", route.method, route.path),
        }
    }
    let pages: Vec<&str> = ROUTES.iter().filter(|r| !r.api).map(|r| r.path).collect();
    assert_eq!(pages, ["/", "/signin", "/assets/{file:.+}", "/speedscope/{file:.+}"], "only the UI's routes are left out");
    let count: usize = doc["paths"].as_object().unwrap().values().map(|item| item.as_object().unwrap().len()).sum();
    assert_eq!(count, ROUTES.len() - pages.len(), "one operation per API route");
    // `console --print-openapi` prints the same document (the web UI's types are generated from it).
    assert_eq!(serde_json::to_value(console::routes::openapi::document()).unwrap(), doc);
    let trend = &doc["paths"]["/xapi/process_trend"]["get"]["parameters"];
    let names: Vec<&str> = trend.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["appId", "agentId", "pid", "trendType", "duration"], "{trend}");
    let body = &doc["paths"]["/xapi/app"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["required"], serde_json::json!(["newAppName"]), "{body}");
    app.finish().await;
}

#[test]
fn the_binary_prints_the_document_without_settings_or_stores() {
    // No environment at all: no database, no Redis, no settings are read.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_console")).arg("--print-openapi").env_clear().output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, serde_json::to_value(console::routes::openapi::document()).unwrap());
}
