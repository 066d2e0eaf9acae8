//! The blocking driver: sockets (TCP or TLS), timeouts, and the JMX session flow
//! registry lookup → `newClient` → `invoke`/`getAttribute` → `close`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use crate::calls;
use crate::conn::Conn;
use crate::error::{Error, RemoteException, Result};
use crate::jrmp::{self, RemoteRef};
use crate::ser::{Arg, Graph, Value};
use crate::tls;

/// The DiagnosticCommand MBean (jcmd over JMX).
pub const DIAGNOSTIC_COMMAND: &str = "com.sun.management:type=DiagnosticCommand";
/// The FlightRecorderMXBean.
pub const FLIGHT_RECORDER: &str = "jdk.management.jfr:type=FlightRecorder";

/// The code cache's memory pools, segmented (JDK 9+ default with tiered compilation) or not.
const CODE_HEAP_POOLS: [&str; 4] = [
    "CodeHeap 'non-nmethods'",
    "CodeHeap 'profiled nmethods'",
    "CodeHeap 'non-profiled nmethods'",
    "CodeCache",
];

/// How to reach and log in to a JMX agent.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `(user, password)` for an agent with `authenticate=true`.
    pub credentials: Option<(String, String)>,
    /// Require TLS: the connector must use it; the registry is tried with TLS first.
    pub tls: bool,
    /// PEM file of the JVM's certificate or its CA (implies `tls`).
    pub tls_ca: Option<PathBuf>,
    /// Accept any certificate (tests only; implies `tls`).
    pub tls_insecure: bool,
    /// The deadline of each exchange: connecting with the TLS and JRMP handshakes, and each
    /// call with its whole reply (not per read, so a server trickling bytes cannot stretch it).
    pub timeout: Duration,
    /// Idle time after which a cheap call keeps the connection: the agent drops connections
    /// idle for `jmx.remote.x.server.connection.timeout`, 120 s by default.
    pub heartbeat: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            credentials: None,
            tls: false,
            tls_ca: None,
            tls_insecure: false,
            timeout: Duration::from_secs(60),
            heartbeat: Duration::from_secs(45),
        }
    }
}

impl ConnectOptions {
    fn wants_tls(&self) -> bool {
        self.tls || self.tls_ca.is_some() || self.tls_insecure
    }
}

/// A logged-in JMX connection.
#[derive(Debug)]
pub struct Client {
    conn: Conn,
    connection: RemoteRef,
    last_call: Instant,
    heartbeat: Duration,
}

impl Client {
    /// Connects to the agent's registry at `host:port`, looks up `jmxrmi` and logs in.
    ///
    /// The connector is reached at `host` (not the host name inside the stub, which a
    /// misconfigured `java.rmi.server.hostname` often gets wrong) and the stub's port.
    pub fn connect(host: &str, port: u16, opts: &ConnectOptions) -> Result<Client> {
        let endpoint = crate::conn::endpoint(host, port);
        let tls = if opts.wants_tls() {
            Some(tls::config(
                opts.tls_ca.as_deref(),
                opts.tls_insecure,
                &endpoint,
            )?)
        } else {
            None
        };
        let mut registry = open_registry(host, port, tls.clone(), opts.timeout)?;
        let server = lookup(&mut registry, &endpoint)?;
        let mut conn = connector(registry, host, &server, tls, opts)?;
        let connection = login(&mut conn, &server, opts.credentials.as_ref())?;
        Ok(Client {
            conn,
            connection,
            last_call: Instant::now(),
            heartbeat: opts.heartbeat,
        })
    }

    /// `host:port` of the connector.
    pub fn endpoint(&self) -> &str {
        &self.conn.endpoint
    }

    /// How long since the last call; the agent drops connections idle for 120 s.
    pub fn idle(&self) -> Duration {
        self.last_call.elapsed()
    }

    /// Invokes an MBean operation. `signature` holds the parameter types as Java names.
    pub fn invoke(
        &mut self,
        mbean: &str,
        operation: &str,
        params: &[Arg],
        signature: &[&str],
    ) -> Result<(Graph, Value)> {
        let msg = calls::invoke(&self.connection.objid, mbean, operation, params, signature);
        self.round_trip(&msg, &format!("invoke {operation}"))
            .map_err(|e| self.denied(operation, e))
    }

    /// Reads an MBean attribute.
    pub fn get_attribute(&mut self, mbean: &str, attribute: &str) -> Result<(Graph, Value)> {
        let msg = calls::get_attribute(&self.connection.objid, mbean, attribute);
        self.round_trip(&msg, &format!("getAttribute {attribute}"))
            .map_err(|e| self.denied(attribute, e))
    }

    /// Runs a DiagnosticCommand operation (e.g. `compilerCodecache`) and returns its text.
    pub fn diagnostic_command(&mut self, operation: &str, args: &[String]) -> Result<String> {
        let (graph, v) = self.invoke(
            DIAGNOSTIC_COMMAND,
            operation,
            &[Arg::Strings(args.to_vec())],
            &["[Ljava.lang.String;"],
        )?;
        match (v, graph.str(v)) {
            (Value::Null, _) => Ok(String::new()),
            (_, Some(s)) => Ok(s.to_string()),
            _ => Err(Error::UnexpectedValue {
                call: operation.into(),
                expected: "a string",
                got: graph.describe(v),
            }),
        }
    }

    /// The `Usage` of the JVM's code heap memory pools that exist (`CodeHeap '...'`, or
    /// `CodeCache` when the code cache is not segmented): cheap, no safepoint.
    pub fn code_heap_usage(&mut self) -> Result<Vec<(String, crate::open::MemoryUsage)>> {
        let mut out = Vec::new();
        for pool in CODE_HEAP_POOLS {
            let mbean = format!("java.lang:type=MemoryPool,name={pool}");
            let (g, v) = match self.get_attribute(&mbean, "Usage") {
                Err(Error::Remote(r)) if r.has("javax.management.InstanceNotFoundException") => {
                    continue
                }
                other => other?,
            };
            let usage = crate::open::memory_usage(&g, v).ok_or_else(|| Error::UnexpectedValue {
                call: format!("{mbean} Usage"),
                expected: "a MemoryUsage composite",
                got: g.describe(v),
            })?;
            out.push((pool.to_string(), usage));
        }
        Ok(out)
    }

    /// Sends a heartbeat if the connection has been idle for the configured period; cheap to
    /// call often.
    pub fn keep_alive(&mut self) -> Result<()> {
        if self.idle() >= self.heartbeat {
            self.heartbeat()?;
        }
        Ok(())
    }

    /// A cheap call (`getDefaultDomain`) that keeps the agent from dropping the connection.
    pub fn heartbeat(&mut self) -> Result<()> {
        let msg = calls::get_default_domain(&self.connection.objid);
        self.round_trip(&msg, "getDefaultDomain (heartbeat)")
            .map(drop)
    }

    /// Checks the socket with a JRMP Ping. It does not count as JMX activity: use
    /// [`Client::heartbeat`] to keep the connection from timing out.
    pub fn ping(&mut self) -> Result<()> {
        self.conn.ping()
    }

    /// Closes the JMX connection on the server (best effort) and the socket.
    pub fn close(mut self) {
        let msg = calls::close(&self.connection.objid);
        let _ = self.conn.call(&msg, false, "close");
    }

    fn round_trip(&mut self, msg: &[u8], what: &str) -> Result<(Graph, Value)> {
        let r = self.conn.call(msg, true, what);
        self.last_call = Instant::now();
        r?.into_result().map_err(|e| match e {
            Error::Remote(r) if r.has("java.rmi.NoSuchObjectException") => Error::Dropped {
                endpoint: self.conn.endpoint.clone(),
            },
            other => other,
        })
    }

    // A SecurityException on a call means the role lacks access.
    fn denied(&self, operation: &str, e: Error) -> Error {
        match e {
            Error::Remote(r)
                if r.has("java.lang.SecurityException") && r.mentions("Access denied") =>
            {
                Error::AccessDenied {
                    endpoint: self.conn.endpoint.clone(),
                    operation: operation.into(),
                    message: r.root_message().unwrap_or_default().to_string(),
                }
            }
            other => other,
        }
    }
}

// Registry.lookup("jmxrmi"): the connector server's stub.
fn lookup(registry: &mut Conn, endpoint: &str) -> Result<RemoteRef> {
    let reply = registry.call(&calls::lookup("jmxrmi"), true, "Registry.lookup(jmxrmi)")?;
    let ack = reply.ack;
    let (graph, v) = reply.into_result().map_err(|e| lookup_error(endpoint, e))?;
    let server = jrmp::remote_ref(&graph, v)?;
    // Java acknowledges returns that carry references; it lets the server drop its pin early.
    registry.send(&jrmp::encode_dgc_ack(&ack))?;
    Ok(server)
}

// RMIServer.newClient(credentials): the connection's stub.
fn login(
    conn: &mut Conn,
    server: &RemoteRef,
    creds: Option<&(String, String)>,
) -> Result<RemoteRef> {
    let creds = creds.map(|(u, p)| (u.as_str(), p.as_str()));
    let msg = calls::new_client(&server.objid, creds);
    let reply = conn.call(&msg, true, "RMIServer.newClient (login)")?;
    let ack = reply.ack;
    let (graph, v) = reply
        .into_result()
        .map_err(|e| login_error(&conn.endpoint, e))?;
    let connection = jrmp::remote_ref(&graph, v)?;
    conn.send(&jrmp::encode_dgc_ack(&ack))?;
    Ok(connection)
}

// The registry socket: TLS first when TLS is wanted, plain if the registry is plain.
fn open_registry(
    host: &str,
    port: u16,
    tls: Option<Arc<ClientConfig>>,
    timeout: Duration,
) -> Result<Conn> {
    match tls {
        None => Conn::open(host, port, None, timeout),
        Some(cfg) => match Conn::open(host, port, Some(cfg), timeout) {
            // registry.ssl=false is the default even with ssl=true: only the connector uses TLS.
            Err(Error::Tls { reason, .. }) if reason.contains("speaks plain JRMP") => {
                Conn::open(host, port, None, timeout)
            }
            other => other,
        },
    }
}

// The connection for the connector stub: the registry's when it is the same endpoint.
fn connector(
    registry: Conn,
    host: &str,
    server: &RemoteRef,
    tls: Option<Arc<ClientConfig>>,
    opts: &ConnectOptions,
) -> Result<Conn> {
    let endpoint = crate::conn::endpoint(host, server.port);
    if server.tls() && tls.is_none() {
        let reason = "the JVM's connector uses TLS (com.sun.management.jmxremote.ssl=true): pass --tls with --tls-ca FILE (PEM of its certificate or CA)";
        return Err(Error::Tls {
            endpoint,
            reason: reason.into(),
        });
    }
    if !server.tls() && opts.wants_tls() {
        let reason = "TLS was asked for but the JVM offers a plain connector (com.sun.management.jmxremote.ssl=false): drop --tls, or enable ssl on the JVM";
        return Err(Error::Tls {
            endpoint,
            reason: reason.into(),
        });
    }
    if registry.endpoint == endpoint && registry.tls == server.tls() {
        return Ok(registry);
    }
    drop(registry);
    Conn::open(
        host,
        server.port,
        tls.filter(|_| server.tls()),
        opts.timeout,
    )
}

fn lookup_error(endpoint: &str, e: Error) -> Error {
    match e {
        Error::Remote(r) if r.has("java.rmi.NotBoundException") => Error::NotJrmp {
            endpoint: endpoint.into(),
            hint: format!(
                "its RMI registry has no `jmxrmi` entry ({r}); is this the JMX agent's port?"
            ),
        },
        other => other,
    }
}

fn login_error(endpoint: &str, e: Error) -> Error {
    let Error::Remote(r) = e else { return e };
    if !r.has("java.lang.SecurityException") {
        return Error::Remote(r);
    }
    let message = first_message(&r);
    let hint = if message.contains("Credentials required") {
        "the JVM requires a login: pass --user and the password via --password-file or HCH_JMX_PASSWORD"
    } else {
        "check --user and the password (--password-file or HCH_JMX_PASSWORD) against the JVM's jmxremote.password file"
    };
    Error::Auth {
        endpoint: endpoint.into(),
        message,
        hint,
    }
}

fn first_message(r: &RemoteException) -> String {
    r.chain
        .iter()
        .find_map(|(_, m)| m.clone())
        .unwrap_or_else(|| r.to_string())
}
