//! `hch codecache` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch codecache --help`.
pub const EXAMPLES: &str = "Examples:\n  hch codecache --help";

/// Arguments of `hch codecache`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch codecache`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch codecache` is not implemented yet"))
}
