//! One module per subcommand; each has `Args`, `EXAMPLES` and `run`.

pub mod agent;
pub mod analyze;
pub mod codecache;
pub mod compact;
pub mod directives;
pub mod exporter;
pub mod info;
pub mod inputs;
pub mod jcmd;
pub mod jfr;
pub mod jit;
pub mod lab;
pub mod list;
pub mod profile;
pub mod record;
pub mod sparseness;
pub mod watch;
