//! hch-lab: the sans-IO parts of `hch lab`, which measures what the layout of hot JIT code is
//! worth to a workload: natural (the JIT's own), compact (back to back) and sparse (spread
//! out) layouts in interleaved rounds, compared by the workload's own score lines.
//!
//! - [`demo`]: a generated workload of N small, uniformly hot methods, the case where layout
//!   matters most, and its large-method control.
//! - [`score`]: samples from a workload's output lines (JMH iterations, `score <n>` lines, or
//!   a regular expression).
//! - [`stats`]: from the phases' samples to paired ratios against compact, with confidence
//!   intervals and a short verdict.
//! - [`chart`]: the ratios as an SVG bar chart.
//!
//! # Design constraints
//! - No I/O but [`demo::Demo::write_to`]: the driver that runs JVMs, re-lays out code and
//!   reads output lives in the CLI and feeds lines and phases in here.
//! - Ratios always mean speed: above 1 is faster than the baseline, whichever way the
//!   workload's unit points.
//! - Honest numbers: an estimate from one pair has no interval, and the verdict says so.

#![deny(missing_docs)]

pub mod chart;
pub mod demo;
pub mod score;
pub mod stats;
