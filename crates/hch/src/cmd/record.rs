//! `hch record`: launch a Java command with JFR running from its first instruction (starting it
//! later deoptimizes hundreds of methods), then analyze the recording like `hch analyze`.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hch_codecache::codelist::Codelist;
use hch_profile::Sizes;
use hch_target::apply::HotPlacement;
use hch_target::info::JvmInfo;
use hch_target::jfr::RecordOptions;
use hch_target::Target;

use crate::cmd::analyze;
use crate::exit::{coded, Code, Status};

/// Examples shown by `hch record --help`.
pub const EXAMPLES: &str = "Examples:
  hch record --duration 15s -- java examples/HotLoop.java
  hch record --delay 30s --duration 60s -- java -jar app.jar   # leave warm-up out
  hch record --interval 5ms -o hot.json --dialect stock -- java -jar app.jar
  hch record --keep app.jfr --flat 50 -a -- java -cp app.jar Main arg1
Ctrl-C ends the program cleanly (SIGTERM) and still reports the samples recorded so far.";

/// How long a JVM gets to dump its recording and exit after SIGTERM (a loaded machine needs long).
const EXIT_GRACE: Duration = Duration::from_secs(60);

/// Arguments of `hch record`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Record this long (from when JFR starts), then end the program cleanly (SIGTERM), e.g. 15s
    /// or 2m; default: until it exits.
    #[arg(long, value_name = "D", value_parser = crate::duration::parse)]
    pub duration: Option<Duration>,
    /// Sampling interval of jdk.ExecutionSample (1ms or more).
    #[arg(long, value_name = "D", default_value = "10ms", value_parser = parse_interval)]
    pub interval: Duration,
    /// Frames kept per sample (JFR's stackdepth).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=2048))]
    pub stack_depth: u32,
    /// Do not add -XX:+DebugNonSafepoints (the profile is then biased to safepoint polls).
    #[arg(long)]
    pub no_debug_nonsafepoints: bool,
    /// Keep the recording in this file (otherwise nothing is left behind).
    #[arg(long, value_name = "FILE")]
    pub keep: Option<PathBuf>,
    /// Start recording this long after JFR is up (warm-up left out). JFR itself still starts
    /// with the JVM, so no compiled code is thrown away when recording begins.
    #[arg(long, value_name = "D", default_value = "0s", value_parser = crate::duration::parse)]
    pub delay: Duration,
    #[command(flatten)]
    pub opts: analyze::Options,
    /// The Java command: `java [options] MainClass|-jar app.jar|File.java [args]`.
    #[arg(last = true, required = true, value_name = "JAVA_COMMAND")]
    pub command: Vec<String>,
}

/// Runs `hch record`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let mut lib = analyze::library_options(&args.opts)?;
    let dir = tempfile::Builder::new()
        .prefix("hch-record-")
        .tempdir()
        .context("creating a temporary directory")?;
    let recording = dir.path().join("recording.jfr");
    let settings = dir.path().join("hch.jfc");
    let mut rec = RecordOptions::new(Duration::ZERO);
    rec.interval = args.interval;
    std::fs::write(&settings, rec.settings_xml()).context("writing the JFR settings")?;
    let command = java_command(&args, &settings, &recording, dir.path())?;
    let interrupted = Arc::new(AtomicBool::new(false));
    // Ctrl-C, a terminal hang-up or a SIGTERM to hch all end the program cleanly, never orphan it.
    let mut hooks = Vec::new();
    // SIGPIPE (a reader of hch's output went away) must not kill hch before it ended the JVM:
    // writes then fail with EPIPE instead, which ends hch quietly after the clean-up.
    let pipe_closed = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGPIPE, pipe_closed)
        .context("installing the signal handlers")?;
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        hooks.push(
            signal_hook::flag::register(sig, Arc::clone(&interrupted))
                .context("installing the signal handlers")?,
        );
    }
    let window = Window {
        delay: args.delay,
        duration: args.duration,
    };
    let status = supervise(command, window, dir.path(), &interrupted);
    for h in hooks {
        signal_hook::low_level::unregister(h);
    }
    let (status, live) = status?;
    if let Some(live) = &live {
        lib.sizes = Sizes::from_codelist(&live.codelist);
        if args.opts.dialect == analyze::DialectArg::Auto {
            lib.dialect = live.placement.dialect();
        }
    }
    if !recording.is_file() {
        return Err(coded(Code::Error, format!("the Java command ended ({status}) before JFR wrote a recording: check that it starts a HotSpot JVM (JDK 11+) and that the options above were accepted")));
    }
    // A failed copy must not cost the analysis of what was recorded: report it last.
    let kept = args.keep.as_ref().map(|keep| {
        std::fs::copy(&recording, keep)
            .with_context(|| format!("keeping the recording as {}", keep.display()))
    });
    let analysis = hch_profile::from_recordings(&[recording], &lib);
    // Nothing is left behind even if printing fails or hch is killed while it prints.
    drop(dir);
    let analysis = analysis.map_err(analyze::input_error)?;
    let code = analyze::report(analysis, &args.opts)?;
    if let Some(live) = &live {
        analyze::say!(
            "hch: what directives would do on this JVM: {}",
            live.placement.effect()
        );
    }
    next_steps(&args);
    if let Some(Err(e)) = kept {
        return Err(e);
    }
    Ok(if interrupted.load(Ordering::Relaxed) {
        Status(Code::Interrupted)
    } else {
        code
    })
}

/// The command with the JVM options inserted right after the `java` executable.
fn java_command(
    args: &Args,
    settings: &Path,
    recording: &Path,
    repo: &Path,
) -> anyhow::Result<Command> {
    let mut opts = vec![
        format!(
            "-XX:StartFlightRecording=name=hch,settings={},filename={},dumponexit=true{}",
            settings.display(),
            recording.display(),
            delay_option(args.delay)
        ),
        format!(
            "-XX:FlightRecorderOptions=stackdepth={},repository={}",
            args.stack_depth,
            repo.display()
        ),
    ];
    if !args.no_debug_nonsafepoints {
        opts.push("-XX:+UnlockDiagnosticVMOptions".into());
        opts.push("-XX:+DebugNonSafepoints".into());
    }
    let at = args
        .command
        .iter()
        .position(|a| Path::new(a).file_name().is_some_and(|n| n == "java"));
    let Some(at) = at else {
        return Err(coded(Code::Usage, format!("`{}` does not run a `java` executable: give the command as `-- java ...` (or `-- /path/to/jdk/bin/java ...`)", args.command.join(" "))));
    };
    // JFR's start-up banner ("Use jcmd ... JFR.dump") would mix into the program's output. It
    // is logged as jfr+startup from JDK 17 on; JDK 11 prints it on the program's stdout (hch's
    // stderr) and refuses the unknown tag, so the option goes only to a JDK 17+ (or unknown).
    if java_feature(&args.command[at]).is_none_or(|f| f >= 17) {
        opts.push("-Xlog:jfr+startup=off".into());
    }
    let mut argv: Vec<String> = args.command.clone();
    argv.splice(at + 1..at + 1, opts);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    // The program's output goes to stderr so that hch's results alone are on stdout.
    let err = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .context("duplicating stderr")?;
    cmd.stdout(Stdio::from(err)).stdin(Stdio::inherit());
    Ok(cmd)
}

/// The feature release of a `java` executable (a path, or a name looked up on PATH), from its
/// JDK's `release` file.
fn java_feature(java: &str) -> Option<u32> {
    let path = if java.contains('/') {
        PathBuf::from(java)
    } else {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join(java))
            .find(|p| p.is_file())?
    };
    hch_target::info::feature_of(&super::directives::release_version(&path)?)
}

/// JFR's own `delay=` option: the recorder starts with the JVM, the recording later.
fn delay_option(delay: Duration) -> String {
    match delay.as_millis() {
        0 => String::new(),
        ms => format!(",delay={ms}ms"),
    }
}

/// When to record: after `delay` from JFR's start, for `duration` (or until the program ends).
#[derive(Debug, Clone, Copy)]
struct Window {
    delay: Duration,
    duration: Option<Duration>,
}

/// What hch learned from the running JVM just before ending it.
struct Live {
    /// Its codelist: real blob sizes and compile levels.
    codelist: Codelist,
    /// Where it can put hot code (the dialect to write).
    placement: HotPlacement,
}

/// Runs the program until it exits, the window passes or Ctrl-C; then asks the JVM for its
/// codelist and ends it cleanly. The window counts from when JFR started, not from the
/// launch: a JVM that starts slowly on a busy machine still gets the whole duration recorded.
fn supervise(
    mut cmd: Command,
    window: Window,
    repo: &Path,
    interrupted: &AtomicBool,
) -> anyhow::Result<(ExitStatus, Option<Live>)> {
    let child = cmd.spawn().context("starting the Java command")?;
    let mut guard = ChildGuard(child);
    let total = window.duration.map_or(0, |d| (d + window.delay).as_secs());
    let pb = crate::output::progress(total, "starting");
    let launched = Instant::now();
    let mut jfr_since: Option<Instant> = None;
    loop {
        if let Some(st) = guard.0.try_wait()? {
            pb.finish_and_clear();
            return Ok((st, None));
        }
        if jfr_since.is_none() && (jfr_started(repo) || launched.elapsed() > START_WAIT) {
            jfr_since = Some(Instant::now());
        }
        let elapsed = jfr_since.map_or(Duration::ZERO, |t| t.elapsed());
        pb.set_message(if elapsed < window.delay {
            "waiting"
        } else {
            "recording"
        });
        let over = window
            .duration
            .is_some_and(|d| jfr_since.is_some() && elapsed >= window.delay + d);
        if over || interrupted.load(Ordering::Relaxed) {
            pb.finish_and_clear();
            let live = live_facts(guard.0.id());
            analyze::say!("hch: ending the program (SIGTERM) so that JFR writes the recording");
            return Ok((guard.terminate()?, live));
        }
        pb.set_position(elapsed.as_secs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The codelist and hot placement of the JVM hch launched, through the attach mechanism; `None`
/// (with a word why) when it cannot be asked: the profile then assumes 4 KB per blob.
fn live_facts(pid: u32) -> Option<Live> {
    let ask = || -> anyhow::Result<Live> {
        let mut t = hch_target::LocalTarget::open(pid, &hch_attach::Options::default())?;
        let info = JvmInfo::gather(&mut t)?;
        let placement = hch_target::apply::probe_hot_option(&mut t, &info)?;
        let text = t.jcmd("Compiler.codelist")?;
        let codelist = hch_codecache::codelist::parse_for(&text, info.feature)?;
        Ok(Live {
            codelist,
            placement,
        })
    };
    match ask() {
        Ok(live) => Some(live),
        Err(e) => {
            analyze::say!("hch: warning: could not ask the JVM for its codelist ({e:#}); blob sizes are an assumed 4 KB");
            None
        }
    }
}

/// What to do next, filled in.
fn next_steps(args: &Args) {
    let cmd = args.command.join(" ");
    let mut lines = Vec::new();
    match &args.opts.directives {
        Some(f) => lines.push(format!(
            "java -XX:+UnlockDiagnosticVMOptions -XX:CompilerDirectivesFile={} ...    # load the directives at start-up",
            f.display()
        )),
        None => lines.push(format!("hch record -o hot.json -- {cmd}    # write the hot set's directives")),
    }
    lines.push(
        "hch profile PID --apply    # or profile the running service and apply in one step".into(),
    );
    analyze::say!("\nnext:");
    for l in lines {
        analyze::say!("  {l}");
    }
}

/// Longest wait for JFR to start before the duration counts from the launch anyway.
const START_WAIT: Duration = Duration::from_secs(60);

/// JFR has started once it made its repository directory (`<date>_<pid>`) in ours.
fn jfr_started(repo: &Path) -> bool {
    std::fs::read_dir(repo).is_ok_and(|rd| rd.flatten().any(|e| e.path().is_dir()))
}

/// Kills the program if hch itself fails, so nothing outlives hch.
struct ChildGuard(Child);

impl ChildGuard {
    /// SIGTERM, then wait for the JVM to dump its recording; SIGKILL after the grace period.
    fn terminate(&mut self) -> anyhow::Result<ExitStatus> {
        if let Some(pid) = rustix::process::Pid::from_raw(self.0.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + EXIT_GRACE;
        while Instant::now() < deadline {
            if let Some(st) = self.0.try_wait()? {
                return Ok(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        Err(coded(Code::Error, format!("the JVM did not exit within {}s of SIGTERM and was killed; its recording may be incomplete", EXIT_GRACE.as_secs())))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// An interval of at least 1 ms (JFR's floor for execution samples).
fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = crate::duration::parse(s)?;
    if d < Duration::from_millis(1) {
        return Err(format!("`{s}` is below JFR's 1 ms floor"));
    }
    Ok(d)
}
