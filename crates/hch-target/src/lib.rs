//! The Target seam: a JVM that hch talks to, whether it is reached by PID through the attach
//! mechanism, by `host:port` through JMX, or replayed from a recorded transcript in tests.
//!
//! # Design constraints
//! - Everything hch does to a live JVM goes through [`Target`]: diagnostic commands, files the
//!   JVM must read (directives, JFR settings) and recordings it must hand back.
//! - Nothing is left behind on the target: files and recordings are owned by guards that clean
//!   up on drop, also on error and after Ctrl-C.
//! - Later kinds of target (an in-process agent, a JDK 27 hot code heap) implement the same trait.

#![deny(missing_docs)]

pub mod apply;
pub mod codecache;
pub mod directives;
pub mod info;
pub mod jfr;
mod local;
pub mod remote;
mod spec;

use std::fmt;

pub use local::LocalTarget;
pub use spec::{TargetSpec, PID_MAX};

/// What a target can be asked for. Implemented by a local attach connection, a JMX connection
/// and, in tests, a recorded transcript.
pub trait Target: fmt::Debug + Send {
    /// Runs one diagnostic command line (as `jcmd PID <command>` would) and returns its text.
    /// A command the JVM rejected or that threw is an `Err(TargetError::CommandFailed)`.
    fn jcmd(&mut self, command: &str) -> Result<String, TargetError>;

    /// A short description for messages, e.g. `pid 1234` or `jmx 10.0.0.5:9010`.
    fn describe(&self) -> String;

    /// Whether [`Target::put_file`] can work at all (a remote JVM reads only its own host's
    /// files).
    fn can_place_files(&self) -> bool {
        true
    }

    /// Whether the target takes a directives file's text in one step
    /// ([`Target::add_directives_text`]): a JVM running the hch agent, reached over JMX.
    fn takes_directives_text(&mut self) -> bool {
        false
    }

    /// Adds a Compiler Control directives text to the JVM's stack in one step, when the target
    /// can ([`Target::takes_directives_text`]), and returns the JVM's answer as
    /// `Compiler.directives_add` prints it. The default cannot: the caller places a file.
    fn add_directives_text(&mut self, _json: &str) -> Result<String, TargetError> {
        Err(TargetError::Unsupported {
            target: self.describe(),
            what: "take a directives text in one step".into(),
            hint: "place the file instead".into(),
        })
    }

    /// Places a file where the JVM can read it and returns the path as the JVM sees it.
    /// Remote targets cannot do this and answer `TargetError::Unsupported`.
    fn put_file(&mut self, name: &str, contents: &[u8]) -> Result<String, TargetError>;

    /// Reads a file the JVM wrote, by the path the JVM sees.
    fn read_file(&mut self, jvm_path: &str) -> Result<Vec<u8>, TargetError>;

    /// Removes a file placed by [`Target::put_file`] or written by the JVM; missing is fine.
    fn remove_file(&mut self, jvm_path: &str) -> Result<(), TargetError>;

    /// Records with JFR as `opts` says (after `opts.delay`) and returns the recording's
    /// bytes; no recording, file or changed setting is left on the JVM, also after an error or
    /// a cancel. `progress(elapsed, total)` is called while it waits.
    fn record(
        &mut self,
        opts: &jfr::RecordOptions,
        cancel: &std::sync::atomic::AtomicBool,
        progress: &mut dyn FnMut(std::time::Duration, std::time::Duration),
    ) -> Result<Vec<u8>, TargetError>;

    /// Whether the JVM still runs; long operations (a recording) call it between steps. The
    /// default says yes and lets the next command find out.
    fn check_alive(&mut self) -> Result<(), TargetError> {
        Ok(())
    }
}

/// How to reach a target.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// For a local JVM (a PID): timeouts of the attach handshake.
    pub attach: hch_attach::Options,
    /// For a remote JVM (`host:port`): credentials, TLS, timeouts.
    pub remote: remote::RemoteOptions,
}

/// Opens a target from its spec: plain decimal digits are a local PID, `host:port` or
/// `[v6]:port` a remote JVM over JMX (see [`TargetSpec::parse`]).
pub fn open(spec: &str, opts: &OpenOptions) -> Result<Box<dyn Target>, TargetError> {
    open_spec(&TargetSpec::parse(spec)?, opts)
}

/// Opens a target already parsed.
pub fn open_spec(spec: &TargetSpec, opts: &OpenOptions) -> Result<Box<dyn Target>, TargetError> {
    match spec {
        TargetSpec::Pid(pid) => Ok(Box::new(LocalTarget::open(*pid, &opts.attach)?)),
        TargetSpec::Jmx { host, port } => Ok(Box::new(remote::JmxTarget::connect_to(
            host,
            *port,
            &opts.remote,
        )?)),
    }
}

/// Why talking to a target failed. Every variant says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// A local JVM could not be attached to; the source says why and what to do.
    #[error("cannot attach to {target}")]
    Attach {
        /// The target's description.
        target: String,
        /// The cause, with its fix.
        #[source]
        source: hch_attach::AttachError,
    },
    /// The target could not be reached at all (no such process, attach refused, network).
    #[error("cannot reach {target}: {reason}")]
    Unreachable {
        /// The target's description.
        target: String,
        /// Cause and fix, in words.
        reason: String,
    },
    /// The JVM ran the command and reported a failure (judged from the text on JDK 25).
    #[error("{target}: command `{command}` failed: {output}")]
    CommandFailed {
        /// The target's description.
        target: String,
        /// The command line sent.
        command: String,
        /// What the JVM answered.
        output: String,
    },
    /// The target cannot do this (e.g. write a file on a remote host).
    #[error("{target} cannot {what}: {hint}")]
    Unsupported {
        /// The target's description.
        target: String,
        /// The operation asked for.
        what: String,
        /// What to do instead.
        hint: String,
    },
    /// An I/O error with context.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// An error and its causes in one line (`a: b: c`), for messages that carry another error's
/// text rather than its chain.
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
