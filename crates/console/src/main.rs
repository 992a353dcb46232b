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
    return_large_buffers_when_freed();
    let settings = Settings::from_process_env()?;
    settings.check_for(Service::Console)?;
    common::telemetry::init(&settings.log);
    settings.log_startup("console");
    Application::build(settings).await?.run_until_stopped().await?;
    Ok(())
}

/// A sign-in hashes with argon2id (19 MiB of memory each) on the blocking pool, and glibc raises its mmap threshold
/// after the first such buffer is freed, so the later ones come from the threads' heap arenas and stay resident
/// there: 200 sign-ins left the console at ~620 MB. A fixed threshold (which turns the raising off) makes every
/// buffer of 1 MiB or more its own mapping, given back when freed.
fn return_large_buffers_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets one of the allocator's parameters, under the allocator's own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
