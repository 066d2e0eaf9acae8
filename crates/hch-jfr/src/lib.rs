//! hch-jfr: a complete, fast and fail-safe reader for Java Flight Recorder files.

mod samples;
pub use samples::*;

/// A reader error (placeholder until the reader lands).
#[derive(Debug, thiserror::Error)]
#[error("jfr")]
pub struct Error;
