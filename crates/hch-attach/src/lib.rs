//! The HotSpot dynamic attach protocol on Linux, as `jcmd` and jattach speak it, with no JDK on
//! the client side.
//!
//! ```no_run
//! let mut vm = hch_attach::Vm::open(1234, &hch_attach::Options::default())?;
//! let reply = vm.jcmd("Compiler.codecache")?;
//! print!("{}", reply.text());
//! # Ok::<(), hch_attach::AttachError>(())
//! ```
//!
//! # Design constraints
//! - Sans-IO core: [`protocol`] encodes requests and decodes replies over bytes, [`procfs`] and
//!   [`hsperf`] parse text and bytes; all are tested byte for byte from captures. The driver
//!   ([`Vm`]) owns sockets, files, signals and namespaces and is tested against real JVMs.
//! - Containers are normal: the namespace pid comes from `NStgid`, files are reached through
//!   `/proc/<pid>/root`, and as root hch acts as the JVM's user inside its mount namespace, on
//!   a helper thread so that hch itself never changes identity (see `os`).
//! - A JVM is never harmed: SIGQUIT is only sent to a process that catches it, and trigger
//!   files are removed on every way out.
//! - Success is judged from the text too ([`Reply::failed`]): JDK 25 answers 0 when a command
//!   throws.
//! - `unsafe` lives only in the private `os` module.

#![deny(missing_docs)]

pub mod discover;
mod error;
mod handshake;
pub mod hsperf;
mod os;
mod process;
pub mod procfs;
pub mod protocol;
pub mod root;
mod vm;

pub use discover::{command_line, list_jvms, maps_library, AttachState, JvmProcess};
pub use error::AttachError;
pub use protocol::{Capabilities, Reply};
pub use vm::{Options, Vm};
