//! The HTTP side, on hyper directly rather than axum: a fault must be able to close a
//! connection without any response, or after half a body, which a framework that always
//! answers cannot do. One accept loop on a loopback port, one task per connection (keep-alive).

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::service::{Delivery, State};

/// A response body: whole, or cut off after its first part.
#[derive(Debug)]
pub(crate) enum SimBody {
    Whole(Option<Bytes>),
    /// The first part, then an error that makes hyper close the connection mid-body.
    Cut(Option<Bytes>),
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(match self.get_mut() {
            SimBody::Whole(part) => part.take().map(|b| Ok(Frame::data(b))),
            SimBody::Cut(part) => match part.take() {
                Some(b) => Some(Ok(Frame::data(b))),
                None => Some(Err(std::io::Error::other("truncated by the simulator"))),
            },
        })
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, SimBody::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Whole(Some(b)) => SizeHint::with_exact(b.len() as u64),
            SimBody::Whole(None) => SizeHint::with_exact(0),
            SimBody::Cut(_) => SizeHint::default(),
        }
    }
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the simulator")
    }
}

impl std::error::Error for Dropped {}

async fn read_body(mut body: Incoming) -> Result<Vec<u8>, hyper::Error> {
    let mut out = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The test's own routes under [`ADMIN_PREFIX`], beside AWS's: `PUT /_sim/roles` adds or
/// replaces an explicit role (the [`Role`](super::Role) JSON: ARN, trust policy, denied actions),
/// so a script can change a customer's role between two syncs; `GET /_sim/stats` answers the
/// counters ([`SimStats`](super::SimStats)). They are neither counted nor throttled, and the
/// simulator only listens on loopback.
fn admin(state: &State, method: &hyper::Method, path: &str, body: &[u8]) -> (u16, String) {
    match (method.as_str(), path) {
        ("PUT", "/_sim/roles") => match serde_json::from_slice::<super::Role>(body) {
            Ok(role) => match state.directory.add_role(role) {
                Ok(()) => (200, r#"{"ok":true}"#.to_owned()),
                Err(e) => (400, serde_json::json!({ "error": format!("arn: {e}") }).to_string()),
            },
            Err(e) => (400, serde_json::json!({ "error": format!("role: {e}") }).to_string()),
        },
        ("GET", "/_sim/stats") => (200, serde_json::to_string(&state.stats.snapshot()).unwrap_or_default()),
        _ => (404, serde_json::json!({ "error": format!("no route {method} {path}") }).to_string()),
    }
}

/// Where [`admin`]'s routes live.
pub(crate) const ADMIN_PREFIX: &str = "/_sim/";

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<SimBody>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = read_body(body).await.map_err(|_| Dropped)?;
    if parts.uri.path().starts_with(ADMIN_PREFIX) {
        let (status, text) = admin(&state, &parts.method, parts.uri.path(), &body);
        let bytes = Bytes::from(text);
        return Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("content-length", bytes.len())
            .body(SimBody::Whole(Some(bytes)))
            .map_err(|_| Dropped);
    }
    let _in_flight = state.stats.enter();
    let outcome = state.answer(&parts.headers, &body);
    if !outcome.delay.is_zero() {
        tokio::time::sleep(outcome.delay).await;
    }
    if outcome.delivery == Delivery::Dropped {
        return Err(Dropped);
    }
    let bytes = Bytes::from(outcome.reply.body);
    let length = bytes.len();
    let body = match outcome.delivery {
        Delivery::Truncated => SimBody::Cut(Some(bytes.slice(..length / 2))),
        _ => SimBody::Whole(Some(bytes)),
    };
    let content_type = if outcome.reply.json { "application/x-amz-json-1.1" } else { "text/xml" };
    let date = time::OffsetDateTime::from(state.now())
        .format(time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap_or_default();
    Response::builder()
        .status(outcome.reply.status)
        .header("content-type", content_type)
        .header("content-length", length)
        .header("x-amzn-requestid", outcome.request_id)
        .header("date", date)
        .body(body)
        .map_err(|_| Dropped)
}

/// Serves on `listener` until `shutdown` fires.
pub(crate) async fn serve(
    state: Arc<State>,
    listener: tokio::net::TcpListener,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let mut http = http1::Builder::new();
    http.auto_date_header(false).keep_alive(true);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, most likely: let connections finish rather than spin.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return,
        };
        stream.set_nodelay(true).ok();
        let state = state.clone();
        let http = http.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            // Errors here are clients going away or the simulator dropping on purpose.
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Binds `127.0.0.1:port` (0: any free port).
pub(crate) async fn bind(port: u16) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}
