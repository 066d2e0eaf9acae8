//! `hch lab`: what the layout of hot code is worth for a user's own workload, on a stock JDK.
//! hch runs the workload with the WhiteBox flags, profiles its hot set, then measures its own
//! score in phases: the JIT's natural layout first, then compact and sparse layouts of the same
//! hot set built through the agent, in interleaved rounds in one JVM (or one layout per fresh
//! JVM with `--fresh`). The result: each layout's throughput relative to compact with a 95%
//! interval, the page and region figures of each layout, a verdict, a bar chart and maps.

mod workload;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Context;
use hch_codecache::sparse::{self, Figures, Map};
use hch_codecache::MethodRef;
use hch_lab::score::{self, ScoreSpec};
use hch_lab::stats::{self, Phase, Summary};
use hch_target::jfr::RecordOptions;
use serde::Serialize;

use crate::cmd::agent::{library, open_vm};
use crate::cmd::codecache::{feature, snapshot};
use crate::cmd::sparseness::hot_from_recording;
use crate::exit::{coded, Code, Status};
use crate::relayout::{self, Ask, Channel, WHITEBOX_FLAGS};
use crate::target_args::Connect;
use workload::{Ended, Workload};

/// Examples shown by `hch lab --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch lab --demo small:1000                       hch's generated workload: 1000 small hot methods
  hch lab --demo large:1000 --svg chart.svg       larger methods: expect no measurable effect
  hch lab --score 'ops/s: ([0-9.]+)' -- java -cp app.jar Bench
  hch lab -- java -jar benchmarks.jar -f 0 -wi 0 -i 200 -r 1s MyBench    JMH, no fork
  hch lab --fresh --rounds 3 -- java -cp app.jar Bench     one layout per fresh JVM

The workload must print a score repeatedly (JMH iteration lines, lines `score N`, or what
--score REGEX takes), or use --score time with --fresh: the time from the layout being in place
to its exit. hch adds -XX:+UnlockDiagnosticVMOptions -XX:+WhiteBoxAPI -XX:+DebugNonSafepoints
and, unless given, -XX:ReservedCodeCacheSize=2000m after `java` (or in JDK_JAVA_OPTIONS when the
command is a script). Experimental: a lab tool, not for production JVMs.";

/// Arguments of `hch lab`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run hch's generated workload: small:N or large:N hot methods (N up to 20000).
    #[arg(long, value_name = "KIND:N", conflicts_with = "command")]
    pub demo: Option<String>,
    /// The workload's score: a regex whose first group is the number, or `time` (with
    /// --fresh). Default: JMH iteration lines and lines `score N`.
    #[arg(long, value_name = "REGEX")]
    pub score: Option<String>,
    /// A smaller score is better (latencies) for --score REGEX.
    #[arg(long)]
    pub lower_is_better: bool,
    /// Run the workload this long before profiling it.
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, default_value = "15s")]
    pub warmup: Duration,
    /// Profile the hot set this long (1 ms samples).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, default_value = "10s")]
    pub profile: Duration,
    /// Measure each layout this long.
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, default_value = "8s")]
    pub phase: Duration,
    /// Let the workload run this long after each re-layout before measuring (the JIT
    /// recompiles the callers of moved methods).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse, default_value = "3s")]
    pub settle: Duration,
    /// Rounds of the layouts.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// The layouts measured after the natural one, in each round.
    #[arg(long, value_name = "LIST", default_value = "compact,sparse")]
    pub layouts: String,
    /// One layout per fresh JVM instead of interleaved phases in one JVM.
    #[arg(long)]
    pub fresh: bool,
    /// Hot methods moved, hottest first.
    #[arg(long, default_value_t = 5000)]
    pub top: usize,
    /// The hot set from a file (one Compiler Control pattern per line, `pkg/Cls.name(desc)`, or
    /// a directives file's `match` patterns) instead of a profile. With --demo, the demo's own
    /// methods are the hot set unless --profile-demo is given.
    #[arg(long, value_name = "FILE")]
    pub methods: Option<PathBuf>,
    /// Profile the demo's hot set like any workload's instead of taking its known methods.
    #[arg(long)]
    pub profile_demo: bool,
    /// Write the bar chart (throughput of each layout vs compact, with intervals) here.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write maps of the hot code of each layout, side by side, here.
    #[arg(long, value_name = "FILE")]
    pub maps: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Copy the workload's output to stderr.
    #[arg(long)]
    pub show_output: bool,
    /// The java launcher for --demo (default: $JAVA_HOME/bin/java, else java on PATH).
    #[arg(long, value_name = "PATH")]
    pub java: Option<PathBuf>,
    /// The agent library (default: next to hch, or $HCH_AGENT_LIB).
    #[arg(long, value_name = "PATH")]
    pub lib: Option<PathBuf>,
    #[command(flatten)]
    pub connect: Connect,
    /// The workload: `java ...` or a script that starts one JVM.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// One measured phase, with the layout's figures.
#[derive(Debug, Clone, Serialize)]
struct PhaseRecord {
    round: usize,
    layout: String,
    samples: Vec<f64>,
    /// Hot pages and regions of the layout (from the agent, or the codelist for natural).
    figures: Option<Figures>,
    relayout_ms: Option<u64>,
}

/// The JSON document.
#[derive(Debug, Serialize)]
struct Output<'a> {
    command: &'a [String],
    mode: &'static str,
    hot_methods: usize,
    unit: Option<String>,
    phases: &'a [PhaseRecord],
    summary: &'a Summary,
}

/// What the lab needs of one run.
struct Setup {
    argv: Vec<String>,
    env: Vec<(String, String)>,
    direct: bool,
    spec: ScoreSpec,
    time_score: bool,
    layouts: Vec<&'static str>,
    lib: PathBuf,
    /// The hot set when it is known without a profile: the demo's methods, or --methods.
    known_hot: Option<Vec<MethodRef>>,
    _demo_dir: Option<tempfile::TempDir>,
}

/// Runs `hch lab`.
pub fn run(a: Args) -> anyhow::Result<Status> {
    let setup = setup(&a)?;
    let cancel = crate::cancel::on_interrupt()?;
    let mut lab = Lab {
        a: &a,
        s: &setup,
        cancel: &cancel,
        phases: Vec::new(),
        maps: Vec::new(),
        unit: None,
        lower: false,
        hot: 0,
        bar: crate::output::progress(
            (a.rounds * (setup.layouts.len() + usize::from(a.fresh)) + usize::from(!a.fresh))
                as u64,
            "hch lab: phases",
        ),
    };
    let outcome = if a.fresh {
        lab.fresh()
    } else {
        lab.interleaved()
    };
    outcome?;
    lab.report()
}

/// The command, flags, score and layouts.
fn setup(a: &Args) -> anyhow::Result<Setup> {
    let mut layouts = Vec::new();
    for l in a
        .layouts
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        layouts.push(match l {
            "compact" => "compact",
            "sparse" => "sparse",
            _ => {
                return Err(coded(
                    Code::Usage,
                    format!("--layouts: `{l}` is not compact or sparse"),
                ))
            }
        });
    }
    if !layouts.contains(&"compact") {
        return Err(coded(
            Code::Usage,
            "--layouts must include compact: the ratios are relative to it",
        ));
    }
    if a.rounds == 0 || a.rounds > 100 {
        return Err(coded(Code::Usage, "--rounds takes 1 to 100"));
    }
    let time_score = a.score.as_deref() == Some("time");
    if time_score && !a.fresh {
        return Err(coded(
            Code::Usage,
            "--score time needs --fresh: a time to complete is one number per JVM",
        ));
    }
    let spec = match a.score.as_deref() {
        None | Some("time") => ScoreSpec::Auto,
        Some(re) => ScoreSpec::regex(re, a.lower_is_better)
            .map_err(|e| coded(Code::Usage, format!("--score: {e}")))?,
    };
    let (mut argv, demo_dir, demo_hot) = match &a.demo {
        Some(d) => demo_command(d, a)?,
        None if a.command.is_empty() => {
            return Err(coded(Code::Usage, "give the workload after `--` (e.g. hch lab -- java -cp app.jar Main), or --demo small:1000"))
        }
        None => (a.command.clone(), None, None),
    };
    let known_hot = match (&a.methods, demo_hot) {
        (Some(p), _) => Some(methods_file(p)?),
        (None, Some(m)) if !a.profile_demo => Some(m),
        _ => None,
    };
    let direct = Path::new(&argv[0]).file_name().is_some_and(|n| n == "java");
    let flags = lab_flags(&argv);
    let mut env = Vec::new();
    if direct {
        argv.splice(1..1, flags);
    } else {
        let old = std::env::var("JDK_JAVA_OPTIONS").unwrap_or_default();
        env.push((
            "JDK_JAVA_OPTIONS".to_string(),
            format!("{old} {}", flags.join(" ")).trim().to_string(),
        ));
    }
    Ok(Setup {
        argv,
        env,
        direct,
        spec,
        time_score,
        layouts,
        lib: library(a.lib.as_deref())?,
        known_hot,
        _demo_dir: demo_dir,
    })
}

/// The flags hch adds: WhiteBox, exact samples, and room for the sparse layouts.
fn lab_flags(argv: &[String]) -> Vec<String> {
    let mut f: Vec<String> = WHITEBOX_FLAGS.iter().map(|s| s.to_string()).collect();
    f.push("-XX:+DebugNonSafepoints".into());
    if !argv.iter().any(|x| x.contains("ReservedCodeCacheSize")) {
        f.push("-XX:ReservedCodeCacheSize=2000m".into());
    }
    f
}

/// The demo's command, its classes' directory and its hot methods.
type DemoRun = (
    Vec<String>,
    Option<tempfile::TempDir>,
    Option<Vec<MethodRef>>,
);

/// The generated workload, written to a temporary directory, and its command.
fn demo_command(d: &str, a: &Args) -> anyhow::Result<DemoRun> {
    let (kind, n) = d.split_once(':').unwrap_or((d, "1000"));
    let kind: hch_lab::demo::DemoKind = kind
        .parse()
        .map_err(|e| coded(Code::Usage, format!("--demo: {e}")))?;
    let n: usize = n
        .parse()
        .map_err(|_| coded(Code::Usage, format!("--demo {d}: N is not a number")))?;
    let demo = hch_lab::demo::generate(kind, n, 42)
        .map_err(|e| coded(Code::Usage, format!("--demo: {e}")))?;
    let dir = tempfile::Builder::new()
        .prefix("hch-lab-demo-")
        .tempdir()
        .context("creating the demo's directory")?;
    demo.write_to(dir.path())
        .context("writing the demo's classes")?;
    let java = match &a.java {
        Some(j) => j.clone(),
        None => std::env::var_os("JAVA_HOME")
            .map(|h| PathBuf::from(h).join("bin/java"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("java")),
    };
    let per_jvm = a.warmup
        + a.profile
        + (a.phase + Duration::from_secs(10))
            * (1 + a.layouts.split(',').count() as u32 * if a.fresh { 1 } else { a.rounds as u32 });
    let mut argv = vec![java.to_string_lossy().into_owned()];
    argv.extend(demo.jvm_flags.iter().cloned());
    argv.extend([
        "-cp".to_string(),
        dir.path().to_string_lossy().into_owned(),
        demo.main_class.clone(),
        (per_jvm.as_secs() + 60).to_string(),
    ]);
    let hot = demo
        .hot_methods
        .iter()
        .filter_map(|p| MethodRef::from_pattern(p))
        .collect();
    Ok((argv, Some(dir), Some(hot)))
}

/// A hot set from a file: a directives file's `match` patterns, or one pattern per line.
fn methods_file(p: &Path) -> anyhow::Result<Vec<MethodRef>> {
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    let methods: Vec<MethodRef> = if text.trim_start().starts_with(['[', '{']) {
        crate::cmd::sparseness::directives_patterns(p, &text)?
    } else {
        text.lines().filter_map(MethodRef::from_pattern).collect()
    };
    if methods.is_empty() {
        return Err(coded(
            Code::BadInput,
            format!("{}: names no whole method", p.display()),
        ));
    }
    Ok(methods)
}

/// A lab run in progress.
struct Lab<'a> {
    a: &'a Args,
    s: &'a Setup,
    cancel: &'a AtomicBool,
    phases: Vec<PhaseRecord>,
    maps: Vec<Map>,
    unit: Option<String>,
    /// The scores read are times (JMH's s/op, --lower-is-better).
    lower: bool,
    hot: usize,
    /// Phases done, on a terminal.
    bar: indicatif::ProgressBar,
}

/// Where a phase of the workload's output begins and ends.
struct Window {
    from: Instant,
    to: Instant,
}

impl Lab<'_> {
    /// Starts the workload and waits out the warm-up.
    fn start(&self) -> anyhow::Result<(Workload, u32)> {
        let mut w = Workload::spawn(&self.s.argv, &self.s.env, self.a.show_output)
            .with_context(|| format!("starting the workload `{}`", self.s.argv.join(" ")))?;
        let pid = w
            .jvm_pid(self.s.direct, Duration::from_secs(30), self.cancel)
            .map_err(|e| self.ended(&w, e, "while starting"))?;
        w.sleep(self.a.warmup, self.cancel)
            .map_err(|e| self.ended(&w, e, "during the warm-up"))?;
        Ok((w, pid))
    }

    /// An error for a workload that ended or a Ctrl-C.
    fn ended(&self, w: &Workload, e: Ended, when: &str) -> anyhow::Error {
        match e {
            Ended::Cancelled => coded(Code::Interrupted, "interrupted: the workload was stopped and hch's files removed"),
            Ended::Exited(st) => coded(
                Code::Error,
                format!(
                    "the workload exited ({st}) {when}, {:.0} s after it started; it must run for the whole lab (warm-up {} s, profile {} s, then phases of {} s): give it more work or a longer run. Its last lines:\n{}",
                    w.started.elapsed().as_secs_f64(),
                    self.a.warmup.as_secs(),
                    self.a.profile.as_secs(),
                    self.a.phase.as_secs(),
                    w.tail()
                ),
            ),
        }
    }

    /// Profiles the hot set of the JVM `pid`: hottest first, those with compiled code.
    fn hot_set(&mut self, pid: u32, w: &mut Workload) -> anyhow::Result<Vec<MethodRef>> {
        let spec = pid.to_string();
        let connect = &self.a.connect;
        let mut t = connect.open(&spec)?;
        relayout::require_whitebox(t.as_mut(), &format!("pid {pid}"))?;
        if let Some(known) = &self.s.known_hot {
            self.hot = known.len();
            return Ok(known.clone());
        }
        let mut ro = RecordOptions::new(self.a.profile);
        ro.interval = Duration::from_millis(1);
        let bytes = connect.record(&spec, &ro, self.cancel)?;
        w.pump();
        let jdk = feature(t.as_mut());
        let snap = snapshot(t.as_mut(), jdk, true, false)?;
        let list = snap.list.as_ref().context("no codelist")?;
        let hot = hot_from_recording(bytes, Path::new("lab profile"), list, self.a.top)?;
        let joined = sparse::join(list, &snap.cache, &hot);
        let methods: Vec<MethodRef> = joined.placed.iter().map(|p| p.method.clone()).collect();
        if methods.is_empty() {
            return Err(coded(Code::Error, format!("pid {pid}: the profile found no compiled hot methods; warm the workload up longer (--warmup)")));
        }
        self.hot = methods.len();
        Ok(methods)
    }

    /// Interleaved phases in one JVM: natural, then rounds of the layouts.
    fn interleaved(&mut self) -> anyhow::Result<()> {
        let (mut w, pid) = self.start()?;
        let methods = self.hot_set(pid, &mut w)?;
        let mut windows = Vec::new();
        let (fig, map) = self.natural_layout(pid, &methods)?;
        self.maps.push(map);
        windows.push((
            self.measure(&mut w)?,
            PhaseRecord {
                round: 1,
                layout: "natural".into(),
                samples: Vec::new(),
                figures: Some(fig),
                relayout_ms: None,
            },
        ));
        for round in 1..=self.a.rounds {
            for &layout in &self.s.layouts {
                let rec = self.build(pid, &methods, layout, round, &mut w)?;
                windows.push((self.measure(&mut w)?, rec));
            }
        }
        w.stop();
        self.collect(&w, windows)
    }

    /// One layout per fresh JVM; the hot set comes from the first JVM's profile.
    fn fresh(&mut self) -> anyhow::Result<()> {
        let mut methods: Option<Vec<MethodRef>> = None;
        for round in 1..=self.a.rounds {
            for layout in std::iter::once("natural").chain(self.s.layouts.iter().copied()) {
                let (mut w, pid) = self.start()?;
                if methods.is_none() {
                    methods = Some(self.hot_set(pid, &mut w)?);
                }
                let m = methods.as_deref().unwrap_or_default();
                let rec = if layout == "natural" {
                    let (fig, map) = self.natural_layout(pid, m)?;
                    if round == 1 {
                        self.maps.push(map);
                    }
                    PhaseRecord {
                        round,
                        layout: "natural".into(),
                        samples: Vec::new(),
                        figures: Some(fig),
                        relayout_ms: None,
                    }
                } else {
                    self.build(pid, m, layout, round, &mut w)?
                };
                let win = if self.s.time_score {
                    let from = Instant::now();
                    let to = w
                        .wait_exit(Duration::from_secs(3600), self.cancel)
                        .map_err(|e| self.ended(&w, e, "while timed"))?;
                    let mut rec = rec;
                    rec.samples = vec![1.0 / (to - from).as_secs_f64().max(1e-9)];
                    self.unit = Some("runs/s".into());
                    self.phases.push(rec);
                    continue;
                } else {
                    self.measure(&mut w)?
                };
                w.stop();
                self.collect(&w, vec![(win, rec)])?;
            }
        }
        Ok(())
    }

    /// The figures and map of the JIT's own layout of the hot set.
    fn natural_layout(&self, pid: u32, methods: &[MethodRef]) -> anyhow::Result<(Figures, Map)> {
        let spec = pid.to_string();
        let mut t = self.a.connect.open(&spec)?;
        let jdk = feature(t.as_mut());
        let snap = snapshot(t.as_mut(), jdk, true, false)?;
        let list = snap.list.as_ref().context("no codelist")?;
        let hot: Vec<sparse::HotMethod> = methods
            .iter()
            .map(|m| sparse::HotMethod {
                method: m.clone(),
                samples: 1,
            })
            .collect();
        let s = sparse::join(list, &snap.cache, &hot);
        Ok((
            s.overall.clone(),
            sparse::map_of(list, &snap.cache, &s, "natural (the JIT's own layout)"),
        ))
    }

    /// Builds `layout` through the agent; the first round's layout also gets a map.
    fn build(
        &mut self,
        pid: u32,
        methods: &[MethodRef],
        layout: &'static str,
        round: usize,
        w: &mut Workload,
    ) -> anyhow::Result<PhaseRecord> {
        let mut ch = Channel::Attach {
            vm: open_vm(pid, &self.a.connect)?,
            lib: self.s.lib.clone(),
        };
        let ask = Ask {
            methods,
            layout,
            time: Duration::from_secs(600),
            flush: true,
        };
        let r = relayout::run(&mut ch, &ask, self.cancel)?;
        w.pump();
        if !w.alive() {
            return Err(self.ended(
                w,
                Ended::Exited(w.exit_status().unwrap_or_default().to_string()),
                "during a re-layout",
            ));
        }
        w.sleep(self.a.settle, self.cancel)
            .map_err(|e| self.ended(w, e, "after a re-layout"))?;
        if round == 1 {
            let (_, mut map) = self.natural_layout(pid, methods)?;
            map.title = format!("{layout} (built by hch through WhiteBox)");
            self.maps.push(map);
        }
        if !self.a.json {
            let line = format!("hch lab: round {round}: {layout}: {} methods moved in {:.1} s, {} hot pages, {} regions", r.moved, r.millis as f64 / 1000.0, r.after.pages, r.after.regions);
            self.bar.suspend(|| eprintln!("{line}"));
        }
        Ok(PhaseRecord {
            round,
            layout: layout.into(),
            samples: Vec::new(),
            figures: Some(r.after),
            relayout_ms: Some(r.millis),
        })
    }

    /// One phase: the workload runs `--phase` long.
    fn measure(&self, w: &mut Workload) -> anyhow::Result<Window> {
        let from = Instant::now();
        w.sleep(self.a.phase, self.cancel)
            .map_err(|e| self.ended(w, e, "during a phase"))?;
        self.bar.inc(1);
        Ok(Window {
            from,
            to: Instant::now(),
        })
    }

    /// Takes each phase's score lines from the workload's output.
    fn collect(&mut self, w: &Workload, windows: Vec<(Window, PhaseRecord)>) -> anyhow::Result<()> {
        for (win, mut rec) in windows {
            for l in w.lines.iter().filter(|l| l.at > win.from && l.at <= win.to) {
                if let Some(s) = score::parse_line(&self.s.spec, &l.text) {
                    if self.unit.is_none() {
                        self.unit = s.unit.clone();
                        self.lower = !s.higher_is_better;
                    }
                    rec.samples.push(s.value);
                }
            }
            self.phases.push(rec);
        }
        Ok(())
    }

    /// Statistics, verdict, chart, maps and the report.
    fn report(&self) -> anyhow::Result<Status> {
        self.bar.finish_and_clear();
        let scored: usize = self.phases.iter().map(|p| p.samples.len()).sum();
        if scored == 0 {
            return Err(coded(Code::Error, format!(
                "the workload printed no score during the phases ({} phases of {} s): print a line `score N` repeatedly, run JMH with iterations, or give --score REGEX (with one capture group)",
                self.phases.len(), self.a.phase.as_secs()
            )));
        }
        let higher = !self.lower || self.s.time_score;
        let input: Vec<Phase> = self
            .phases
            .iter()
            .map(|p| Phase {
                round: p.round,
                layout: p.layout.clone(),
                samples: p.samples.clone(),
            })
            .collect();
        let settle = usize::from(!self.s.time_score);
        let summary = stats::summarize(
            &input,
            &stats::Options {
                baseline: "compact".into(),
                settle,
                higher_is_better: higher,
            },
        )
        .map_err(|e| coded(Code::Error, format!("the scores cannot be compared: {e}")))?;
        if let Some(p) = &self.a.svg {
            std::fs::write(p, hch_lab::chart::bars_svg(&summary))
                .with_context(|| format!("writing {}", p.display()))?;
        }
        if let Some(p) = &self.a.maps {
            std::fs::write(p, sparse::svg_maps(&self.maps))
                .with_context(|| format!("writing {}", p.display()))?;
        }
        if self.a.json {
            crate::output::print_json(&Output {
                command: &self.s.argv,
                mode: if self.a.fresh { "fresh" } else { "interleaved" },
                hot_methods: self.hot,
                unit: self.unit.clone(),
                phases: &self.phases,
                summary: &summary,
            })?;
        } else {
            self.print_text(&mut std::io::stdout().lock(), &summary)?;
        }
        Ok(Status(Code::Ok))
    }

    fn print_text(&self, o: &mut impl Write, s: &Summary) -> std::io::Result<()> {
        let unit = self.unit.as_deref().unwrap_or("");
        let mode = if self.a.fresh {
            "one layout per fresh JVM"
        } else {
            "interleaved phases in one JVM"
        };
        writeln!(
            o,
            "hch lab: {} hot methods, {mode}, {} rounds, phases of {} s",
            self.hot,
            self.a.rounds,
            self.a.phase.as_secs()
        )?;
        writeln!(
            o,
            "\n{:<8} {:>6} {:>12} {:>8} {:>22} {:>9} {:>8}",
            "layout",
            "phases",
            format!("median {unit}"),
            "spread",
            "vs compact [95% CI]",
            "4K pages",
            "2M regs"
        )?;
        for l in &s.layouts {
            let ratio = s.ratios.iter().find(|r| r.layout == l.layout);
            let r = match ratio {
                Some(r) => match r.interval {
                    Some([lo, hi]) => format!("{:.3} [{lo:.3}, {hi:.3}]", r.estimate),
                    None => format!("{:.3} (one pair)", r.estimate),
                },
                None if l.layout == s.baseline => "1 (baseline)".into(),
                None => "-".into(),
            };
            let fig = self
                .phases
                .iter()
                .rev()
                .find(|p| p.layout == l.layout)
                .and_then(|p| p.figures.as_ref());
            writeln!(
                o,
                "{:<8} {:>6} {:>12.2} {:>7.1}% {:>22} {:>9} {:>8}",
                l.layout,
                l.phases,
                l.median,
                l.spread * 100.0,
                r,
                fig.map_or("-".into(), |f| f.pages.to_string()),
                fig.map_or("-".into(), |f| f.regions.to_string())
            )?;
        }
        writeln!(o)?;
        for v in &s.verdict {
            writeln!(o, "{v}")?;
        }
        if let Some(p) = &self.a.svg {
            writeln!(o, "chart: {}", p.display())?;
        }
        if let Some(p) = &self.a.maps {
            writeln!(o, "maps: {}", p.display())?;
        }
        Ok(())
    }
}
