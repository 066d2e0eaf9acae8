//! A small HTTP/1.1 server for metrics (`hch watch --listen` and `hch exporter`):
//! hyper on a one-thread tokio runtime of its own, serving connections concurrently, each
//! bounded in time and size so that a slow or hostile client cannot stall the others.
//!
//! Paths: `/metrics` (the handler's text) and `/healthz` (`ok`); anything else is 404.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};

/// Produces the metrics text, once per scrape.
pub type Handler = Arc<dyn Fn() -> String + Send + Sync>;

/// The metrics path.
pub const METRICS_PATH: &str = "/metrics";
/// The health path: `ok` while the server runs.
pub const HEALTH_PATH: &str = "/healthz";
/// The text format that `crate::metrics` writes.
const METRICS_TYPE: &str = crate::metrics::CONTENT_TYPE;
/// Plain text, for the health check and errors.
const TEXT_TYPE: &str = "text/plain; charset=utf-8";

/// Time and size bounds of every connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The whole request head (request line and headers) must arrive within this time.
    pub header_read: Duration,
    /// Longest a connection stays open, keep-alive included; then it is closed gracefully.
    pub lifetime: Duration,
    /// After a graceful close starts, how long a response may still take to be written.
    pub close_grace: Duration,
    /// Read buffer of a connection: a larger request head is refused (hyper's floor: 8 KiB).
    pub max_head: usize,
    /// Connections served at once; newer ones are closed at once rather than queued.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            lifetime: Duration::from_secs(60),
            close_grace: Duration::from_secs(5),
            max_head: 16 << 10,
            max_connections: 256,
        }
    }
}

/// A running server; dropping it stops it and closes its connections.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// The address actually bound (a port 0 request gets a real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds `addr` now (so a taken port is reported at once) and serves `/metrics` from
/// `handler` and `/healthz` on a background thread until the returned [`Server`] is dropped.
pub fn serve(addr: &str, handler: Handler) -> anyhow::Result<Server> {
    serve_with(addr, handler, Limits::default())
}

/// [`serve`] with explicit limits.
pub fn serve_with(addr: &str, handler: Handler, limits: Limits) -> anyhow::Result<Server> {
    let std_listener = std::net::TcpListener::bind(addr)
        .with_context(|| format!("cannot listen on {addr}; pick another address or port"))?;
    std_listener.set_nonblocking(true)?;
    let local = std_listener.local_addr()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("starting the HTTP server's runtime")?;
    let listener = {
        let _in_runtime = rt.enter();
        TcpListener::from_std(std_listener)?
    };
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("hch-http".into())
        .spawn(move || rt.block_on(accept_loop(listener, handler, limits, stopped)))
        .context("starting the HTTP server's thread")?;
    Ok(Server {
        addr: local,
        stop: Some(stop),
        thread: Some(thread),
    })
}

// Accepts until told to stop; each connection is its own task, so none waits for another.
async fn accept_loop(
    listener: TcpListener,
    handler: Handler,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else {
            // Out of descriptors, say: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // Over the cap the new connection is dropped (closed) at once.
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            continue;
        };
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            connection(stream, handler, limits).await;
            drop(slot);
        });
    }
}

// One connection: hyper bounds the head's time and size; the lifetime bounds everything else
// (a client that never reads its response, keep-alive forever).
async fn connection(stream: TcpStream, handler: Handler, limits: Limits) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req: Request<Incoming>| {
        let response = respond(&req, &handler);
        async move { Ok::<_, Infallible>(response) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_buf_size(limits.max_head)
        .serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = tokio::time::sleep(limits.lifetime) => conn.as_mut().graceful_shutdown(),
    }
    let _ = tokio::time::timeout(limits.close_grace, conn).await;
}

// The metrics, the health check, or 404 (405 for another method on a known path).
fn respond(req: &Request<Incoming>, handler: &Handler) -> Response<Full<Bytes>> {
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let (status, body) = match req.uri().path() {
        METRICS_PATH if get => (StatusCode::OK, handler()),
        HEALTH_PATH if get => (StatusCode::OK, "ok\n".to_string()),
        METRICS_PATH | HEALTH_PATH => (StatusCode::METHOD_NOT_ALLOWED, "use GET\n".to_string()),
        _ => (
            StatusCode::NOT_FOUND,
            format!("not found: try {METRICS_PATH} or {HEALTH_PATH}\n"),
        ),
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    let kind = if status == StatusCode::OK && req.uri().path() == METRICS_PATH {
        METRICS_TYPE
    } else {
        TEXT_TYPE
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::Instant;

    fn start(limits: Limits) -> Server {
        let handler: Handler = Arc::new(|| "hch_test_metric 1\n".to_string());
        serve_with("127.0.0.1:0", handler, limits).unwrap()
    }

    // Sends a raw request and returns the whole answer (the server closes after it).
    fn raw(s: &Server, request: &[u8]) -> String {
        let mut c = std::net::TcpStream::connect(s.local_addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = c.write_all(request);
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn get(s: &Server, path: &str) -> String {
        raw(
            s,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
    }

    #[test]
    fn metrics_health_and_404() {
        let s = start(Limits::default());
        let m = get(&s, "/metrics");
        assert!(m.starts_with("HTTP/1.1 200 OK\r\n"), "{m}");
        assert!(m.contains("content-type: text/plain; version=0.0.4"), "{m}");
        assert!(m.ends_with("\r\n\r\nhch_test_metric 1\n"), "{m}");
        assert!(get(&s, "/healthz").ends_with("\r\n\r\nok\n"));
        assert!(get(&s, "/").starts_with("HTTP/1.1 404"));
        assert!(get(&s, "/metrics/x").starts_with("HTTP/1.1 404"));
        let post = raw(
            &s,
            b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    }

    /// Clients that send nothing, or a byte a second, do not delay another client's scrape.
    #[test]
    fn slow_clients_do_not_block_a_scrape() {
        let s = start(Limits::default());
        let _silent: Vec<_> = (0..3)
            .map(|_| std::net::TcpStream::connect(s.local_addr()).unwrap())
            .collect();
        let mut dribbler = std::net::TcpStream::connect(s.local_addr()).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let t = std::thread::spawn(move || {
            for b in b"GET /metrics HTTP/1.1\r\n".iter().cycle() {
                if flag.load(std::sync::atomic::Ordering::Relaxed)
                    || dribbler.write_all(&[*b]).is_err()
                {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        std::thread::sleep(Duration::from_millis(1500));
        let t0 = Instant::now();
        let m = get(&s, "/metrics");
        let took = t0.elapsed();
        assert!(m.ends_with("hch_test_metric 1\n"), "{m}");
        assert!(took < Duration::from_millis(500), "{took:?}");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        t.join().unwrap();
    }

    /// A request head of 1 MB is refused (431), and the server keeps serving.
    #[test]
    fn huge_headers_are_refused() {
        let s = start(Limits::default());
        let mut req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n".to_vec();
        while req.len() < 1 << 20 {
            req.extend(
                b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
            );
        }
        req.extend(b"\r\n");
        let answer = raw(&s, &req);
        assert!(!answer.contains("200 OK"), "{answer}");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
            "{answer}"
        );
        assert!(get(&s, "/metrics").ends_with("hch_test_metric 1\n"));
    }

    /// A client that never finishes its head is disconnected after the header deadline.
    #[test]
    fn a_silent_client_is_closed_at_the_header_deadline() {
        let s = start(Limits {
            header_read: Duration::from_millis(500),
            ..Limits::default()
        });
        let mut c = std::net::TcpStream::connect(s.local_addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
        let t0 = Instant::now();
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        let took = t0.elapsed();
        assert!(!String::from_utf8_lossy(&out).contains("200 OK"));
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    /// Connections past the cap are closed at once; the server stops when dropped.
    #[test]
    fn connection_cap_and_stop() {
        let s = start(Limits {
            max_connections: 2,
            ..Limits::default()
        });
        let _held: Vec<_> = (0..2)
            .map(|_| std::net::TcpStream::connect(s.local_addr()).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(get(&s, "/metrics"), "");
        let addr = s.local_addr();
        drop(s);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
