//! A real headless Chromium, driven over the DevTools protocol (a WebSocket on loopback, spoken
//! here with the standard library only), for testing the pages hch writes: load a page, collect
//! its JavaScript errors, evaluate expressions, move and wheel the mouse.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A Chromium process and a DevTools session on its page; killed on drop.
#[derive(Debug)]
pub struct Browser {
    child: Child,
    ws: TcpStream,
    next_id: u64,
    /// Events received so far (`Runtime.exceptionThrown`, `Runtime.consoleAPICalled`, ...).
    pub events: Vec<Value>,
    profile: PathBuf,
}

/// The Chromium on this machine (`chromium`, `chromium-browser`, `google-chrome`), if any.
pub fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "headless_shell",
    ];
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

impl Browser {
    /// Starts Chromium headless with a fresh profile and attaches to its page.
    pub fn launch(exe: &Path) -> Browser {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let profile = crate::scratch_dir("chromium").join(format!("{}-{n}", std::process::id()));
        let mut child = Command::new(exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1400,1000",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", exe.display()));
        let port = devtools_port(&mut child);
        let page = page_socket(port);
        let ws = connect(port, &page);
        Browser {
            child,
            ws,
            next_id: 0,
            events: Vec::new(),
            profile,
        }
    }

    /// Sends a command and waits for its answer (events meanwhile go to `events`).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        send(&mut self.ws, msg.as_bytes());
        loop {
            let v: Value = serde_json::from_slice(&receive(&mut self.ws)).expect("CDP sends JSON");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {}", v["error"]);
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Loads a page and waits for its load event.
    pub fn open(&mut self, url: &str) {
        self.call("Runtime.enable", json!({}));
        self.call("Page.enable", json!({}));
        self.call("Log.enable", json!({}));
        self.call("Page.navigate", json!({ "url": url }));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self
            .events
            .iter()
            .any(|e| e["method"] == "Page.loadEventFired")
        {
            assert!(Instant::now() < deadline, "no load event for {url}");
            let v: Value = serde_json::from_slice(&receive(&mut self.ws)).unwrap();
            self.events.push(v);
        }
    }

    /// The value of a JavaScript expression (JSON-serializable results only).
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true }),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expr}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Moves the mouse to a point of the viewport.
    pub fn mouse_move(&mut self, x: f64, y: f64) {
        let p = json!({ "type": "mouseMoved", "x": x, "y": y });
        self.call("Input.dispatchMouseEvent", p);
    }

    /// Turns the wheel at a point (negative `dy` zooms in on most pages).
    pub fn wheel(&mut self, x: f64, y: f64, dy: f64) {
        let p = json!({ "type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": dy });
        self.call("Input.dispatchMouseEvent", p);
    }

    /// JavaScript exceptions and console errors the page produced.
    pub fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e["method"].as_str() {
                Some("Runtime.exceptionThrown") => {
                    Some(e["params"]["exceptionDetails"].to_string())
                }
                Some("Runtime.consoleAPICalled") if e["params"]["type"] == "error" => {
                    Some(e["params"]["args"].to_string())
                }
                Some("Log.entryAdded") if e["params"]["entry"]["level"] == "error" => {
                    Some(e["params"]["entry"].to_string())
                }
                _ => None,
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Reads Chromium's stderr up to `DevTools listening on ws://127.0.0.1:PORT/...`.
fn devtools_port(child: &mut Child) -> u16 {
    let err = child.stderr.take().expect("stderr piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("ws://").nth(1) {
                let _ = tx.send(rest.to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("Chromium announces its DevTools port");
    let port = addr.split('/').next().and_then(|h| h.rsplit(':').next());
    port.and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("DevTools address {addr}"))
}

/// The WebSocket path of the first page target (`/json/list`).
fn page_socket(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = http_get(port, "/json/list");
        let list: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let page = list.as_array().and_then(|l| {
            l.iter()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                .map(str::to_string)
        });
        if let Some(url) = page {
            return url
                .split_once(&format!(":{port}"))
                .map_or(url.clone(), |(_, p)| p.to_string());
        }
        assert!(Instant::now() < deadline, "no page target: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to DevTools");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    // The answer has a Content-Length, and the server may keep the connection open.
    let mut r = BufReader::new(s);
    let mut len = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len.min(16 << 20)];
    let _ = r.read_exact(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}

/// Opens the WebSocket (RFC 6455 handshake; the accept key is not checked on loopback).
fn connect(port: u16, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to DevTools");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: aGNoLWppdC10ZXN0LWtleQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).expect("WebSocket handshake");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "handshake: {head}");
    s
}

/// Sends one masked text frame.
fn send(s: &mut TcpStream, payload: &[u8]) {
    let mut frame = vec![0x81u8];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mask = [0x5a, 0x17, 0xc3, 0x9e];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&frame).expect("send to DevTools");
}

/// Receives one message (frames joined until FIN).
fn receive(s: &mut TcpStream) -> Vec<u8> {
    let mut msg = Vec::new();
    loop {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).expect("a frame from DevTools");
        let len = match h[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                s.read_exact(&mut b).unwrap();
                u16::from_be_bytes(b) as usize
            }
            127 => {
                let mut b = [0u8; 8];
                s.read_exact(&mut b).unwrap();
                u64::from_be_bytes(b) as usize
            }
            n => n as usize,
        };
        assert!(len < 256 << 20, "a DevTools frame of {len} bytes");
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).unwrap();
        assert_ne!(h[0] & 0x0f, 8, "DevTools closed the connection");
        msg.extend_from_slice(&body);
        if h[0] & 0x80 != 0 {
            return msg;
        }
    }
}
