//! Faulty servers: a replay of real captured bytes, cut or corrupted, from a socket on
//! 127.0.0.1, and hostile servers that trickle bytes or announce huge lengths. Each fault must
//! end in a clear error, quickly (within the deadline), without a panic.

use hch_testkit::hostile;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use hch_jmx::{Client, ConnectOptions, Error};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

// The captured server side of a JDK 17 session: ack at 0..16, lookup Return at 16..243.
fn captured_s2c() -> Vec<u8> {
    std::fs::read(format!("{DATA}/jdk17-attr.stream0.s2c.bin")).unwrap()
}

// Serves one connection like a JVM would, with `reply` as its side: the first 16 bytes (the
// ProtocolAck) after the client's hello, the rest after the client's first call; then it
// lingers and closes.
fn serve(reply: Vec<u8>, linger: Duration) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut hello = [0u8; 7];
        let _ = s.read_exact(&mut hello);
        let (ack, rest) = reply.split_at(reply.len().min(16));
        let _ = s.write_all(ack);
        // The client's endpoint (15 bytes) and its lookup call (50 bytes).
        let mut call = [0u8; 65];
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let _ = s.read_exact(&mut call);
        let _ = s.write_all(rest);
        std::thread::sleep(linger);
    });
    port
}

fn connect(port: u16) -> Error {
    let opts = ConnectOptions {
        timeout: Duration::from_secs(2),
        ..ConnectOptions::default()
    };
    Client::connect("127.0.0.1", port, &opts).unwrap_err()
}

// Whether `e` is the deadline of `doing` on 127.0.0.1:`port`, with a budget of 2 s.
fn is_timeout(e: &Error, port: u16, doing: &str) -> bool {
    let endpoint = format!("127.0.0.1:{port}");
    matches!(e, Error::Timeout { endpoint: ep, doing: d, deadline, .. }
        if *ep == endpoint && d.contains(doing) && *deadline == Duration::from_secs(2))
}

#[test]
fn server_closes_mid_reply() {
    let reply = captured_s2c()[..16 + 100].to_vec();
    let e = connect(serve(reply, Duration::ZERO));
    assert!(
        matches!(&e, Error::Io { context, .. } if context.contains("closed the connection mid-reply after 100 bytes")),
        "{e}"
    );
}

#[test]
fn reply_that_is_not_what_it_claims() {
    // A Return whose value starts with an unknown type code.
    let mut reply = captured_s2c()[..243].to_vec();
    reply[16 + 1 + 4 + 2 + 15] = 0x6f;
    let e = connect(serve(reply, Duration::ZERO));
    assert!(
        matches!(&e, Error::Malformed { what, .. } if what.contains("unknown type code 0x6f")),
        "{e}"
    );

    // A string where the registry's stub belongs.
    let mut reply = captured_s2c()[..16 + 22].to_vec();
    reply.extend([0x74, 0x00, 0x02, b'h', b'i']);
    let e = connect(serve(reply, Duration::ZERO));
    assert!(
        matches!(
            &e,
            Error::UnexpectedValue {
                expected: "an RMI stub",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn not_a_jrmp_server() {
    let e = connect(serve(
        b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
        Duration::ZERO,
    ));
    assert!(
        matches!(&e, Error::NotJrmp { hint, .. } if hint.contains("0x48")),
        "{e}"
    );
}

#[test]
fn silent_server_times_out() {
    let t = Instant::now();
    let port = serve(Vec::new(), Duration::from_secs(5));
    let e = connect(port);
    assert!(is_timeout(&e, port, "JRMP handshake"), "{e}");
    assert!(e.to_string().contains("within the 2s deadline"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

/// A server that sends its ProtocolAck's host name one byte every 200 ms: each byte would
/// reset a per-read timeout, but the handshake's deadline holds.
#[test]
fn trickling_handshake_hits_the_deadline() {
    let t = Instant::now();
    let port = hostile::trickling_handshake();
    let e = connect(port);
    assert!(is_timeout(&e, port, "the JRMP handshake"), "{e}");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

/// The same during a reply: the registry lookup's Return arrives one byte every 200 ms.
#[test]
fn trickling_reply_hits_the_deadline() {
    let t = Instant::now();
    let port = hostile::trickling_reply();
    let e = connect(port);
    assert!(
        is_timeout(&e, port, "the call Registry.lookup(jmxrmi)"),
        "{e}"
    );
    assert!(matches!(&e, Error::Timeout { got, .. } if *got > 20), "{e}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

/// Announced lengths above the caps are refused at once, not awaited.
#[test]
fn huge_announced_lengths_are_refused_at_once() {
    let t = Instant::now();
    let e = connect(hostile::huge_host_name());
    assert!(
        matches!(
            &e,
            Error::TooLong {
                what: "bytes of host name",
                claimed: 65535,
                limit: 255,
                ..
            }
        ),
        "{e}"
    );
    let e = connect(hostile::huge_string());
    assert!(
        matches!(&e, Error::TooLong { what: "bytes of string", claimed, .. } if *claimed == 1 << 40),
        "{e}"
    );
    assert!(
        e.to_string().contains("1099511627776 bytes of string"),
        "{e}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn huge_claimed_length_is_not_allocated() {
    // A Return whose value claims a 2 GB byte[]: refused by the length cap, not allocated.
    let mut reply = captured_s2c()[..16 + 22].to_vec();
    reply.extend([
        0x75, 0x72, 0x00, 0x02, b'[', b'B', 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0x78, 0x70,
    ]);
    reply.extend(0x7fff_ffffu32.to_be_bytes());
    let e = connect(serve(reply, Duration::from_secs(1)));
    assert!(
        matches!(
            &e,
            Error::TooLong {
                what: "bytes of byte array",
                claimed: 0x7fff_ffff,
                ..
            }
        ),
        "{e}"
    );
}

// Points the stubs in captured replies at `port` (the capture's server listened on 19917).
fn repoint(mut b: Vec<u8>, port: u16) -> Vec<u8> {
    let mut pat = vec![0x00, 0x09];
    pat.extend(b"127.0.0.1");
    pat.extend(19917u32.to_be_bytes());
    let mut i = 0;
    while let Some(at) = b[i..].windows(pat.len()).position(|w| w == pat) {
        let p = i + at + pat.len() - 4;
        b[p..p + 4].copy_from_slice(&u32::from(port).to_be_bytes());
        i = p + 4;
    }
    b
}

/// A session that logs in, then gets a reply cut short by a silent server: that call times
/// out, and the connection refuses further calls instead of parsing from the middle of a reply.
#[test]
fn connection_is_unusable_after_a_failed_reply() {
    let s2c = captured_s2c();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (lookup, new_client) = (
        repoint(s2c[16..243].to_vec(), port),
        repoint(s2c[532..763].to_vec(), port),
    );
    let cut = s2c[1136..1160].to_vec(); // the first 24 bytes of the VmVersion reply
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut hello = [0u8; 7];
        s.read_exact(&mut hello).unwrap();
        for part in [&s2c[..16], &lookup[..], &new_client[..], &cut[..]] {
            s.write_all(part).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(3));
    });
    let opts = ConnectOptions {
        timeout: Duration::from_secs(1),
        ..ConnectOptions::default()
    };
    let mut c = Client::connect("127.0.0.1", port, &opts).unwrap();
    let e = c
        .get_attribute("java.lang:type=Runtime", "VmVersion")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Timeout { doing, got: 24, .. } if doing == "the call getAttribute VmVersion"),
        "{e}"
    );
    let e = c
        .get_attribute("java.lang:type=Runtime", "VmVersion")
        .unwrap_err();
    assert!(
        matches!(&e, Error::Io { context, .. } if context.contains("failed earlier")),
        "{e}"
    );
}

/// A TLS server that announces a 16 kB handshake record and trickles it: the TLS handshake
/// has the same deadline, and the error says it was the TLS handshake (not a plain port).
#[test]
fn trickling_tls_handshake_hits_the_deadline() {
    let t = Instant::now();
    let port = hostile::serve(vec![0x16, 0x03, 0x03, 0x40, 0x00], false, vec![0x01]);
    let opts = ConnectOptions {
        timeout: Duration::from_secs(2),
        tls_insecure: true,
        ..ConnectOptions::default()
    };
    let e = Client::connect("127.0.0.1", port, &opts).unwrap_err();
    assert!(is_timeout(&e, port, "the TLS handshake"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}
