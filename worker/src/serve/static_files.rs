//! `--static-dir`: the onboarding page's files, and nothing else on the machine.
//!
//! tower-http's `ServeDir` refuses `..` but follows symlinks wherever they point and serves
//! dotfiles (`.git/`, `.env`). Each request's path is checked here first ([`resolve`]): after
//! percent-decoding, no segment may start with '.', contain a backslash or NUL, and the file it
//! names, with every symlink resolved, must lie inside the folder. Anything else is a 404
//! indistinguishable from a missing file; what passes is handed to `ServeDir` unchanged.

use std::convert::Infallible;
use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// `ServeDir` behind the path check; use it as the router's fallback service.
#[derive(Debug, Clone)]
pub(crate) struct StaticFiles {
    root: Arc<PathBuf>,
    inner: ServeDir,
}

/// Serves `dir`, which is canonicalized once now (so a later rename of a parent does not widen
/// what is served).
pub(crate) fn service(dir: PathBuf) -> anyhow::Result<StaticFiles> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("--static-dir {}: the folder cannot be opened", dir.display()))?;
    if !root.is_dir() {
        anyhow::bail!("--static-dir {}: not a folder", dir.display());
    }
    Ok(StaticFiles { inner: ServeDir::new(&root), root: Arc::new(root) })
}

/// The file `request_path` (a URL path, still percent-encoded) names inside `root` (canonical),
/// with symlinks resolved, or `None` when it must not be served. For a folder, `ServeDir` serves
/// its `index.html`, so that file is checked too.
///
/// Between this check and `ServeDir` opening the file a symlink could be swapped; the folder
/// belongs to the operator, and what this guards against is links and dotfiles already in it
/// (a checked-out repository, a build output with a stray link).
pub(crate) fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    // Decoded exactly as ServeDir decodes it, so both see the same segments.
    let decoded = percent_decode_str(request_path.trim_start_matches('/')).decode_utf8().ok()?;
    let mut candidate = root.to_path_buf();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') || segment.contains(['\\', '\0']) {
            return None;
        }
        candidate.push(segment);
    }
    let target = inside(root, &candidate)?;
    if target.is_dir() {
        let index = target.join("index.html");
        if index.symlink_metadata().is_ok() {
            inside(root, &index)?;
        }
    }
    Some(target)
}

/// `path` with symlinks resolved, if it exists and lies inside `root` without passing through a
/// dotfile (a link named `public` that points at `.git` is refused too).
fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let target = path.canonicalize().ok()?;
    let relative = target.strip_prefix(root).ok()?;
    let hidden = relative.components().any(|c| match c {
        Component::Normal(name) => name.to_string_lossy().starts_with('.'),
        _ => true,
    });
    (!hidden).then_some(target)
}

fn not_found() -> Response {
    let body = serde_json::json!({ "error": { "field": null, "message": "no such file" } });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

impl tower::Service<Request<Body>> for StaticFiles {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if resolve(&self.root, request.uri().path()).is_none() {
            return Box::pin(async { Ok(not_found()) });
        }
        let inner = self.inner.clone();
        Box::pin(async move {
            let response = inner.oneshot(request).await?;
            Ok(response.map(Body::new))
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// root/{index.html, a.txt, .env, .git/config, sub/b.txt, in → sub/b.txt, out → ../secret,
    /// outdir → ../outside/, git → .git, leaky/index.html → ../secret}, and a secret beside it.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("leaky")).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        for (path, text) in [
            ("root/index.html", "<p>hi</p>"),
            ("root/a.txt", "a"),
            ("root/.env", "TOKEN=x"),
            ("root/.git/config", "[core]"),
            ("root/sub/b.txt", "b"),
            ("secret", "secret"),
            ("outside/c.txt", "c"),
        ] {
            std::fs::write(dir.path().join(path), text).unwrap();
        }
        symlink(root.join("sub/b.txt"), root.join("in")).unwrap();
        symlink(dir.path().join("secret"), root.join("out")).unwrap();
        symlink(dir.path().join("outside"), root.join("outdir")).unwrap();
        symlink(root.join(".git"), root.join("git")).unwrap();
        symlink(dir.path().join("secret"), root.join("leaky/index.html")).unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn only_files_inside_the_folder_resolve() {
        let (_dir, root) = tree();
        for path in ["/", "/a.txt", "/sub/b.txt", "/sub//b.txt", "/in", "/%61.txt", "/sub/"] {
            assert!(resolve(&root, path).is_some(), "{path} is served");
        }
        assert_eq!(resolve(&root, "/in"), Some(root.join("sub/b.txt")));
        for path in [
            "/.env",
            "/%2eenv",
            "/%2Eenv",
            "/.git/config",
            "/sub/%2E%2E/a.txt",
            "/%2e%2e/secret",
            "/../secret",
            "/./a.txt",
            "/out",
            "/outdir/c.txt",
            "/git/config",
            "/leaky/",
            "/sub\\b.txt",
            "/sub%5cb.txt",
            "/a.txt%00",
            "/%ff",
            "/missing.txt",
        ] {
            assert_eq!(resolve(&root, path), None, "{path} is refused");
        }
    }

    #[tokio::test]
    async fn the_service_serves_inside_and_answers_404_otherwise() {
        let (_dir, root) = tree();
        let files = service(root).unwrap();
        let get = |path: &str| {
            let files = files.clone();
            let request = Request::get(path).body(Body::empty()).unwrap();
            async move {
                let response = files.oneshot(request).await.unwrap();
                let status = response.status();
                let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
                (status, String::from_utf8_lossy(&body).into_owned())
            }
        };
        assert_eq!(get("/a.txt").await, (StatusCode::OK, "a".to_owned()));
        assert_eq!(get("/").await, (StatusCode::OK, "<p>hi</p>".to_owned()));
        for path in ["/out", "/.env", "/%2e%2e/secret"] {
            let (status, body) = get(path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(body, r#"{"error":{"field":null,"message":"no such file"}}"#, "{path}");
        }
        assert!(service(PathBuf::from("/nonexistent/static")).is_err());
    }
}
