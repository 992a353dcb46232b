//! Rebuilds the console when the web UI's build output changes, in release builds (which embed `web/dist/`):
//! `rust-embed` names the files it embeds, but a file added to the folder would otherwise go unnoticed. Debug
//! builds read the folder at run time and need no rebuild.

fn main() {
    match std::env::var("PROFILE").as_deref() {
        Ok("release") => println!("cargo:rerun-if-changed=web/dist"),
        _ => println!("cargo:rerun-if-changed=build.rs"),
    }
}
