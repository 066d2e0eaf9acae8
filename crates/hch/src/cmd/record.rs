//! `hch record` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch record --help`.
pub const EXAMPLES: &str = "Examples:\n  hch record --help";

/// Arguments of `hch record`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch record`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch record` is not implemented yet"))
}
