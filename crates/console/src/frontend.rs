//! The front-end the console serves at `/`: the web UI embedded in the binary (built from `crates/console/web`), or
//! a build an operator keeps in a directory (`console.ui_dir`), such as a customised build of the original xui.
//!
//! Files are asked for by their URL path without the leading `/` (`public/js/app.js`). A directory is one of two
//! layouts, told apart by its files:
//! - a build with `index.html` at its top: every file is served at its path below the directory;
//! - an xprofiler-console tree, as xui builds into it: `app/view/index.html` is the page, `app/public/**` is served
//!   at `/public/**`, and `app/public/favicon.ico` also at `/favicon.ico` (the original's static rules).
//!
//! Our speedscope (`speedscope/…`) stays served from the embedded build when the directory has none, so the
//! speedscope launcher has a viewer to send a front-end without one to.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

#[derive(rust_embed::RustEmbed)]
#[folder = "web/dist/"]
#[exclude = ".gitignore"]
// Vite's manifest (for the bundle budget check), not for browsers.
#[exclude = ".vite/*"]
#[allow_missing = true]
struct Dist;

/// The page every client route gets.
pub const INDEX: &str = "index.html";

pub enum Frontend {
    Embedded,
    Dir(DirLayout),
}

/// Where a directory's files are: its page, and the URL prefixes it serves with the file or folder behind each.
pub struct DirLayout {
    root: PathBuf,
    index: PathBuf,
    /// `("public/", dir)` serves `public/x` from `dir/x`; a prefix without a trailing `/` is one file.
    mounts: Vec<(&'static str, PathBuf)>,
}

/// One file of the front-end: an identity for caches and ETags (the content's hash for embedded files; for a
/// directory's, a hash of its path, size and modification time, so that asking does not read it), and its body.
pub struct Located {
    pub key: [u8; 32],
    pub body: Body,
}

pub enum Body {
    Embedded(Cow<'static, [u8]>),
    /// Read when needed ([`Body::read`], on the blocking pool).
    Path(PathBuf),
}

impl Body {
    pub fn read(self) -> std::io::Result<Cow<'static, [u8]>> {
        match self {
            Body::Embedded(data) => Ok(data),
            Body::Path(path) => std::fs::read(path).map(Cow::Owned),
        }
    }
}

impl Frontend {
    /// The embedded UI, or the directory `ui_dir` when it is set; an error names what a directory lacks.
    pub fn from_setting(ui_dir: &str) -> anyhow::Result<Frontend> {
        if ui_dir.trim().is_empty() {
            return Ok(Frontend::Embedded);
        }
        Ok(Frontend::Dir(DirLayout::of(Path::new(ui_dir))?))
    }

    /// What operators and logs call it.
    pub fn describe(&self) -> String {
        match self {
            Frontend::Embedded if Dist::get(INDEX).is_some() => "embedded web UI".to_owned(),
            Frontend::Embedded => "embedded web UI (not built: the sign-in page only)".to_owned(),
            Frontend::Dir(layout) => format!("front-end from {} (page {})", layout.root.display(), layout.index.display()),
        }
    }

    /// True when the front-end has its page (the embedded UI may not be built).
    pub fn has_index(&self) -> bool {
        match self {
            Frontend::Embedded => Dist::get(INDEX).is_some(),
            Frontend::Dir(_) => true,
        }
    }

    /// The page, read now (it is small and changes with a new build).
    pub fn index(&self) -> Option<Cow<'static, [u8]>> {
        match self {
            Frontend::Embedded => Dist::get(INDEX).map(|f| f.data),
            Frontend::Dir(layout) => std::fs::read(&layout.index).ok().map(Cow::Owned),
        }
    }

    /// The file served at `name`, when the front-end has one there. `name` is a plain relative path (no `..`).
    pub fn file(&self, name: &str) -> Option<Located> {
        match self {
            Frontend::Embedded => embedded(name),
            Frontend::Dir(layout) => layout.file(name).or_else(|| name.starts_with("speedscope/").then(|| embedded(name)).flatten()),
        }
    }

    /// True when the front-end serves a file at `name` (the launchers ask for the viewers it ships).
    pub fn has(&self, name: &str) -> bool {
        self.file(name).is_some()
    }

    /// The names of every embedded file but the page (for compressing them ahead); none for a directory.
    pub fn embedded_names(&self) -> Vec<String> {
        match self {
            Frontend::Embedded => Dist::iter().filter(|name| name != INDEX).map(Cow::into_owned).collect(),
            Frontend::Dir(_) => Vec::new(),
        }
    }
}

fn embedded(name: &str) -> Option<Located> {
    let file = Dist::get(name)?;
    Some(Located { key: file.metadata.sha256_hash(), body: Body::Embedded(file.data) })
}

impl DirLayout {
    fn of(root: &Path) -> anyhow::Result<DirLayout> {
        let root = root.to_path_buf();
        let xprofiler_console = root.join("app/view/index.html");
        if xprofiler_console.is_file() && root.join("app/public").is_dir() {
            let public = root.join("app/public");
            let favicon = public.join("favicon.ico");
            return Ok(DirLayout { index: xprofiler_console, mounts: vec![("public/", public), ("favicon.ico", favicon)], root });
        }
        let index = root.join(INDEX);
        if index.is_file() {
            return Ok(DirLayout { index, mounts: vec![("", root.clone())], root });
        }
        anyhow::bail!("console.ui_dir {}: neither {INDEX} at its top nor app/view/index.html with app/public/ (an xprofiler-console tree)", root.display())
    }

    fn file(&self, name: &str) -> Option<Located> {
        let path = self.mounts.iter().find_map(|(prefix, target)| match prefix.ends_with('/') || prefix.is_empty() {
            true => name.strip_prefix(prefix).filter(|rest| !rest.is_empty()).map(|rest| target.join(rest)),
            false => (name == *prefix).then(|| target.clone()),
        })?;
        if path == self.index {
            return None;
        }
        let metadata = std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
        let modified = metadata.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or_default();
        let mut hash = Sha256::new();
        hash.update(path.as_os_str().as_encoded_bytes());
        hash.update(metadata.len().to_le_bytes());
        hash.update(modified.to_le_bytes());
        Some(Located { key: hash.finalize().into(), body: Body::Path(path) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of `files` (each holding its own name), removed when dropped.
    struct Tree(PathBuf);

    impl Tree {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tree(files: &[&str]) -> Tree {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = Tree(std::env::temp_dir().join(format!("ezm-frontend-{}-{n}", std::process::id())));
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file.as_bytes()).unwrap();
        }
        dir
    }

    #[test]
    fn an_xprofiler_console_tree_serves_public_and_the_favicon() {
        let dir = tree(&["app/view/index.html", "app/public/js/app.js", "app/public/favicon.ico", "app/public/devtools/new/devtools_app.html"]);
        let frontend = Frontend::from_setting(dir.path().to_str().unwrap()).unwrap();
        assert_eq!(&*frontend.index().unwrap(), b"app/view/index.html");
        assert!(frontend.has("public/js/app.js") && frontend.has("favicon.ico") && frontend.has("public/favicon.ico"));
        assert!(frontend.has("public/devtools/new/devtools_app.html") && !frontend.has("public/devtools/old/devtools_app.html"));
        for missing in ["app/view/index.html", "js/app.js", "public/", "public/js", "index.html"] {
            assert!(!frontend.has(missing), "{missing}");
        }
    }

    #[test]
    fn a_build_with_its_page_at_the_top_serves_every_file_but_the_page() {
        let dir = tree(&["index.html", "assets/a.js", "favicon.ico"]);
        let frontend = Frontend::from_setting(dir.path().to_str().unwrap()).unwrap();
        assert_eq!(&*frontend.index().unwrap(), b"index.html");
        assert!(frontend.has("assets/a.js") && frontend.has("favicon.ico"));
        assert!(!frontend.has("index.html") && !frontend.has("assets") && !frontend.has("nope.js"));
        let file = frontend.file("assets/a.js").unwrap();
        assert_eq!(&*file.body.read().unwrap(), b"assets/a.js");
    }

    #[test]
    fn a_changed_file_gets_another_key() {
        let dir = tree(&["index.html", "a.js"]);
        let frontend = Frontend::from_setting(dir.path().to_str().unwrap()).unwrap();
        let before = frontend.file("a.js").unwrap().key;
        std::fs::write(dir.path().join("a.js"), b"a longer body").unwrap();
        assert_ne!(frontend.file("a.js").unwrap().key, before);
    }

    #[test]
    fn a_directory_without_a_page_is_refused_by_name() {
        let dir = tree(&["assets/a.js"]);
        let error = Frontend::from_setting(dir.path().to_str().unwrap()).err().unwrap().to_string();
        assert!(error.contains("console.ui_dir") && error.contains("index.html"), "{error}");
        assert!(matches!(Frontend::from_setting("").unwrap(), Frontend::Embedded));
    }
}
