//! `hch sparseness` (stub until its issue lands).

use crate::exit::{coded, Status};

/// Examples shown by `hch sparseness --help`.
pub const EXAMPLES: &str = "Examples:\n  hch sparseness --help";

/// Arguments of `hch sparseness`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Arguments (not implemented yet).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs `hch sparseness`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let _ = args.rest;
    Err(coded(1, "`hch sparseness` is not implemented yet"))
}
