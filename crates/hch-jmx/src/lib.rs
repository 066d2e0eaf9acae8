//! A JMX-over-RMI client in Rust, with no JVM on the client side: JRMP (the RMI stream
//! protocol) and the subset of Java Object Serialization that the JMX remote API needs.
//!
//! ```no_run
//! # fn main() -> Result<(), hch_jmx::Error> {
//! let mut c = hch_jmx::Client::connect("127.0.0.1", 9010, &hch_jmx::ConnectOptions::default())?;
//! let text = c.diagnostic_command("vmVersion", &[])?;
//! c.close();
//! # Ok(()) }
//! ```
//!
//! # Design constraints
//! - Sans-IO core: [`ser`] (serialization reader and writer), [`jrmp`] (handshake, Call,
//!   Return, remote references) and [`calls`] work on byte slices and are tested byte for byte
//!   against captures of real JDK clients and servers. [`Client`] is a thin blocking driver over
//!   TCP or TLS (rustls).
//! - Replies are untrusted: every length is checked against a cap and against the bytes present
//!   before anything is allocated, nesting depth and object counts are capped, and nothing
//!   panics.
//! - Servers are untrusted too: every exchange (connect with the TLS and JRMP handshakes, one
//!   call with its whole reply) has one overall deadline, [`ConnectOptions::timeout`], that a
//!   server trickling bytes cannot stretch.
//! - Only what the out-of-the-box JMX agent needs: no DGC leases (the connection is kept alive
//!   by a cheap call instead), no class loading, no codebase annotations.

#![deny(missing_docs)]

pub mod calls;
mod client;
mod conn;
pub mod dcmd;
mod deadline;
mod error;
pub mod jfr;
pub mod jrmp;
pub mod mutf8;
pub mod open;
pub mod ser;
mod tls;

pub use client::{Client, ConnectOptions, DIAGNOSTIC_COMMAND, FLIGHT_RECORDER};
pub use error::{Error, RemoteException, Result};
pub use ser::write::Arg;
