//! `hch profile TARGET`: the design's online path. Record a running JVM with JFR for a while
//! (only the events the analysis needs), read the recording back, analyze it like `analyze`,
//! and with `--apply` put directives for the hot set on the JVM.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use hch_target::info::JvmInfo;
use hch_target::jfr::RecordOptions;

use crate::cmd::analyze::{self, Options};
use crate::exit::{coded, Status};
use crate::target_args::{record_local, TargetArgs};

/// Examples shown by `hch profile --help`.
pub const EXAMPLES: &str = "Examples:
  hch profile 1234                              # 30 s, flat profile + hot set
  hch profile 1234 --duration 10s -o hot.json   # write directives for the hot set
  hch profile 1234 --apply --dialect stock      # profile, choose, write, apply in one step
  hch profile 10.0.0.5:9010 --user monitorRole --password-file pw.txt --duration 20s";

/// Arguments of `hch profile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How long to record.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::duration::parse)]
    pub duration: Duration,
    /// Sampling interval of jdk.ExecutionSample.
    #[arg(long, value_name = "DURATION", default_value = "10ms", value_parser = crate::duration::parse)]
    pub interval: Duration,
    /// Stack depth JFR records (JFR's option is global to the JVM: set only when not 64).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub stack_depth: u32,
    /// Keep the recording in this file.
    #[arg(long, value_name = "FILE")]
    pub keep: Option<PathBuf>,
    /// Then apply directives for the hot set to the JVM (replacing earlier ones).
    #[arg(long)]
    pub apply: bool,
    #[command(flatten)]
    pub opts: Options,
}

/// Runs `hch profile`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let lib = analyze::library_options(&args.opts)?;
    let cancel = crate::cancel::on_interrupt()?;
    let mut opts = RecordOptions::new(args.duration);
    opts.interval = args.interval;
    opts.stack_depth = args.stack_depth;
    let bytes = if args.target.is_remote() {
        args.target
            .connect
            .record(&args.target.target, &opts, &cancel)?
    } else {
        check_and_record(&args, &opts, &cancel)?
    };
    if let Some(keep) = &args.keep {
        std::fs::write(keep, &bytes).with_context(|| format!("writing {}", keep.display()))?;
    }
    let source = PathBuf::from(&args.target.target);
    let analysis =
        hch_profile::from_live_recording(bytes, &source, &lib).map_err(analyze::input_error)?;
    let directives = analysis.directives.to_json();
    let status = analyze::report(analysis, &args.opts)?;
    if args.apply {
        apply(&args.target, &directives)?;
    }
    Ok(status)
}

/// A local JVM: check what it can do, then record through the attach mechanism.
fn check_and_record(
    args: &Args,
    opts: &RecordOptions,
    cancel: &AtomicBool,
) -> anyhow::Result<Vec<u8>> {
    let mut t = args.target.open()?;
    let info = JvmInfo::gather(t.as_mut())?;
    if !info.jfr_available {
        return Err(coded(
            4,
            format!(
                "{}: JFR is not available in this JVM ({})",
                t.describe(),
                info.vm_version
            ),
        ));
    }
    if !info.debug_non_safepoints {
        eprintln!(
            "hch: warning: {} runs without -XX:+DebugNonSafepoints: its profile is biased to safepoint polls \
             (restart it with -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints for a true profile)",
            t.describe()
        );
    }
    record_local(t.as_mut(), opts, cancel)
}

/// Replaces the JVM's directives with the hot set's, and says what changed.
fn apply(target: &TargetArgs, json: &str) -> anyhow::Result<()> {
    if json.trim().is_empty() || json.contains("\"match\": []") {
        return Err(coded(1, "the hot set is empty: nothing to apply"));
    }
    let mut t = target.open()?;
    let info = JvmInfo::gather(t.as_mut())?;
    let hot_option = info.hot_code_heap.as_ref().is_some_and(|h| h.enabled);
    let report = hch_profile::check(
        json,
        hch_profile::CheckTarget {
            feature: info.feature,
            hot_option,
        },
    );
    if !report.accepted {
        let why: Vec<String> = report
            .errors
            .iter()
            .map(|p| format!("line {}: {}", p.line, p.message))
            .collect();
        return Err(coded(
            6,
            format!(
                "not applied: {} ({}) would reject these directives: {}{}",
                t.describe(),
                info.version,
                why.join("; "),
                if hot_option {
                    ""
                } else {
                    "\n  this JVM has no hot code segment: use --dialect stock to apply options every JDK accepts"
                }
            ),
        ));
    }
    let outcome = hch_target::directives::replace(t.as_mut(), json)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\napplied to {}: {}",
        t.describe(),
        outcome.response.trim_end()
    )?;
    writeln!(out, "{}", outcome.note)?;
    Ok(())
}
