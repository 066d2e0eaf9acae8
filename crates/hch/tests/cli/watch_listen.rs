//! `hch watch --listen`: the metrics of the watch loop over HTTP, served concurrently, so
//! that clients that send nothing or a byte a second do not hold up a scrape; oversized
//! request heads are refused; `/healthz` answers and other paths are 404.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hch_testkit::Launch;

use crate::codecache_support as support;

// One request with `Connection: close`; the whole answer.
fn request(addr: &str, head: &[u8]) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = c.write_all(head);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn get(addr: &str, path: &str) -> String {
    request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

// The address from `serving Prometheus metrics on http://ADDR/metrics`; stderr is drained
// on a thread afterwards so the child never blocks on it.
fn served_address(stderr: impl Read + Send + 'static) -> String {
    let mut lines = BufReader::new(stderr).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("serving Prometheus metrics on http://")
                .and_then(|r| r.strip_suffix("/metrics"))
                .map(str::to_string)
        })
        .expect("the serving line");
    std::thread::spawn(move || lines.for_each(drop));
    addr
}

#[test]
fn slow_clients_do_not_hold_up_a_scrape() {
    let jdk = hch_testkit::require_jdks().pop().unwrap();
    let t = support::start(&jdk, "Park", Launch::args(["0", "2"]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hch"))
        .args([
            "watch",
            &t.spec,
            "--every",
            "500ms",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = served_address(child.stderr.take().unwrap());

    // Wait for the first snapshot's metrics.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !get(&addr, "/metrics").contains("hch_codeheap_used_bytes{target=\"") {
        assert!(Instant::now() < deadline, "no metrics from the watch loop");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Three silent clients and one that sends a byte a second.
    let _silent: Vec<_> = (0..3).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    let mut dribbler = TcpStream::connect(&addr).unwrap();
    std::thread::spawn(move || {
        for b in b"GET /metrics HTTP/1.1\r\nX: ".iter().cycle() {
            if dribbler.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = Instant::now();
    let m = get(&addr, "/metrics");
    let took = t0.elapsed();
    assert!(m.starts_with("HTTP/1.1 200 OK"), "{m}");
    assert!(m.contains("hch_codeheap_max_bytes"), "{m}");
    assert!(took < Duration::from_millis(500), "{took:?}");

    assert!(get(&addr, "/healthz").ends_with("\r\n\r\nok\n"));
    assert!(get(&addr, "/other").starts_with("HTTP/1.1 404"));
    let mut huge = b"GET /metrics HTTP/1.1\r\nHost: x\r\n".to_vec();
    while huge.len() < 1 << 20 {
        huge.extend(b"X-Filler: 0123456789012345678901234567890123456789\r\n");
    }
    huge.extend(b"\r\n");
    let answer = request(&addr, &huge);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );

    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
