//! Remote targets over JMX (`host:port`): jcmd through the DiagnosticCommand MBean and JFR
//! recordings streamed back through the FlightRecorderMXBean, with no JVM on this side.
//!
//! A background thread keeps the connection alive with a cheap call when it has been idle for
//! a minute: the JMX agent drops connections idle for 120 s.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use hch_jmx::{Client, ConnectOptions, Error};

use crate::{Target, TargetError, TargetSpec};

pub use hch_jmx::jfr::{Recording as RemoteRecording, Settings as RemoteSettings};
pub use hch_jmx::open::MemoryUsage;

/// The hch agent's MBean (`hch-agent`), which takes a directives file's text in one call.
pub const AGENT_MBEAN: &str = "hch:type=HotCodeHelper";

/// How often the heartbeat thread looks at most.
const HEARTBEAT_CHECK: Duration = Duration::from_secs(5);

/// Options for reaching a remote JVM.
#[derive(Clone, Default)]
pub struct RemoteOptions {
    /// JMX user (agent started with `com.sun.management.jmxremote.authenticate=true`).
    pub user: Option<String>,
    /// The user's password (never taken from the command line by the CLI).
    pub password: Option<String>,
    /// Require TLS (`com.sun.management.jmxremote.ssl=true`).
    pub tls: bool,
    /// PEM file with the JVM's certificate or its CA.
    pub tls_ca: Option<std::path::PathBuf>,
    /// Accept any certificate: for tests only.
    pub insecure: bool,
    /// The deadline of each network exchange: connecting with the TLS and JRMP handshakes, and
    /// each call with its whole reply (default 60 s). A server sending slowly cannot stretch it.
    pub timeout: Option<Duration>,
    /// Idle time before a keep-alive call (default 45 s; the agent drops connections idle for
    /// `jmx.remote.x.server.connection.timeout`, 120 s unless configured).
    pub heartbeat: Option<Duration>,
}

impl std::fmt::Debug for RemoteOptions {
    // Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("tls_ca", &self.tls_ca)
            .field("insecure", &self.insecure)
            .field("timeout", &self.timeout)
            .field("heartbeat", &self.heartbeat)
            .finish()
    }
}

/// Opens a JMX connection to `host:port`.
pub fn open(spec: &str, opts: &RemoteOptions) -> Result<Box<dyn Target>, TargetError> {
    Ok(Box::new(JmxTarget::connect(spec, opts)?))
}

/// Connects to `host:port`, records as asked and returns the recording's bytes; the recording
/// is closed on the target also after an error or a cancel.
pub fn record_remote(
    spec: &str,
    opts: &RemoteOptions,
    rec: &RemoteRecording,
    cancel: &AtomicBool,
) -> Result<Vec<u8>, TargetError> {
    JmxTarget::connect(spec, opts)?.record_stream(rec, cancel)
}

/// Splits `host:port` or `[v6addr]:port` (the rules of [`TargetSpec::parse`]).
pub fn parse_spec(spec: &str) -> Option<(String, u16)> {
    match TargetSpec::parse(spec).ok()? {
        TargetSpec::Jmx { host, port } => Some((host, port)),
        TargetSpec::Pid(_) => None,
    }
}

/// A JVM reached over JMX.
#[derive(Debug)]
pub struct JmxTarget {
    name: String,
    /// Whether the JVM runs the hch agent (its MBean), once asked.
    agent: Option<bool>,
    client: Arc<Mutex<Option<Client>>>,
    stop: Option<mpsc::Sender<()>>,
    heartbeat: Option<JoinHandle<()>>,
}

impl JmxTarget {
    /// Connects to `host:port` and logs in.
    pub fn connect(spec: &str, opts: &RemoteOptions) -> Result<JmxTarget, TargetError> {
        let (host, port) = parse_spec(spec).ok_or_else(|| TargetError::Unreachable {
            target: format!("jmx {spec}"),
            reason: "expected HOST:PORT, the JVM's com.sun.management.jmxremote.port".into(),
        })?;
        Self::connect_to(&host, port, opts)
    }

    /// Connects to a parsed host and port and logs in.
    pub fn connect_to(
        host: &str,
        port: u16,
        opts: &RemoteOptions,
    ) -> Result<JmxTarget, TargetError> {
        let spec = TargetSpec::Jmx {
            host: host.into(),
            port,
        };
        let name = format!("jmx {spec}");
        let client = Client::connect(host, port, &connect_options(&name, opts)?)
            .map_err(|e| target_error(&name, None, e))?;
        let client = Arc::new(Mutex::new(Some(client)));
        let (stop, rx) = mpsc::channel();
        // Look often enough to call within the period, at most every few seconds.
        let check = opts
            .heartbeat
            .map_or(HEARTBEAT_CHECK, |h| (h / 4).min(HEARTBEAT_CHECK));
        let shared = Arc::clone(&client);
        let heartbeat = std::thread::Builder::new()
            .name("hch-jmx-heartbeat".into())
            .spawn(move || heartbeat_loop(&shared, &rx, check))
            .map_err(|e| TargetError::Io {
                context: "starting the JMX heartbeat thread".into(),
                source: e,
            })?;
        Ok(JmxTarget {
            name,
            agent: None,
            client,
            stop: Some(stop),
            heartbeat: Some(heartbeat),
        })
    }

    /// Records on the JVM through the FlightRecorderMXBean and streams the recording back.
    pub fn record_stream(
        &mut self,
        rec: &RemoteRecording,
        cancel: &AtomicBool,
    ) -> Result<Vec<u8>, TargetError> {
        let mut guard = self.lock();
        let client = guard.as_mut().ok_or_else(|| self.closed())?;
        hch_jmx::jfr::record(client, rec, cancel)
            .map_err(|e| target_error(&self.name, Some("JFR recording"), e))
    }

    /// Reads a numeric MBean attribute, e.g. `java.lang:type=Runtime` `Uptime`.
    pub fn attribute_i64(&mut self, mbean: &str, attribute: &str) -> Result<i64, TargetError> {
        let mut guard = self.lock();
        let client = guard.as_mut().ok_or_else(|| self.closed())?;
        let (g, v) = client
            .get_attribute(mbean, attribute)
            .map_err(|e| target_error(&self.name, Some(attribute), e))?;
        g.long(v).ok_or_else(|| {
            let got = g.describe(v);
            target_error(
                &self.name,
                Some(attribute),
                Error::UnexpectedValue {
                    call: attribute.into(),
                    expected: "a number",
                    got,
                },
            )
        })
    }

    /// Reads a `String` MBean attribute; `Ok(None)` when no MBean of that name is registered.
    pub fn attribute_string(
        &mut self,
        mbean: &str,
        attribute: &str,
    ) -> Result<Option<String>, TargetError> {
        let mut guard = self.lock();
        let client = guard.as_mut().ok_or_else(|| self.closed())?;
        let (g, v) = match client.get_attribute(mbean, attribute) {
            Err(Error::Remote(r)) if r.has("javax.management.InstanceNotFoundException") => {
                return Ok(None)
            }
            other => other.map_err(|e| target_error(&self.name, Some(attribute), e))?,
        };
        match g.str(v) {
            Some(s) => Ok(Some(s.to_string())),
            None => Err(target_error(
                &self.name,
                Some(attribute),
                Error::UnexpectedValue {
                    call: attribute.into(),
                    expected: "a string",
                    got: g.describe(v),
                },
            )),
        }
    }

    /// Invokes an MBean operation whose parameters are all `String`s and returns its answer
    /// as text (empty for null). An exception the operation threw is `CommandFailed`.
    pub fn invoke_string(
        &mut self,
        mbean: &str,
        operation: &str,
        args: &[&str],
    ) -> Result<String, TargetError> {
        let mut guard = self.lock();
        let client = guard.as_mut().ok_or_else(|| self.closed())?;
        let params: Vec<hch_jmx::Arg> = args
            .iter()
            .map(|a| hch_jmx::Arg::Str(a.to_string()))
            .collect();
        let signature = vec!["java.lang.String"; args.len()];
        let (g, v) = client
            .invoke(mbean, operation, &params, &signature)
            .map_err(|e| target_error(&self.name, Some(operation), e))?;
        Ok(g.str(v).map(str::to_string).unwrap_or_default())
    }

    /// Whether the hch agent's MBean is registered in this JVM (asked once per connection).
    fn has_agent(&mut self) -> bool {
        if self.agent.is_none() {
            let found = self
                .attribute_string(AGENT_MBEAN, "State")
                .is_ok_and(|s| s.is_some());
            self.agent = Some(found);
        }
        self.agent == Some(true)
    }

    /// The code heap memory pools' usage (cheap: no safepoint, unlike `Compiler.codecache`),
    /// by pool name, e.g. `CodeHeap 'non-profiled nmethods'`.
    pub fn code_heap_usage(&mut self) -> Result<Vec<(String, MemoryUsage)>, TargetError> {
        let mut guard = self.lock();
        let client = guard.as_mut().ok_or_else(|| self.closed())?;
        client
            .code_heap_usage()
            .map_err(|e| target_error(&self.name, Some("code heap pools"), e))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Client>> {
        // A panic elsewhere leaves the client usable; the next call reports any damage.
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn closed(&self) -> TargetError {
        TargetError::Unreachable {
            target: self.name.clone(),
            reason: "the JMX connection was closed".into(),
        }
    }
}

impl Target for JmxTarget {
    fn jcmd(&mut self, command: &str) -> Result<String, TargetError> {
        let (op, args) = hch_jmx::dcmd::split_command_line(command).ok_or_else(|| {
            TargetError::CommandFailed {
                target: self.name.clone(),
                command: command.into(),
                output: "empty command line".into(),
            }
        })?;
        let mut guard = self.lock();
        let client = guard.as_mut().ok_or_else(|| self.closed())?;
        client
            .diagnostic_command(&op, &args)
            .map_err(|e| target_error(&self.name, Some(command), e))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn takes_directives_text(&mut self) -> bool {
        self.has_agent()
    }

    fn add_directives_text(&mut self, json: &str) -> Result<String, TargetError> {
        self.invoke_string(AGENT_MBEAN, "applyDirectives", &[json])
    }

    fn can_place_files(&self) -> bool {
        false
    }

    fn record(
        &mut self,
        opts: &crate::jfr::RecordOptions,
        cancel: &AtomicBool,
        _progress: &mut dyn FnMut(Duration, Duration),
    ) -> Result<Vec<u8>, TargetError> {
        crate::jfr::wait_delay(self, opts.delay, cancel)?;
        let rec = RemoteRecording {
            settings: RemoteSettings::Jfc(opts.settings_xml()),
            duration: opts.duration,
        };
        crate::jfr::with_stack_depth(self, opts.stack_depth, |t| t.record_stream(&rec, cancel))
    }

    fn put_file(&mut self, name: &str, _contents: &[u8]) -> Result<String, TargetError> {
        Err(TargetError::Unsupported {
            target: self.name.clone(),
            what: format!("receive the file {name}"),
            hint:
                "a remote JVM reads files from its own filesystem: copy the file to the JVM's host \
                   and pass its path there with --remote-path, or run the hch agent in that JVM \
                   (it takes the text over JMX)"
                    .into(),
        })
    }

    fn read_file(&mut self, jvm_path: &str) -> Result<Vec<u8>, TargetError> {
        Err(TargetError::Unsupported {
            target: self.name.clone(),
            what: format!("read {jvm_path}"),
            hint: "files the JVM writes stay on its host; recordings are streamed back over JMX instead".into(),
        })
    }

    fn remove_file(&mut self, jvm_path: &str) -> Result<(), TargetError> {
        Err(TargetError::Unsupported {
            target: self.name.clone(),
            what: format!("remove {jvm_path}"),
            hint: "files on the JVM's host are not reachable over JMX".into(),
        })
    }
}

impl Drop for JmxTarget {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.heartbeat.take() {
            let _ = h.join();
        }
        if let Some(c) = self.lock().take() {
            c.close();
        }
    }
}

// Until the sender is dropped: a cheap call whenever the connection idles for a minute.
fn heartbeat_loop(client: &Mutex<Option<Client>>, stop: &mpsc::Receiver<()>, check: Duration) {
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(check) {
        let mut guard = client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = guard.as_mut() {
            // A failure shows up, with its cause, at the next real call.
            let _ = c.keep_alive();
        }
    }
}

fn connect_options(name: &str, opts: &RemoteOptions) -> Result<ConnectOptions, TargetError> {
    let credentials = match (&opts.user, &opts.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
        (Some(u), None) => {
            let reason = format!("user {u} given but no password: put it in a file for --password-file, or in HCH_JMX_PASSWORD");
            return Err(TargetError::Unreachable {
                target: name.into(),
                reason,
            });
        }
        (None, Some(_)) => {
            let reason = "a password but no user: pass --user".to_string();
            return Err(TargetError::Unreachable {
                target: name.into(),
                reason,
            });
        }
    };
    let mut c = ConnectOptions {
        credentials,
        tls: opts.tls,
        tls_ca: opts.tls_ca.clone(),
        tls_insecure: opts.insecure,
        ..ConnectOptions::default()
    };
    if let Some(t) = opts.timeout {
        c.timeout = t;
    }
    if let Some(h) = opts.heartbeat {
        c.heartbeat = h;
    }
    Ok(c)
}

// JMX failures as target errors: the server's verdict on a command is CommandFailed, a
// cancel is an interrupted I/O error, everything else means the JVM was not (fully) reached.
fn target_error(name: &str, command: Option<&str>, e: Error) -> TargetError {
    match (e, command) {
        (Error::Remote(r), Some(cmd)) => {
            let output = if r.has("java.lang.NoSuchMethodException")
                || (r.mentions("not found") && r.has("javax.management.ReflectionException"))
            {
                format!(
                    "{r}; no such diagnostic command on this JVM (see `jcmd help` on the target)"
                )
            } else {
                r.to_string()
            };
            TargetError::CommandFailed {
                target: name.into(),
                command: cmd.into(),
                output,
            }
        }
        (Error::Cancelled, _) => TargetError::Io {
            context: format!("{name}: cancelled; the recording was closed on the target"),
            source: std::io::ErrorKind::Interrupted.into(),
        },
        (e, _) => TargetError::Unreachable {
            target: name.into(),
            reason: without_endpoint(name, crate::with_causes(&e)),
        },
    }
}

// "host:port: ..." after "cannot reach jmx host:port: " says the endpoint twice.
fn without_endpoint(name: &str, reason: String) -> String {
    let endpoint = name.strip_prefix("jmx ").unwrap_or(name);
    match reason
        .strip_prefix(endpoint)
        .and_then(|r| r.strip_prefix(": "))
    {
        Some(rest) => rest.to_string(),
        None => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(
            parse_spec("127.0.0.1:9010"),
            Some(("127.0.0.1".into(), 9010))
        );
        assert_eq!(
            parse_spec("db-1.example:1099"),
            Some(("db-1.example".into(), 1099))
        );
        assert_eq!(parse_spec("[::1]:9010"), Some(("::1".into(), 9010)));
        for bad in [
            "9010",
            "host:",
            "host:0",
            "host:99999",
            ":9010",
            "::1:9010",
            "[]:9010",
            "[::1:9010",
        ] {
            assert_eq!(parse_spec(bad), None, "{bad}");
        }
    }

    #[test]
    fn password_never_printed() {
        let o = RemoteOptions {
            user: Some("u".into()),
            password: Some("s3cret".into()),
            ..Default::default()
        };
        assert!(!format!("{o:?}").contains("s3cret"));
    }
}
