//! One JRMP connection over TCP or TLS: the handshake, and calls whose replies are read exactly
//! as far as the sans-IO parser says it needs, each exchange under one overall deadline and the
//! reply under a size cap.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rustls::ClientConfig;

use crate::deadline::{Deadline, Timed};
use crate::error::{Error, Result};
use crate::jrmp::{self, Return};
use crate::tls::{self, TlsStream};

/// The largest reply accepted; a `readStream` chunk is 50 kB, `Compiler.codelist` a few MB.
const MAX_REPLY: usize = 256 << 20;

enum Stream {
    Plain(Timed),
    Tls(Box<TlsStream>),
}

impl Stream {
    // The socket under TLS or not, whose deadline bounds every read and write.
    fn sock(&mut self) -> &mut Timed {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &mut s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

// One JRMP connection: a socket and the bytes read but not yet parsed.
pub(crate) struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pub(crate) endpoint: String,
    pub(crate) tls: bool,
    /// The deadline of each exchange: connect with handshakes, one call with its reply.
    budget: Duration,
    /// What the current exchange does, for messages (`the JRMP handshake`).
    doing: String,
    /// Why the stream is out of step (a reply cut short or unparseable); no call may follow.
    broken: Option<String>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("endpoint", &self.endpoint)
            .field("tls", &self.tls)
            .field("budget", &self.budget)
            .finish()
    }
}

/// `host:port`, with an IPv6 address in brackets.
pub(crate) fn endpoint(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Conn {
    /// Connects, runs the TLS and JRMP handshakes, all within one `budget`.
    pub(crate) fn open(
        host: &str,
        port: u16,
        tls: Option<Arc<ClientConfig>>,
        budget: Duration,
    ) -> Result<Conn> {
        let endpoint = endpoint(host, port);
        let deadline = Deadline::after(budget);
        let sock = Timed::new(tcp_connect(host, port, deadline, &endpoint)?, deadline);
        let is_tls = tls.is_some();
        let stream = match tls {
            None => Stream::Plain(sock),
            Some(cfg) => Stream::Tls(Box::new(
                tls::connect(sock, host, cfg).map_err(|e| tls_error(&endpoint, deadline, e))?,
            )),
        };
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            endpoint,
            tls: is_tls,
            budget,
            doing: "the JRMP handshake".into(),
            broken: None,
        };
        conn.handshake()?;
        Ok(conn)
    }

    // JRMI hello, the server's ack, then our endpoint as the server saw us.
    fn handshake(&mut self) -> Result<()> {
        self.send(&jrmp::HANDSHAKE)?;
        let (seen, len) = loop {
            match jrmp::parse_protocol_ack(&self.buf, &self.endpoint) {
                Err(Error::Incomplete { needed, .. }) => self.fill(needed)?,
                other => break other?,
            }
        };
        self.buf.drain(..len);
        self.send(&jrmp::client_endpoint(&seen.host))
    }

    // Starts an exchange: a fresh deadline for everything until the next one.
    fn begin(&mut self, doing: String) {
        self.doing = doing;
        self.stream
            .sock()
            .set_deadline(Deadline::after(self.budget));
    }

    /// Sends bytes within the current exchange's deadline.
    pub(crate) fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let r = self
            .stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush());
        r.map_err(|e| self.io_error(e, "sending to"))
    }

    /// Sends a Call and parses its Return, reading as much as the parser says is missing; the
    /// whole exchange has one deadline. `what` names the call for messages.
    pub(crate) fn call(&mut self, msg: &[u8], has_value: bool, what: &str) -> Result<Return> {
        if let Some(why) = &self.broken {
            let context = format!(
                "{}: the connection failed earlier ({why}); connect again",
                self.endpoint
            );
            return Err(Error::Io {
                context,
                source: io::ErrorKind::NotConnected.into(),
            });
        }
        self.begin(format!("the call {what}"));
        let r = self.send(msg).and_then(|()| self.read_return(has_value));
        if let Err(e) = &r {
            // JRMP has no framing: after a failed reply the next one cannot be found.
            self.broken = Some(e.to_string());
            self.buf.clear();
        }
        r
    }

    /// Transport-level liveness: Ping, answered by PingAck.
    pub(crate) fn ping(&mut self) -> Result<()> {
        self.begin("a JRMP ping".into());
        self.send(&[jrmp::PING])?;
        if self.buf.is_empty() {
            self.fill(1)?;
        }
        match self.buf.first() {
            Some(&jrmp::PING_ACK) => {
                self.buf.drain(..1);
                Ok(())
            }
            other => Err(Error::Malformed {
                offset: 0,
                what: format!("expected a PingAck (0x53), got {other:02x?}"),
            }),
        }
    }

    fn read_return(&mut self, has_value: bool) -> Result<Return> {
        loop {
            match jrmp::parse_return(&self.buf, has_value) {
                Ok(r) => {
                    self.buf.drain(..r.len);
                    return Ok(r);
                }
                Err(Error::Incomplete { needed, .. }) => self.fill(needed)?,
                Err(e) => return Err(e),
            }
        }
    }

    // Reads at least `needed` more bytes, bounded by MAX_REPLY. Each read asks for as much as
    // the buffer already holds, so a large reply arriving fast is re-parsed O(log n) times.
    fn fill(&mut self, needed: usize) -> Result<()> {
        let target = self.buf.len().saturating_add(needed);
        if target > MAX_REPLY {
            return Err(Error::Limit {
                offset: self.buf.len(),
                what: "bytes in one reply",
                limit: MAX_REPLY,
            });
        }
        let mut chunk = vec![0u8; needed.max(self.buf.len()).clamp(64 << 10, 16 << 20)];
        while self.buf.len() < target {
            let n = match self.stream.read(&mut chunk) {
                Ok(0) => return Err(self.closed()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_error(e, "reading from")),
            };
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    }

    // The server hung up before the reply was complete.
    fn closed(&self) -> Error {
        let context = format!(
            "{} closed the connection mid-reply after {} bytes, during {}",
            self.endpoint,
            self.buf.len(),
            self.doing
        );
        Error::Io {
            context,
            source: io::ErrorKind::UnexpectedEof.into(),
        }
    }

    // A socket error: a passed deadline is a Timeout naming the exchange and its budget.
    fn io_error(&mut self, e: io::Error, verb: &str) -> Error {
        let got = self.buf.len();
        if e.kind() == io::ErrorKind::TimedOut {
            return Error::Timeout {
                endpoint: self.endpoint.clone(),
                doing: self.doing.clone(),
                deadline: self.stream.sock().deadline().budget(),
                got,
            };
        }
        let context = format!(
            "{verb} {} during {} ({got} bytes of the reply so far)",
            self.endpoint, self.doing
        );
        Error::Io { context, source: e }
    }
}

// Resolves and connects within the deadline, trying each address in turn.
fn tcp_connect(host: &str, port: u16, deadline: Deadline, endpoint: &str) -> Result<TcpStream> {
    let timeout = |doing: &str| Error::Timeout {
        endpoint: endpoint.into(),
        doing: doing.into(),
        deadline: deadline.budget(),
        got: 0,
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in resolve(host, port, deadline, endpoint)? {
        let left = deadline.left().ok_or_else(|| timeout("connecting"))?;
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                s.set_nodelay(true).map_err(|e| Error::Io {
                    context: format!("configuring the socket to {endpoint}"),
                    source: e,
                })?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    if matches!(
        last.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        return Err(timeout("connecting"));
    }
    Err(Error::Io {
        context: format!(
            "connecting to {endpoint} (is the JVM started with -Dcom.sun.management.jmxremote.port?)"
        ),
        source: last,
    })
}

// The host's addresses. getaddrinfo has no timeout, so a name is resolved on a helper thread
// that is left to finish on its own if the deadline passes first.
fn resolve(host: &str, port: u16, deadline: Deadline, endpoint: &str) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let io_err = |source| Error::Io {
        context: format!("resolving {endpoint}"),
        source,
    };
    let (tx, rx) = mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("hch-jmx-resolve".into())
        .spawn(move || {
            let _ = tx.send((name.as_str(), port).to_socket_addrs().map(Vec::from_iter));
        })
        .map_err(io_err)?;
    let timeout = || Error::Timeout {
        endpoint: endpoint.into(),
        doing: "resolving the host name".into(),
        deadline: deadline.budget(),
        got: 0,
    };
    let left = deadline.left().ok_or_else(timeout)?;
    match rx.recv_timeout(left) {
        Ok(r) => r.map_err(io_err),
        Err(_) => Err(timeout()),
    }
}

/// Whether a handshake failed on a certificate signed with ecdsa-with-SHA256/384/512
/// (1.2.840.10045.4.3.2-4) whose AlgorithmIdentifier has an explicit NULL parameter.
fn ecdsa_with_null_parameter(e: &io::Error) -> bool {
    const ECDSA_WITH_SHA2: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];
    let Some(rustls::Error::InvalidCertificate(
        rustls::CertificateError::UnsupportedSignatureAlgorithmContext {
            signature_algorithm_id: id,
            ..
        },
    )) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
    else {
        return false;
    };
    id.len() == ECDSA_WITH_SHA2.len() + 3
        && id.starts_with(ECDSA_WITH_SHA2)
        && id.ends_with(&[5, 0])
}

// A handshake failure: a plain server closes on our hello; anything else is a certificate or
// protocol problem reported as is.
fn tls_error(endpoint: &str, deadline: Deadline, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::TimedOut {
        return Error::Timeout {
            endpoint: endpoint.into(),
            doing: "the TLS handshake".into(),
            deadline: deadline.budget(),
            got: 0,
        };
    }
    let plain = matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    );
    let reason = if plain {
        format!("the server closed the connection during the TLS handshake ({e}): the port speaks plain JRMP, so drop --tls (and --tls-ca)")
    } else if ecdsa_with_null_parameter(&e) {
        "the JVM's certificate is signed with ECDSA under an algorithm identifier that carries a \
         NULL parameter, which RFC 5758 forbids and hch's TLS library rejects (older keytools \
         write EC certificates so, JDK 11's among them): make the key pair with a newer JDK's \
         keytool or with `-keyalg RSA`"
            .to_string()
    } else {
        format!("handshake failed: {e}; check that --tls-ca holds the JVM's certificate or its CA, issued for this host name")
    };
    Error::Tls {
        endpoint: endpoint.into(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake_error(id: &[u8]) -> Error {
        let e = rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnsupportedSignatureAlgorithmContext {
                signature_algorithm_id: id.to_vec(),
                supported_algorithms: Vec::new(),
            },
        );
        let e = io::Error::new(io::ErrorKind::InvalidData, e);
        tls_error("h:1", Deadline::after(Duration::from_secs(1)), e)
    }

    /// JDK 11's keytool writes ecdsa-with-SHA256 with a NULL parameter: the error says so.
    #[test]
    fn ecdsa_certificate_with_a_null_parameter_is_named() {
        let null = [6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 2, 5, 0];
        let e = handshake_error(&null).to_string();
        assert!(
            e.contains("NULL parameter") && e.contains("-keyalg RSA"),
            "{e}"
        );
        let e = handshake_error(&null[..10]).to_string();
        assert!(e.contains("check that --tls-ca"), "{e}");
    }
}
