//! JRMP, the RMI stream protocol, sans-IO: the handshake, Call messages, Return parsing, and
//! the remote references (stubs) that calls hand back.

use crate::error::{Error, RemoteException, Result};
use crate::mutf8;
use crate::ser::{Content, Decoder, Graph, Value, Writer};

/// Client hello: magic `JRMI`, version 2, StreamProtocol.
pub const HANDSHAKE: [u8; 7] = [0x4a, 0x52, 0x4d, 0x49, 0x00, 0x02, 0x4b];
/// Server accepts the protocol.
pub const PROTOCOL_ACK: u8 = 0x4e;
/// Server refuses the protocol.
pub const PROTOCOL_NACK: u8 = 0x4f;
/// A method call.
pub const CALL: u8 = 0x50;
/// A call's return.
pub const RETURN: u8 = 0x51;
/// Liveness check and its answer.
pub const PING: u8 = 0x52;
/// Answer to [`PING`].
pub const PING_ACK: u8 = 0x53;
/// Tells the server the client holds the remote references of a return.
pub const DGC_ACK: u8 = 0x54;
/// First byte of a TLS alert record: what a TLS port answers to a plain hello.
pub const TLS_ALERT: u8 = 0x15;
/// The longest host name accepted from a server (a DNS name has at most 253 bytes): in the
/// ProtocolAck and in remote references.
pub const MAX_HOST: usize = 255;

/// `java.rmi.server.UID`: identifies a return for [`DGC_ACK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uid {
    /// `unique`.
    pub unique: i32,
    /// `time`.
    pub time: i64,
    /// `count`.
    pub count: i16,
}

/// `java.rmi.server.ObjID`: which exported object a call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjId {
    /// `objNum`.
    pub num: i64,
    /// The address space.
    pub space: Uid,
}

impl ObjId {
    /// The registry's well-known id.
    pub const REGISTRY: ObjId = ObjId::well_known(0);
    /// The distributed garbage collector's well-known id.
    pub const DGC: ObjId = ObjId::well_known(2);

    const fn well_known(num: i64) -> ObjId {
        ObjId {
            num,
            space: Uid {
                unique: 0,
                time: 0,
                count: 0,
            },
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend(self.num.to_be_bytes());
        out.extend(self.space.unique.to_be_bytes());
        out.extend(self.space.time.to_be_bytes());
        out.extend(self.space.count.to_be_bytes());
    }

    fn parse(b: &[u8; 22]) -> ObjId {
        ObjId {
            num: be_i64(&b[0..8]),
            space: parse_uid(&b[8..22]),
        }
    }
}

/// How the server sees the client, from its ProtocolAck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: i32,
}

/// Parses the server's answer to [`HANDSHAKE`]; returns it and the bytes it took.
pub fn parse_protocol_ack(buf: &[u8], endpoint: &str) -> Result<(Endpoint, usize)> {
    let first = *buf.first().ok_or(Error::Incomplete {
        offset: 0,
        needed: 1,
    })?;
    match first {
        PROTOCOL_ACK => {}
        TLS_ALERT => return Err(not_jrmp(endpoint, "it answered with a TLS alert: the port speaks TLS, connect with --tls and --tls-ca FILE")),
        PROTOCOL_NACK => return Err(not_jrmp(endpoint, "it refused the stream protocol (ProtocolNack)")),
        other => return Err(not_jrmp(endpoint, &format!("it answered 0x{other:02x}, not a JRMP ProtocolAck; is this the JMX port?"))),
    }
    let len = usize::from(u16::from_be_bytes(get(buf, 1)?));
    check_host_len(len, 1)?;
    let host = mutf8::decode(buf.get(3..3 + len).ok_or(incomplete(buf, 3 + len))?);
    let port = i32::from_be_bytes(get(buf, 3 + len)?);
    Ok((Endpoint { host, port }, 3 + len + 4))
}

// A host name longer than any real one is refused before its bytes are awaited.
fn check_host_len(len: usize, offset: usize) -> Result<()> {
    if len > MAX_HOST {
        return Err(Error::TooLong {
            offset,
            what: "bytes of host name",
            claimed: len as u64,
            limit: MAX_HOST as u64,
        });
    }
    Ok(())
}

fn not_jrmp(endpoint: &str, hint: &str) -> Error {
    Error::NotJrmp {
        endpoint: endpoint.into(),
        hint: hint.into(),
    }
}

/// What the client sends after the ack: its host as the server saw it, and port 0 (as Java does).
pub fn client_endpoint(seen_as: &str) -> Vec<u8> {
    let e = mutf8::encode(seen_as);
    let mut out = Vec::with_capacity(e.len() + 6);
    out.extend((e.len().min(0xffff) as u16).to_be_bytes());
    out.extend(&e[..e.len().min(0xffff)]);
    out.extend(0i32.to_be_bytes());
    out
}

/// A Call message: the target object, operation number and method hash, then the arguments.
pub fn encode_call(target: &ObjId, op: i32, hash: i64, args: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut header = Vec::with_capacity(34);
    target.write(&mut header);
    header.extend(op.to_be_bytes());
    header.extend(hash.to_be_bytes());
    let mut w = Writer::rmi();
    w.block(&header);
    args(&mut w);
    let mut out = vec![CALL];
    out.extend(w.finish());
    out
}

/// A DGC acknowledgement for a return's UID.
pub fn encode_dgc_ack(uid: &Uid) -> Vec<u8> {
    let mut out = vec![DGC_ACK];
    out.extend(uid.unique.to_be_bytes());
    out.extend(uid.time.to_be_bytes());
    out.extend(uid.count.to_be_bytes());
    out
}

/// A decoded Return message.
#[derive(Debug)]
pub struct Return {
    /// The message's length in bytes.
    pub len: usize,
    /// The UID to acknowledge when the value holds remote references.
    pub ack: Uid,
    /// Every object decoded.
    pub graph: Graph,
    /// The returned value (`Null` for `void`), or the thrown exception when `exceptional`.
    pub value: Value,
    /// Whether the server threw.
    pub exceptional: bool,
}

impl Return {
    /// The value, or the server's exception as [`Error::Remote`].
    pub fn into_result(self) -> Result<(Graph, Value)> {
        if self.exceptional {
            return Err(Error::Remote(exception(&self.graph, self.value)));
        }
        Ok((self.graph, self.value))
    }
}

/// Parses one Return from the front of `buf`. `has_value` is false for `void` methods, whose
/// normal return carries nothing after the header (JRMP has no length field).
pub fn parse_return(buf: &[u8], has_value: bool) -> Result<Return> {
    let first = *buf.first().ok_or(Error::Incomplete {
        offset: 0,
        needed: 1,
    })?;
    if first != RETURN {
        return Err(Error::Malformed {
            offset: 0,
            what: format!("expected a Return (0x51), got 0x{first:02x}"),
        });
    }
    let mut d = Decoder::new(&buf[1..]);
    d.read_header().map_err(|e| shift(e, 1))?;
    let head = d.read_block_bytes(15).map_err(|e| shift(e, 1))?;
    let exceptional = match head[0] {
        1 => false,
        2 => true,
        t => {
            return Err(Error::Malformed {
                offset: 7,
                what: format!("return type {t}, expected 1 (normal) or 2 (exception)"),
            })
        }
    };
    let value = if has_value || exceptional {
        d.read_value().map_err(|e| shift(e, 1))?
    } else {
        Value::Null
    };
    let len = 1 + d.position();
    Ok(Return {
        len,
        ack: parse_uid(&head[1..15]),
        graph: d.into_graph(),
        value,
        exceptional,
    })
}

// Offsets inside the serialization stream, made relative to the whole message.
fn shift(e: Error, by: usize) -> Error {
    match e {
        Error::Incomplete { offset, needed } => Error::Incomplete {
            offset: offset + by,
            needed,
        },
        Error::Malformed { offset, what } => Error::Malformed {
            offset: offset + by,
            what,
        },
        Error::Limit {
            offset,
            what,
            limit,
        } => Error::Limit {
            offset: offset + by,
            what,
            limit,
        },
        Error::TooLong {
            offset,
            what,
            claimed,
            limit,
        } => Error::TooLong {
            offset: offset + by,
            what,
            claimed,
            limit,
        },
        other => other,
    }
}

/// A remote object reference: where the object lives and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// The stub's class (or `$Proxy` for a dynamic proxy).
    pub stub_class: String,
    /// Host as the server announced it (`java.rmi.server.hostname`).
    pub host: String,
    /// Port.
    pub port: u16,
    /// The object's id.
    pub objid: ObjId,
    /// The client socket factory's class, if any.
    pub socket_factory: Option<String>,
}

impl RemoteRef {
    /// Whether the endpoint expects TLS (`javax.rmi.ssl.SslRMIClientSocketFactory`).
    pub fn tls(&self) -> bool {
        self.socket_factory
            .as_deref()
            .is_some_and(|f| f.contains("Ssl"))
    }
}

/// Decodes the reference inside a stub (`RemoteObject`'s custom data) or inside a dynamic
/// proxy's `RemoteObjectInvocationHandler`.
pub fn remote_ref(graph: &Graph, v: Value) -> Result<RemoteRef> {
    remote_ref_at(graph, v, 0)
}

// A proxy's handler holds the reference one level down; more levels are not a real stub.
fn remote_ref_at(graph: &Graph, v: Value, depth: u8) -> Result<RemoteRef> {
    let stub_class = graph.class_name(v).unwrap_or("null").to_string();
    let ann = match graph.annotation(v, "java.rmi.server.RemoteObject") {
        Some(a) => a,
        None => {
            let h = graph
                .field(v, "h")
                .filter(|_| depth < 2)
                .ok_or_else(|| not_a_stub(&stub_class))?;
            let mut r = remote_ref_at(graph, h, depth + 1)?;
            r.stub_class = stub_class;
            return Ok(r);
        }
    };
    let data: Vec<u8> = ann
        .iter()
        .filter_map(|c| {
            if let Content::Block(b) = c {
                Some(b.as_slice())
            } else {
                None
            }
        })
        .flatten()
        .copied()
        .collect();
    let factory = ann.iter().find_map(|c| {
        if let Content::Value(v) = c {
            graph.class_name(*v)
        } else {
            None
        }
    });
    parse_ref_data(&data, factory, stub_class)
}

fn not_a_stub(class: &str) -> Error {
    Error::UnexpectedValue {
        call: "a remote reference".into(),
        expected: "an RMI stub",
        got: class.into(),
    }
}

// UTF refType; for UnicastRef2 a format byte; UTF host, int port, ObjID, boolean.
fn parse_ref_data(data: &[u8], factory: Option<&str>, stub_class: String) -> Result<RemoteRef> {
    let mut c = Cursor { b: data, pos: 0 };
    let ref_type = c.utf()?;
    let format = match ref_type.as_str() {
        "UnicastRef2" => c.take(1)?[0],
        "UnicastRef" => 0,
        other => {
            return Err(Error::Malformed {
                offset: 0,
                what: format!("unsupported remote reference type {other:?}"),
            })
        }
    };
    let host = c.host()?;
    let port = i32::from_be_bytes(c.take(4)?.try_into().expect("4 bytes"));
    let port = u16::try_from(port).map_err(|_| Error::Malformed {
        offset: c.pos,
        what: format!("port {port} out of range"),
    })?;
    let objid = ObjId::parse(c.take(22)?.try_into().expect("22 bytes"));
    let socket_factory = if format == 1 {
        Some(factory.unwrap_or("unknown").to_string())
    } else {
        None
    };
    Ok(RemoteRef {
        stub_class,
        host,
        port,
        objid,
        socket_factory,
    })
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let s = self.b.get(self.pos..self.pos + n).ok_or(Error::Malformed {
            offset: self.pos,
            what: format!(
                "remote reference data ends early: {n} bytes needed, {} left",
                self.b.len() - self.pos.min(self.b.len())
            ),
        })?;
        self.pos += n;
        Ok(s)
    }

    fn utf(&mut self) -> Result<String> {
        let n = u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes"));
        Ok(mutf8::decode(self.take(n.into())?))
    }

    // A UTF string no longer than a host name can be.
    fn host(&mut self) -> Result<String> {
        let at = self.pos;
        let n = u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes"));
        check_host_len(n.into(), at)?;
        Ok(mutf8::decode(self.take(n.into())?))
    }
}

/// Describes a thrown Throwable generically: class and message of it and its causes.
pub fn exception(graph: &Graph, v: Value) -> RemoteException {
    let mut chain = Vec::new();
    let mut cur = v;
    while chain.len() < 8 {
        let Some(class) = graph.class_name(cur) else {
            break;
        };
        let msg = graph
            .field(cur, "detailMessage")
            .and_then(|m| graph.str(m))
            .map(str::to_string);
        chain.push((class.to_string(), msg));
        // Throwable.cause, RemoteException.detail, JMX wrappers' own fields.
        let next = [
            "cause",
            "detail",
            "exception",
            "runtimeException",
            "error",
            "targetException",
        ]
        .iter()
        .filter_map(|f| graph.field(cur, f))
        .find(|n| *n != cur && *n != Value::Null);
        match next {
            Some(n) => cur = n,
            None => break,
        }
    }
    if chain.is_empty() {
        chain.push((graph.describe(v), None));
    }
    RemoteException { chain }
}

fn get<const N: usize>(buf: &[u8], at: usize) -> Result<[u8; N]> {
    buf.get(at..at + N)
        .map(|s| s.try_into().expect("N bytes"))
        .ok_or(incomplete(buf, at + N))
}

fn incomplete(buf: &[u8], end: usize) -> Error {
    Error::Incomplete {
        offset: buf.len(),
        needed: end.saturating_sub(buf.len()),
    }
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes(b.try_into().expect("8 bytes"))
}

fn parse_uid(b: &[u8]) -> Uid {
    Uid {
        unique: i32::from_be_bytes(b[0..4].try_into().expect("4 bytes")),
        time: be_i64(&b[4..12]),
        count: i16::from_be_bytes(b[12..14].try_into().expect("2 bytes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference data: UnicastRef, a host name of `n` bytes, port 9010, an ObjID.
    fn ref_data(n: u16) -> Vec<u8> {
        let mut d = vec![0x00, 0x0a];
        d.extend(b"UnicastRef");
        d.extend(n.to_be_bytes());
        d.extend(std::iter::repeat_n(b'h', n.into()));
        d.extend(9010i32.to_be_bytes());
        d.extend([0u8; 23]);
        d
    }

    #[test]
    fn stub_host_names_are_capped() {
        let r = parse_ref_data(&ref_data(255), None, "Stub".into()).unwrap();
        assert_eq!((r.host.len(), r.port), (255, 9010));
        let e = parse_ref_data(&ref_data(0xffff), None, "Stub".into()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLong {
                    offset: 12,
                    claimed: 65535,
                    limit: 255,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn protocol_ack_host_names_are_capped() {
        let e = parse_protocol_ack(&[PROTOCOL_ACK, 0x01, 0x00], "h:1").unwrap_err();
        assert!(matches!(e, Error::TooLong { claimed: 256, .. }), "{e}");
    }
}
