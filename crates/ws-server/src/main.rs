//! The ws-server binary: settings from the environment, JSON logs, serve until SIGTERM.

use common::settings::Service;
use common::Settings;
use ws_server::startup::Application;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_process_env()?;
    settings.check_for(Service::WsServer)?;
    common::telemetry::init(&settings.log);
    settings.log_startup("ws-server");
    return_freed_memory_periodically();
    let app = Application::build(settings).await?;
    app.run_until_stopped().await?;
    Ok(())
}

/// Every agent's log frames (8–10 KB each, once a minute) pass through short-lived buffers spread over the whole
/// heap, between the small long-lived allocations of every connection. glibc only gives back free memory at the top
/// of a heap, so the pages freed in between stay resident; `malloc_trim` returns whole free pages anywhere in every
/// arena. Twice a minute costs a heap walk of a few milliseconds.
fn return_freed_memory_periodically() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    std::thread::Builder::new()
        .name("malloc-trim".into())
        .spawn(|| loop {
            std::thread::sleep(std::time::Duration::from_secs(30));
            // SAFETY: malloc_trim only takes the allocator's own locks; it is safe to call from any thread.
            unsafe { libc::malloc_trim(0) };
        })
        .expect("a thread can be started at startup");
}
