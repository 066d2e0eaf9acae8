//! `hch`, the hot code helper: finds the hot JIT-compiled code of HotSpot JVMs and keeps their
//! code cache healthy. This binary only parses arguments and prints; the work is in the crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod apply;
mod cancel;
mod cmd;
mod duration;
mod exit;
mod http;
mod metrics;
mod os;
mod output;
mod relayout;
mod remote_args;
mod target_args;

/// Examples shown by `hch directives --help`.
const DIRECTIVES_EXAMPLES: &str = "Examples:
  hch directives check hot.json                  # hch's rules and the JVM's own parser
  hch directives add 1234 hot.json               # checked with hch's rules for that JVM first
  hch directives replace 1234 hot.json
  hch directives print 1234
  hch directives clear 10.0.0.5:9010 --user controlRole --password-file pw.txt";

const ABOUT: &str = "hch, the hot code helper: profile HotSpot JVMs, find their hot JIT-compiled code, emit and apply Compiler Control directives for it, and diagnose the code cache.";

/// hch, the hot code helper: profile HotSpot JVMs, find their hot JIT-compiled code, emit and
/// apply Compiler Control directives for it, and diagnose the code cache.
#[derive(Debug, Parser)]
#[command(name = "hch", version, about = ABOUT, long_about = None, after_help = exit::EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Flat profile, hot code set and directives from JFR recordings or collapsed stacks.
    #[command(after_help = cmd::analyze::EXAMPLES)]
    Analyze(cmd::analyze::Args),
    /// Launch a Java command with JFR from its first instruction, then analyze it.
    #[command(after_help = cmd::record::EXAMPLES)]
    Record(cmd::record::Args),
    /// Profile a running JVM with JFR for a while, then analyze (and optionally apply).
    #[command(after_help = cmd::profile::EXAMPLES)]
    Profile(cmd::profile::Args),
    /// Run a diagnostic command in a JVM, like `jcmd PID COMMAND`, with no JDK needed.
    #[command(after_help = cmd::jcmd::EXAMPLES)]
    Jcmd(cmd::jcmd::Args),
    /// List the JVMs on this host, also those in containers, and whether hch can attach.
    #[command(after_help = cmd::list::EXAMPLES)]
    List(cmd::list::Args),
    /// What a JVM can do for hch: version, code heaps, hot code heap, DebugNonSafepoints, JFR.
    #[command(after_help = cmd::info::EXAMPLES)]
    Info(cmd::info::Args),
    /// Check, add, replace, remove, clear or print Compiler Control directives.
    #[command(subcommand, after_help = DIRECTIVES_EXAMPLES)]
    Directives(cmd::directives::Command),
    /// Add a directives file to a JVM (same as `directives add`).
    #[command(after_help = cmd::directives::APPLY_EXAMPLES)]
    Apply(cmd::directives::TargetFileArgs),
    /// Diagnose a JVM's code cache: layout, fragmentation, states, leaks, with verdicts.
    #[command(after_help = cmd::codecache::EXAMPLES)]
    Codecache(cmd::codecache::Args),
    /// Watch a JVM's code cache over time; alert on steady growth; serve Prometheus metrics.
    #[command(after_help = cmd::watch::EXAMPLES)]
    Watch(cmd::watch::Args),
    /// Serve Prometheus metrics of every JVM on this host (code cache, leaks, JIT state).
    #[command(after_help = cmd::exporter::EXAMPLES)]
    Exporter(cmd::exporter::Args),
    /// How sparse the hot code lies in the code cache, with a map of the code heaps.
    #[command(after_help = cmd::sparseness::EXAMPLES)]
    Sparseness(cmd::sparseness::Args),
    /// Lay a JVM's hot code out compactly on a stock JDK (experimental, needs WhiteBox flags).
    #[command(after_help = cmd::compact::EXAMPLES)]
    Compact(cmd::compact::Args),
    /// Measure what compaction is worth for a workload: natural, compact and sparse layouts
    /// of its hot code, interleaved, with intervals and a verdict (experimental).
    #[command(after_help = cmd::lab::EXAMPLES)]
    Lab(cmd::lab::Args),
    /// Inspect JFR recordings: summary of event types, events as JSON lines.
    #[command(subcommand, after_help = cmd::jfr::EXAMPLES)]
    Jfr(cmd::jfr::Command),
    /// The in-JVM agent: load it into a running JVM, see its status, stop it.
    #[command(subcommand, after_help = cmd::agent::EXAMPLES)]
    Agent(cmd::agent::Command),
    /// The JIT over time: compilations, deoptimizations, storms and the code cache, from a
    /// recording, a JIT log or a live JVM.
    #[command(after_help = cmd::jit::EXAMPLES)]
    Jit(cmd::jit::Args),
}

fn main() -> ExitCode {
    os::reset_sigpipe();
    if let Some(args) = cmd::jcmd::quick_args() {
        return exit::finish(cmd::jcmd::run(args));
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Record(a) => cmd::record::run(a),
        Command::Profile(a) => cmd::profile::run(a),
        Command::Jcmd(a) => cmd::jcmd::run(a),
        Command::List(a) => cmd::list::run(a),
        Command::Info(a) => cmd::info::run(a),
        Command::Directives(c) => cmd::directives::run(c),
        Command::Apply(a) => cmd::directives::run(cmd::directives::Command::Add(a)),
        Command::Codecache(a) => cmd::codecache::run(a),
        Command::Watch(a) => cmd::watch::run(a),
        Command::Exporter(a) => cmd::exporter::run(a),
        Command::Sparseness(a) => cmd::sparseness::run(a),
        Command::Compact(a) => cmd::compact::run(a),
        Command::Lab(a) => cmd::lab::run(a),
        Command::Jfr(c) => cmd::jfr::run(c),
        Command::Agent(c) => cmd::agent::run(c),
        Command::Jit(a) => cmd::jit::run(a),
    };
    exit::finish(result)
}
