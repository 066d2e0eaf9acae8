//! `hch info`: what a JVM can do for hch: version, code heaps, hot code heap, DebugNonSafepoints,
//! JFR, and what applying directives will do on it.

use std::io::Write;

use hch_target::info::JvmInfo;

use crate::exit::{Code, Status};
use crate::output::print_json;
use crate::target_args::TargetArgs;

/// Examples shown by `hch info --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch info 12345              a local JVM by pid
  hch info 12345 --json       the same as JSON
  hch info 10.0.0.5:9010      a remote JVM over JMX";

/// Arguments of `hch info`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `hch info`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let mut target = args.target.open()?;
    let info = JvmInfo::gather(target.as_mut())?;
    if args.json {
        print_json(&info)?;
    } else {
        print_text(&info)?;
    }
    Ok(Status(Code::Ok))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn print_text(i: &JvmInfo) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let vendor = i
        .vendor
        .as_deref()
        .map(|v| format!(" ({v})"))
        .unwrap_or_default();
    writeln!(
        out,
        "JVM                 {}: {} {}{vendor}",
        i.target, i.vm_name, i.vm_version
    )?;
    writeln!(
        out,
        "JDK                 {} (feature release {})",
        i.version, i.feature
    )?;
    let cc = &i.code_cache;
    let heaps: Vec<String> = [
        ("non-nmethods", cc.non_nmethods),
        ("profiled", cc.profiled),
        ("non-profiled", cc.non_profiled),
    ]
    .iter()
    .filter_map(|(name, size)| Some(format!("{name} {}", mib((*size)?))))
    .collect();
    let layout = if cc.segmented {
        format!("segmented: {}", heaps.join(", "))
    } else {
        "one heap (-XX:-SegmentedCodeCache)".into()
    };
    writeln!(
        out,
        "Code cache          {} reserved, {layout}",
        mib(cc.reserved)
    )?;
    let hot = match &i.hot_code_heap {
        None => "not in this JDK (JDK 27+, experimental)".to_string(),
        Some(h) if h.enabled => format!(
            "on, {}",
            h.size.map(mib).unwrap_or_else(|| "size unknown".into())
        ),
        Some(_) => "available, off (-XX:+UnlockExperimentalVMOptions -XX:+HotCodeHeap)".to_string(),
    };
    writeln!(out, "Hot code heap       {hot}")?;
    let dns = if i.debug_non_safepoints {
        "on: samples in compiled code are attributed exactly"
    } else {
        "off: samples in compiled code are attributed to the nearest safepoint, so profiles are biased; start the JVM with -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints"
    };
    writeln!(out, "DebugNonSafepoints  {dns}")?;
    let jfr = if i.jfr_available {
        "available"
    } else {
        "not available (no JFR.* commands): hch profile cannot record"
    };
    writeln!(out, "JFR                 {jfr}")?;
    writeln!(out, "Directives          {}", i.directives_effect)?;
    Ok(())
}
