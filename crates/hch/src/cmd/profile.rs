//! `hch profile TARGET`: the design's online path. Record a running JVM with JFR for a while
//! (only the events the analysis needs), read the recording back, analyze it like `analyze`,
//! and with `--apply` put directives for the hot set on the JVM.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use hch_codecache::codelist::{Codelist, State};
use hch_profile::Sizes;
use hch_target::apply::{ApplyMode, HotPlacement, Placement};
use hch_target::info::JvmInfo;
use hch_target::jfr::{EventSettings, RecordOptions};
use hch_target::Target;

use crate::cmd::analyze::{self, DialectArg, Options};
use crate::exit::{coded, Code, Status};
use crate::target_args::{record, TargetArgs};

/// Examples shown by `hch profile --help`.
pub const EXAMPLES: &str = "Examples:
  hch profile 1234                              # 30 s, flat profile + hot set
  hch profile 1234 --duration 10s -o hot.json   # write directives for the hot set
  hch profile 1234 --apply                      # profile, choose, write, apply in one step
  hch profile 1234 --delay 2m --duration 60s    # leave the first two minutes (warm-up) out
  hch profile 10.0.0.5:9010 --apply -o /mnt/shared/hot.json --remote-path /mnt/shared/hot.json
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
    /// Wait this long before recording (the design's starting point: leave warm-up out).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = crate::duration::parse)]
    pub delay: Duration,
    /// Keep the recording in this file.
    #[arg(long, value_name = "FILE")]
    pub keep: Option<PathBuf>,
    /// Then replace the JVM's directives with the hot set's. Everything that can fail is
    /// checked before recording starts; an empty hot set changes nothing.
    #[arg(long)]
    pub apply: bool,
    /// With --apply on a HOST:PORT target: the path on the JVM's host where the directives file
    /// (-o FILE) will be; hch checks the JVM can read it before recording.
    #[arg(long, value_name = "PATH", requires = "apply")]
    pub remote_path: Option<String>,
    #[command(flatten)]
    pub opts: Options,
}

/// Runs `hch profile`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let cancel = crate::cancel::on_interrupt()?;
    let mut t = args.target.open()?;
    let pre = preflight(&args, t.as_mut())?;
    let before = codelist(t.as_mut(), pre.info.feature);
    let mut opts = RecordOptions::new(args.duration);
    opts.interval = args.interval;
    opts.stack_depth = args.stack_depth;
    opts.delay = args.delay;
    // Compilations tell whether starting JFR deoptimized the JVM's code (JDK 22 and older).
    opts.events.push(EventSettings::new(
        "jdk.Compilation",
        &[("threshold", "0 ms")],
    ));
    let bytes = record(t.as_mut(), &opts, &cancel)?;
    if let Some(keep) = &args.keep {
        std::fs::write(keep, &bytes).with_context(|| format!("writing {}", keep.display()))?;
    }
    if let Some(storm) = hch_jit::jfr_start_storm(&hch_jfr::JfrFile::from_bytes(bytes.clone())) {
        eprintln!(
            "hch: note: this profile caused a deoptimization storm: {}. The profile includes that warm-up; a second profile of this JVM will not (see `hch jit`)",
            storm.explanation
        );
    }
    let after = codelist(t.as_mut(), pre.info.feature);
    let mut lib = analyze::library_options(&args.opts)?;
    lib.dialect = pre.dialect;
    if let Some(list) = &after {
        lib.sizes = Sizes::from_codelist(list);
    }
    let source = PathBuf::from(&args.target.target);
    let mut analysis =
        hch_profile::from_live_recording(bytes, &source, &lib).map_err(analyze::input_error)?;
    if pre.warned_safepoints {
        analysis
            .warnings
            .retain(|w| !w.contains("DebugNonSafepoints"));
    }
    if let (Some(HotPlacement::VmSampled { enabled }), Some(list)) = (pre.placement, &after) {
        hot_heap_report(t.as_mut(), &analysis.hot, list, enabled);
    }
    let cost = Cost::of(before.as_ref(), after.as_ref());
    let directives = analysis.directives.to_json();
    let empty = analysis.directives.is_empty();
    let status = analyze::report_with(analysis, &args.opts, &cost.extra())?;
    eprintln!("hch: {}", cost.words(t.describe()));
    if let (true, Some(ready)) = (args.apply, &pre.ready) {
        if empty {
            println!(
                "\nnothing applied: the hot set is empty, so {}'s directives are unchanged",
                t.describe()
            );
        } else {
            println!();
            crate::apply::apply_text(
                t.as_mut(),
                ready,
                &directives,
                ApplyMode::Replace,
                placement(&args),
            )?;
        }
    }
    next_steps(&args, t.describe());
    Ok(status)
}

/// What was learned before recording.
struct Pre {
    info: JvmInfo,
    /// Where the JVM can put hot code.
    placement: Option<HotPlacement>,
    /// For --apply: the JVM checked for it.
    ready: Option<crate::apply::Ready>,
    /// The dialect to write.
    dialect: hch_profile::Dialect,
    /// Whether the DebugNonSafepoints warning was said already.
    warned_safepoints: bool,
}

/// Before recording: JFR is there, the profile will be exact, and every --apply precondition
/// (dialect against the JVM, where the file comes from, room on the stack) holds, so that a
/// refusal never costs a whole profile.
fn preflight(args: &Args, t: &mut dyn Target) -> anyhow::Result<Pre> {
    let info = JvmInfo::gather(t)?;
    if !info.jfr_available {
        return Err(coded(
            Code::JvmFailed,
            format!(
                "{}: JFR is not available in this JVM ({})",
                t.describe(),
                info.vm_version
            ),
        ));
    }
    if info.first_jfr_costs_a_storm() {
        eprintln!(
            "hch: warning: JFR has never run in {} (JDK {}): starting it now makes the JVM throw away \
             and recompile its compiled code (measured on JDK 11 to 21: every live application method, \
             with throughput down for 5 to 25 s). Start JVMs with -XX:StartFlightRecording (or the hch \
             agent at launch) to avoid it; JDK 23 and later are not affected.",
            t.describe(),
            info.feature
        );
    }
    let warned_safepoints = !info.debug_non_safepoints;
    if warned_safepoints {
        eprintln!(
            "hch: warning: {} runs without -XX:+DebugNonSafepoints: its profile is biased to safepoint polls \
             (restart it with -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints for a true profile)",
            t.describe()
        );
    }
    let (ready, dialect, placement) = if args.apply {
        if !t.can_place_files() && !t.takes_directives_text() && args.remote_path.is_none() {
            return Err(coded(Code::Usage, format!(
                "{} reads directives files from its own host, so --apply needs --remote-path PATH (where -o FILE will lie on that host); \
                 or profile with -o FILE, copy it there, and run `hch directives replace {} FILE --remote-path PATH`",
                t.describe(), args.target.target)));
        }
        if args.remote_path.is_some() && args.opts.directives.is_none() {
            return Err(coded(
                Code::Usage,
                "--remote-path needs -o FILE: the file hch writes and you place at PATH",
            ));
        }
        let ready = crate::apply::ready(t, args.opts.dialect)?;
        crate::apply::preflight_stand_in(t, &ready, ApplyMode::Replace, &placement(args))
            .map_err(|e| e.context("not profiling: --apply could not succeed on this JVM"))?;
        let dialect = ready.dialect;
        let placement = ready.placement;
        (Some(ready), dialect, Some(placement))
    } else {
        let placement = hch_target::apply::probe_hot_option(t, &info)?;
        let dialect = match args.opts.dialect {
            DialectArg::Auto => placement.dialect(),
            other => other.offline(),
        };
        (None, dialect, Some(placement))
    };
    Ok(Pre {
        info,
        placement,
        ready,
        dialect,
        warned_safepoints,
    })
}

/// On a JVM with JDK 27's hot code heap (the VM picks its code by sampling), which of the
/// profile's hot blobs sit in `'hot nmethods'` and which do not, and the flags that give it
/// more room or a wider pick.
fn hot_heap_report(t: &mut dyn Target, hot: &hch_profile::HotSet, list: &Codelist, on: bool) {
    let Some(cache) = t
        .jcmd("Compiler.codecache")
        .ok()
        .and_then(|c| hch_codecache::codecache::parse(&c).ok())
    else {
        return;
    };
    let s = hch_codecache::sparse::join(list, &cache, &hot.hot_methods());
    let inside = |p: &&hch_codecache::sparse::Placed| p.heap.contains("hot nmethods");
    let n_in = s.placed.iter().filter(inside).count();
    let share = s.hot_heap_sample_share.unwrap_or(0.0) * 100.0;
    eprintln!(
        "hch: hot code heap ('hot nmethods', {}): {n_in} of the {} hot blobs placed sit in it, with {share:.1}% of their samples",
        if on { "on" } else { "off" },
        s.placed.len()
    );
    let outside: Vec<String> = s
        .placed
        .iter()
        .filter(|p| !inside(p))
        .take(5)
        .map(|p| format!("{}.{}", p.method.class, p.method.name))
        .collect();
    if !outside.is_empty() {
        eprintln!("hch:   hottest outside it: {}", outside.join(", "));
        eprintln!("hch:   the VM picks by its own sampling: -XX:HotCodeHeapSize=<size> gives it more room, -XX:HotCodeSamplePercent=<pct> (80) a wider pick, -XX:HotCodeIntervalSeconds=<s> (300) a faster one");
    }
}

/// Where the JVM reads the directives from.
fn placement(args: &Args) -> Placement {
    match &args.remote_path {
        Some(p) => Placement::RemotePath(p.clone()),
        None => Placement::Placed,
    }
}

/// The JVM's codelist, for real sizes and tiers and the not-entrant count; `None` when the
/// JVM cannot give it (the profile then uses 4 KB per blob).
fn codelist(t: &mut dyn Target, feature: u32) -> Option<Codelist> {
    let text = t.jcmd("Compiler.codelist").ok()?;
    hch_codecache::codelist::parse_for(&text, feature).ok()
}

/// What the profile cost the JVM: nmethods made not entrant while hch recorded.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Cost {
    /// Not-entrant nmethods before recording.
    pub not_entrant_before: Option<usize>,
    /// And after.
    pub not_entrant_after: Option<usize>,
    /// Compiled methods in all, after.
    pub nmethods_after: Option<usize>,
}

impl Cost {
    fn of(before: Option<&Codelist>, after: Option<&Codelist>) -> Cost {
        let dead = |l: &Codelist| {
            l.entries
                .iter()
                .filter(|e| e.state == State::NotEntrant)
                .count()
        };
        Cost {
            not_entrant_before: before.map(dead),
            not_entrant_after: after.map(dead),
            nmethods_after: after.map(|l| l.entries.len()),
        }
    }

    /// nmethods thrown away during the profile.
    fn thrown_away(&self) -> Option<usize> {
        Some(
            self.not_entrant_after?
                .saturating_sub(self.not_entrant_before?),
        )
    }

    /// The JSON member added to `--json`.
    fn extra(&self) -> Vec<(&'static str, serde_json::Value)> {
        vec![(
            "profiling_cost",
            serde_json::to_value(self).unwrap_or_default(),
        )]
    }

    /// The cost in one line.
    fn words(&self, target: String) -> String {
        match self.thrown_away() {
            Some(n) => format!(
                "profiling cost {target} {n} nmethods made not entrant (recompiled as they run again): {} not entrant before, {} after",
                self.not_entrant_before.unwrap_or(0),
                self.not_entrant_after.unwrap_or(0)
            ),
            None => format!("profiling cost: {target} gave no codelist, so the not-entrant count is unknown"),
        }
    }
}

/// What to do next, filled in for this target.
fn next_steps(args: &Args, target: String) {
    let spec = &args.target.target;
    let mut lines = Vec::new();
    match (&args.opts.directives, args.apply) {
        (Some(f), false) => lines.push(format!(
            "hch directives replace {spec} {}    # apply the directives written",
            f.display()
        )),
        (None, false) => lines.push(format!(
            "hch profile {spec} --apply    # profile, then apply the hot set's directives"
        )),
        (_, true) => lines.push(format!(
            "hch directives print {spec}    # the directive stack now"
        )),
    }
    lines.push(format!(
        "hch sparseness {spec}    # how scattered the hot code lies in the code cache"
    ));
    lines.push(format!(
        "hch codecache {spec}    # code cache health: fragmentation, leaks, full"
    ));
    eprintln!("\nnext, for {target}:");
    for l in lines {
        eprintln!("  {l}");
    }
}
