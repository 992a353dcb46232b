//! The console binary: settings from the environment, JSON logs, serve until SIGTERM. `console --print-openapi`
//! prints the OpenAPI document and exits, without settings, database or Redis (the web UI generates its API types
//! from it).

use common::settings::Service;
use common::Settings;
use console::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("--print-openapi") {
        println!("{}", serde_json::to_string_pretty(&console::routes::openapi::document())?);
        return Ok(());
    }
    let settings = Settings::from_process_env()?;
    settings.check_for(Service::Console)?;
    common::telemetry::init(&settings.log);
    settings.log_startup("console");
    Application::build(settings).await?.run_until_stopped().await?;
    Ok(())
}
