//! hch-agent: hch inside the JVM. A JVMTI agent library (`libhch_agent.so`) that profiles its
//! JVM with JFR at intervals, picks the hot compiled code with `hch-profile` and keeps
//! Compiler Control directives for it in force (the design's agent modes B and D), with an
//! MBean `hch:type=HotCodeHelper` for JConsole, JMC, any JMX client and `hch agent`.
//!
//! ```text
//! java -agentpath:/path/libhch_agent.so=delay=2m,interval=10m,duration=60s,log=/var/log/hch-agent.log -jar app.jar
//! hch agent load 1234 --interval 5m        # at run time, through the attach mechanism
//! hch agent status 1234
//! ```
//!
//! The loop: wait `delay`; record `duration` with only the events the analysis needs; read the
//! recording in memory; build the hot set; change the JVM's directives only when the hot set
//! moved beyond `overlap`, at most once per `interval`, and only the agent's own directive.
//! The same-process [`inproc::InProcess`] target makes all of it the library's own code path.
//!
//! # Design constraints
//! - Never harm the JVM. No panic crosses the FFI boundary (every entry point and native method
//!   runs under `catch_unwind`); any failure disables the agent with one log line and the JVM
//!   runs on. The agent never calls exit, runs in a daemon thread, holds no JVMTI capability
//!   (none that makes compiled code slower: no breakpoints, locals, single stepping or field
//!   watches), and delays the JVM's exit by at most [`agent::EXIT_WAIT`].
//! - Nothing left behind: a cycle's files live in a private directory that goes with the cycle,
//!   also when the JVM exits in the middle of it (VMDeath).
//! - Bad options are refused with a line naming the key; at start-up the JVM starts anyway,
//!   without the agent.
//! - `unsafe` lives in [`ffi`] only, each block with its reason.
//! - No Java compiler at build time: the MBean's and WhiteBox's classes are written in Rust
//!   (`hch-classfile`).

#![deny(missing_docs)]

pub mod compact;
pub mod options;
pub mod reconcile;
pub mod relayout;
pub mod status;

mod agent;
mod cycle;
mod ffi;
mod files;
mod inproc;
mod log;
mod mbean;
mod whitebox;

pub use agent::{ANSWER_PROPERTY, EXIT_WAIT};
pub use options::{DialectChoice, OptionError, Options};
pub use status::{Status, MBEAN_NAME, STATUS_PROPERTY};

/// The library's file name, as `cargo build` writes it next to the `hch` binary.
pub const LIBRARY_NAME: &str = "libhch_agent.so";
