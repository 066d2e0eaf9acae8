//! `hch profile` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch profile --help`.
pub const EXAMPLES: &str = "Examples:\n  hch profile --help";

/// Arguments of `hch profile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch profile`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch profile` is not implemented yet"))
}
