//! One JRMP connection over TCP or TLS: the handshake, and calls whose replies are read exactly
//! as far as the sans-IO parser says it needs, with timeouts and a cap on the reply size.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;

use crate::error::{Error, Result};
use crate::jrmp::{self, Return};
use crate::tls::{self, TlsStream};

/// The largest reply accepted; a `readStream` chunk is 50 kB, `Compiler.codelist` a few MB.
const MAX_REPLY: usize = 256 << 20;

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
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
    /// Why the stream is out of step (a reply cut short or unparseable); no call may follow.
    broken: Option<String>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("endpoint", &self.endpoint)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Conn {
    pub(crate) fn open(
        host: &str,
        port: u16,
        tls: Option<Arc<ClientConfig>>,
        timeout: Duration,
    ) -> Result<Conn> {
        let endpoint = format!("{host}:{port}");
        let tcp = tcp_connect(host, port, timeout, &endpoint)?;
        let is_tls = tls.is_some();
        let stream = match tls {
            None => Stream::Plain(tcp),
            Some(cfg) => Stream::Tls(Box::new(
                tls::connect(tcp, host, cfg).map_err(|e| tls_error(&endpoint, e))?,
            )),
        };
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            endpoint,
            tls: is_tls,
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

    pub(crate) fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let ctx = || format!("sending to {}", self.endpoint);
        self.stream.write_all(bytes).map_err(|e| Error::Io {
            context: ctx(),
            source: e,
        })?;
        self.stream.flush().map_err(|e| Error::Io {
            context: ctx(),
            source: e,
        })
    }

    // Sends a Call and parses its Return, reading as much as the parser says is missing.
    pub(crate) fn call(&mut self, msg: &[u8], has_value: bool) -> Result<Return> {
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
                Ok(0) => return Err(self.closed(None)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.closed(Some(e))),
            };
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    }

    fn closed(&self, e: Option<io::Error>) -> Error {
        let got = self.buf.len();
        let (context, source) = match e {
            Some(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                (
                    format!(
                        "no complete reply from {} in time ({got} bytes so far)",
                        self.endpoint
                    ),
                    e,
                )
            }
            Some(e) => (
                format!(
                    "reading from {} ({got} bytes of the reply so far)",
                    self.endpoint
                ),
                e,
            ),
            None => (
                format!(
                    "{} closed the connection mid-reply after {got} bytes",
                    self.endpoint
                ),
                io::Error::from(io::ErrorKind::UnexpectedEof),
            ),
        };
        Error::Io { context, source }
    }
}

fn tcp_connect(host: &str, port: u16, timeout: Duration, endpoint: &str) -> Result<TcpStream> {
    let io_err = |context: String, source| Error::Io { context, source };
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| io_err(format!("resolving {endpoint}"), e))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                let setup = s
                    .set_nodelay(true)
                    .and(s.set_read_timeout(Some(timeout)))
                    .and(s.set_write_timeout(Some(timeout)));
                setup.map_err(|e| io_err(format!("configuring the socket to {endpoint}"), e))?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(io_err(format!("connecting to {endpoint} (is the JVM started with -Dcom.sun.management.jmxremote.port?)"), last))
}

// A handshake failure: a plain server closes on our hello; anything else is a certificate or
// protocol problem reported as is.
fn tls_error(endpoint: &str, e: io::Error) -> Error {
    let plain = matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    );
    let reason = if plain {
        format!("the server closed the connection during the TLS handshake ({e}): the port speaks plain JRMP, so drop --tls (and --tls-ca)")
    } else {
        format!("handshake failed: {e}; check that --tls-ca holds the JVM's certificate or its CA, issued for this host name")
    };
    Error::Tls {
        endpoint: endpoint.into(),
        reason,
    }
}
