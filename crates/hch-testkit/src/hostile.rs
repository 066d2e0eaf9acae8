//! Hostile JMX servers on 127.0.0.1, for the deadline and length-cap tests: plain
//! `TcpListener` threads that speak just enough JRMP to get the client where they want it,
//! then send one byte every 200 ms for as long as the client listens, or announce a huge
//! length. Shared by hch-jmx's fault tests and hch's CLI tests.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// How often a trickling server sends its next byte.
pub const TRICKLE: Duration = Duration::from_millis(200);

/// A ProtocolAck that announces a `host_len`-byte host name, without the name.
pub fn ack_head(host_len: u16) -> Vec<u8> {
    let mut v = vec![0x4e];
    v.extend(host_len.to_be_bytes());
    v
}

/// A whole ProtocolAck: the client seen as 127.0.0.1, port 40000.
pub fn ack() -> Vec<u8> {
    let mut v = ack_head(9);
    v.extend(b"127.0.0.1");
    v.extend(40000i32.to_be_bytes());
    v
}

/// The head of a normal Return (stream header, block data with type 1 and a UID), then the
/// start of a 65,535-byte string whose bytes are still to come.
pub fn return_head() -> Vec<u8> {
    let mut v = vec![0x51, 0xac, 0xed, 0x00, 0x05, 0x77, 0x0f, 0x01];
    v.extend([0u8; 14]);
    v.extend([0x74, 0xff, 0xff]);
    v
}

/// Serves one connection: reads the client's 7-byte hello, sends `first`; if `then_read`,
/// reads what the client sends next (its endpoint and first call); then sends `trickle`, one
/// byte per [`TRICKLE`], over and over until the client hangs up. Returns the port.
pub fn serve(first: Vec<u8>, then_read: bool, trickle: Vec<u8>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let mut hello = [0u8; 7];
        if s.read_exact(&mut hello).is_err() || s.write_all(&first).is_err() {
            return;
        }
        if then_read {
            drain(&mut s);
        }
        for b in trickle.iter().cycle() {
            std::thread::sleep(TRICKLE);
            if s.write_all(&[*b]).is_err() {
                return;
            }
        }
        // Nothing to trickle: stay silent until the client gives up.
        std::thread::sleep(Duration::from_secs(30));
    });
    port
}

// Reads whatever the client sends within half a second.
fn drain(s: &mut TcpStream) {
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

/// A server that trickles the host name of its ProtocolAck (200 bytes announced).
pub fn trickling_handshake() -> u16 {
    serve(ack_head(200), false, b"x".to_vec())
}

/// A server that acks properly, then trickles the reply to the registry lookup.
pub fn trickling_reply() -> u16 {
    let mut first = ack();
    first.extend(return_head());
    serve(first, true, b"a".to_vec())
}

/// A server whose ProtocolAck announces a 65,535-byte host name, then goes silent.
pub fn huge_host_name() -> u16 {
    serve(ack_head(0xffff), false, Vec::new())
}

/// A server whose lookup reply announces a string of 2^40 bytes, then goes silent.
pub fn huge_string() -> u16 {
    let mut first = ack();
    let mut head = return_head();
    head.truncate(head.len() - 3);
    head.push(0x7c);
    head.extend((1u64 << 40).to_be_bytes());
    first.extend(head);
    serve(first, true, Vec::new())
}
