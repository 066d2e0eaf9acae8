//! The agent's thread: wait, record, analyze, reconcile, report; and the directive changes the
//! MBean asks for. Every step goes through the same-process [`InProcess`] target, so it is the
//! library's own code path (`hch_target::jfr::record`, `hch_target::directives`,
//! `hch_profile`) running inside the JVM.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hch_profile::{Analysis, AnalyzeOptions, Dialect, HotOptions};
use hch_target::apply::{self, probe_hot_option, ApplyMode, HotPlacement, Placement, Plan};
use hch_target::directives::{self, DirectivesOutcome};
use hch_target::info::JvmInfo;
use hch_target::jfr::RecordOptions;

use crate::agent::{Agent, Facts, Own};
use crate::ffi::jni::Env;
use crate::files::PrivateDir;
use crate::inproc::{self, InProcess};
use crate::options::{DialectChoice, Options};
use crate::reconcile::{self, Place};
use crate::status::{self, Cycle, InForce};

/// Scheduling jitter tolerated when judging "an interval since the last change".
const SLACK: Duration = Duration::from_millis(500);

/// The thread's body: no panic leaves it; one disables the agent.
pub(crate) fn thread_main(agent: &'static Agent) {
    if catch_unwind(AssertUnwindSafe(|| run(agent))).is_err() {
        agent.disable("internal error (a panic in the agent's thread)");
    }
    agent.thread_ended();
    if let Some(env) = agent.vm.env() {
        agent.publish(env);
    }
}

fn run(agent: &'static Agent) {
    let env = match agent.vm.attach_daemon("hch-agent") {
        Ok(env) => env,
        Err(e) => return agent.disable(&format!("cannot attach its thread to the JVM: {e}")),
    };
    let caps = agent.jvmti().capabilities().unwrap_or_default();
    let caps = if caps.is_empty() {
        "none".to_string()
    } else {
        caps.join(", ")
    };
    let options = agent.lock().options.to_agent_string();
    agent.log.line(&format!(
        "running in pid {} (loaded at {}), {options}; JVMTI capabilities held: {caps}",
        std::process::id(),
        agent.loaded()
    ));
    if let Err(e) = crate::mbean::register(env) {
        agent.error(&format!(
            "the MBean {} could not be registered: {e}",
            status::MBEAN_NAME
        ));
    }
    agent.publish(env);
    while agent.wait_for_cycle() {
        let start = SystemTime::now();
        let n = {
            let mut s = agent.lock();
            s.last_cycle_start = Some(start);
            s.cycles + 1
        };
        match cycle(agent, env, start) {
            Ok(c) => {
                agent.log.line(&format!("cycle {n}: {}", c.line()));
                let mut s = agent.lock();
                s.cycles = n;
                s.last = Some(c);
            }
            Err(_) if agent.cancel.load(Ordering::Relaxed) => {
                agent.log.line(&format!("cycle {n} ended early (the agent stops or the JVM exits); its recording was stopped and its files removed"));
            }
            Err(e) => agent.error(&format!("cycle {n} failed: {e}")),
        }
        *agent.cycle_dir.lock().unwrap_or_else(|p| p.into_inner()) = None;
        schedule(agent, start);
        agent.set_state(env, "waiting");
    }
}

/// The next cycle starts an interval after this one started.
fn schedule(agent: &Agent, start: SystemTime) {
    let mut s = agent.lock();
    if !s.stop {
        let next = start + s.options.interval;
        s.next_cycle = Some(next.max(SystemTime::now()));
    }
}

/// One cycle: record, analyze, reconcile.
fn cycle(agent: &Agent, env: Env<'_>, start: SystemTime) -> Result<Cycle, String> {
    let cpu = thread_cpu_ms();
    let opts = agent.lock().options.clone();
    let dir =
        Arc::new(PrivateDir::create().map_err(|e| format!("cannot create its directory: {e}"))?);
    *agent.cycle_dir.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&dir));
    // The JVM may have begun to exit after the directory was made but before the VMDeath
    // callback could see it: then this thread removes it (dropping `dir`).
    if agent.cancel.load(Ordering::Relaxed) {
        return Err("cancelled".into());
    }
    let mut t = InProcess::new(agent.vm, Arc::clone(&dir), Arc::clone(&agent.cancel));
    let facts = facts(agent, &mut t)?;
    warn_before_first_recording(agent, env, &facts);
    agent.set_state(env, "recording");
    let mut ro = RecordOptions::new(opts.duration);
    ro.interval = opts.sampling;
    let bytes = hch_target::jfr::record(&mut t, &ro, &agent.cancel, &mut |_, _| {})
        .map_err(|e| e.to_string())?;
    agent.set_state(env, "analyzing");
    let (analysis, worker_cpu) = analyze(bytes, &opts)?;
    // The JVM's flags say whether samples are exact (see `facts`); other warnings are notes.
    for w in analysis
        .warnings
        .iter()
        .filter(|w| !w.contains("DebugNonSafepoints"))
    {
        agent.note(w);
    }
    let (mut action, overlap) = reconcile_hot_set(agent, &mut t, &analysis, &facts, &opts, start)?;
    if opts.compact {
        agent.set_state(env, "compacting");
        action = format!("{action}; {}", compact_hot_set(agent, env, &analysis));
    }
    let h = &analysis.hot;
    Ok(Cycle {
        time_ms: status::epoch_ms(SystemTime::now()),
        samples: h.total_samples,
        compiled_samples: h.compiled_samples,
        hot_set: h.blobs.len(),
        coverage: h.coverage,
        overlap,
        action,
        cpu_ms: thread_cpu_ms().saturating_sub(cpu) + worker_cpu,
    })
}

/// The JVM's version and where it can put hot code, asked once.
fn facts(agent: &Agent, t: &mut InProcess) -> Result<Facts, String> {
    if let Some(f) = agent.lock().facts.clone() {
        return Ok(f);
    }
    let info = JvmInfo::gather(t).map_err(|e| e.to_string())?;
    if !info.jfr_available {
        let why = format!(
            "JFR is not available in this JVM ({}), so it cannot profile",
            info.vm_version
        );
        agent.disable(&why);
        return Err(why);
    }
    if !info.debug_non_safepoints {
        agent.note("this JVM runs without -XX:+DebugNonSafepoints, so samples of compiled code fall on safepoint polls and the hot set is biased; start it with -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints");
    }
    let placement = probe_hot_option(t, &info).map_err(|e| e.to_string())?;
    let facts = Facts { info, placement };
    agent.lock().facts = Some(facts.clone());
    Ok(facts)
}

/// JDK 22 and earlier deoptimize all compiled code at the first recording of a JVM whose JFR
/// started after launch; say so before it happens (once).
fn warn_before_first_recording(agent: &Agent, env: Env<'_>, f: &Facts) {
    if agent.loaded() != "attach" || f.info.feature > 22 || agent.lock().cycles > 0 {
        return;
    }
    if inproc::jfr_initialized(env).unwrap_or(true) {
        return;
    }
    agent.note(&format!(
        "JDK {}: this first JFR recording deoptimizes all compiled code (JDK 22 and earlier, JFR started after launch), so the JVM runs slower for a while as it recompiles; load the agent at start-up with -agentpath to avoid this",
        f.info.feature
    ));
}

/// Reads the recording in memory and builds the hot set on one worker thread; also returns that
/// thread's CPU time.
fn analyze(bytes: Vec<u8>, o: &Options) -> Result<(Analysis, u64), String> {
    let opts = AnalyzeOptions {
        hot: HotOptions {
            top: o.top,
            coverage: o.coverage,
            min_samples: o.min_samples,
            budget: o.budget,
        },
        ..AnalyzeOptions::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "hch-agent-reader".into())
        .build()
        .map_err(|e| format!("cannot start the reader thread: {e}"))?;
    let (analysis, cpu) = pool.install(|| {
        let cpu = thread_cpu_ms();
        let a = hch_profile::from_live_recording(bytes, Path::new("recording"), &opts);
        (a, thread_cpu_ms().saturating_sub(cpu))
    });
    let analysis = analysis.map_err(|e| e.to_string())?;
    if let Some(e) = &analysis.error {
        return Err(format!("the recording is damaged: {e}"));
    }
    Ok((analysis, cpu))
}

/// `compact=whitebox`: lays the hot set out compactly through WhiteBox (as `hch compact`);
/// a failure is a note in the cycle's action, never the end of the agent.
fn compact_hot_set(agent: &Agent, env: Env<'_>, a: &Analysis) -> String {
    let methods: Vec<hch_codecache::MethodRef> = a
        .hot
        .blobs
        .iter()
        .map(|b| hch_codecache::MethodRef {
            class: b.method.class.clone(),
            name: b.method.name.clone(),
            descriptor: b.method.descriptor.clone(),
        })
        .collect();
    let req = crate::compact::Request {
        id: format!("cycle-{}", agent.lock().cycles + 1),
        layout: crate::relayout::Layout::Compact,
        methods: None,
        time: Duration::from_secs(60),
        flush: false,
    };
    match crate::compact::exclusive(|| crate::compact::relayout_in(agent.vm, env, &methods, &req)) {
        Ok((r, _)) => format!(
            "compacted {} of {} hot methods: {} -> {} pages of 4 KiB",
            r.moved, r.compiled, r.before.pages, r.after.pages
        ),
        Err(e) => {
            agent.note(&format!("compact=whitebox: {e}"));
            "not compacted (see notes)".into()
        }
    }
}

/// The hot set's patterns with their samples, hottest first, duplicates (lambdas) merged.
fn patterns(a: &Analysis) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for b in &a.hot.blobs {
        let Ok(p) = hch_profile::directives::pattern(&b.method) else {
            continue;
        };
        match out.iter_mut().find(|(q, _)| *q == p) {
            Some(e) => e.1 += b.samples,
            None => out.push((p, b.samples)),
        }
    }
    out
}

/// Decides and does: leave the directives in force, or replace the agent's own.
fn reconcile_hot_set(
    agent: &Agent,
    t: &mut InProcess,
    a: &Analysis,
    f: &Facts,
    o: &Options,
    start: SystemTime,
) -> Result<(String, Option<f64>), String> {
    let new = patterns(a);
    let (overlap, last_change) = {
        let s = agent.lock();
        let applied = s.own.as_ref().map(|own| &own.patterns);
        (applied.map(|p| reconcile::overlap(p, &new)), s.last_change)
    };
    let Some(dialect) = dialect(o.dialect, f.placement) else {
        agent.note(&format!("{}; the agent profiles and reports, and applies nothing (dialect=stock applies directives with options every JDK accepts)", f.placement.effect()));
        return Ok(("reported only".into(), overlap));
    };
    if new.is_empty() {
        return Ok((
            "nothing to apply (no compiled code in the samples)".into(),
            overlap,
        ));
    }
    if let Some(v) = overlap.filter(|v| *v >= o.overlap) {
        return Ok((
            format!("left alone ({v:.0}% >= overlap={})", o.overlap),
            overlap,
        ));
    }
    // Directives change at most once per interval: cycles are an interval apart, and a cycle
    // asked for early (profileNow) may not change what the last one applied.
    let since = last_change.map(|at| start.duration_since(at).unwrap_or_default());
    if let Some(since) = since.filter(|d| *d + SLACK < o.interval) {
        let wait = crate::options::show(o.interval - since);
        return Ok((format!("left alone: the directives changed less than an interval ago (can change again in {wait})"), overlap));
    }
    let d = hch_profile::directives::for_hot_set(&a.hot, dialect);
    let json = d.to_json();
    let _held = agent.directives.lock().unwrap_or_else(|p| p.into_inner());
    let action = replace_own(agent, t, f, &json, &d.patterns, dialect, start)?;
    Ok((action, overlap))
}

/// The dialect to apply, or `None` to report only (`auto` on a JVM without a hot code heap
/// that directives steer).
fn dialect(choice: DialectChoice, placement: HotPlacement) -> Option<Dialect> {
    match choice {
        DialectChoice::Stock => Some(Dialect::Stock),
        DialectChoice::Hot => Some(Dialect::Hot),
        DialectChoice::Dragonwell => Some(Dialect::Dragonwell),
        DialectChoice::Auto => match placement {
            HotPlacement::Dragonwell { .. } | HotPlacement::DesignHot => Some(placement.dialect()),
            _ => None,
        },
    }
}

/// hch's one check-and-add (`hch_target::apply`): the file is judged for this JVM and the
/// stack's room before anything changes, then added on top and confirmed from the stack.
fn checked_add(t: &mut InProcess, f: &Facts, text: &str) -> Result<DirectivesOutcome, String> {
    let plan = Plan {
        text,
        mode: ApplyMode::Add,
        placement: Placement::Placed,
    };
    let pre = apply::preflight(t, &f.info, f.placement, &plan).map_err(|e| e.to_string())?;
    apply::apply(t, &plan, &pre).map_err(|e| e.to_string())
}

/// Pops the agent's own directive if it is on top, then pushes the new one. When the agent's
/// directive is buried under someone else's, nothing is pushed: the stack must not grow.
fn replace_own(
    agent: &Agent,
    t: &mut InProcess,
    f: &Facts,
    json: &str,
    patterns: &[String],
    dialect: Dialect,
    start: SystemTime,
) -> Result<String, String> {
    // Judged before the agent's directive is popped: a file this JVM would refuse changes nothing.
    let plan = Plan {
        text: json,
        mode: ApplyMode::Add,
        placement: Placement::Placed,
    };
    apply::preflight(t, &f.info, f.placement, &plan).map_err(|e| e.to_string())?;
    let own = agent.lock().own.clone();
    let mut verb = "applied";
    if let Some(own) = own {
        let print = directives::print(t).map_err(|e| e.to_string())?;
        match reconcile::place(&print, &own.fingerprint) {
            Place::OnTop => {
                directives::remove(t).map_err(|e| e.to_string())?;
                agent.lock().own = None;
                verb = "replaced";
            }
            Place::Buried => {
                let msg = "the agent's directive is no longer on top of the stack (someone added directives above it); it cannot be removed without removing theirs, so none is added until it is on top again or gone";
                agent.note(msg);
                return Ok("not applied: its directive is buried under another".into());
            }
            Place::Gone => {
                agent.log.line("the agent's directive is no longer on the stack (cleared by someone); adding the new one");
                agent.lock().own = None;
            }
        }
    }
    let outcome = checked_add(t, f, json)?;
    let print = directives::print(t).map_err(|e| e.to_string())?;
    let fingerprint = reconcile::fingerprint(&print).unwrap_or_default();
    let mut s = agent.lock();
    s.own = Some(Own {
        patterns: patterns.iter().cloned().collect::<HashSet<_>>(),
        fingerprint,
        in_force: InForce {
            patterns: patterns.len(),
            dialect: format!("{dialect:?}").to_lowercase(),
            applied_ms: status::epoch_ms(SystemTime::now()),
            text: json.to_string(),
        },
    });
    s.last_change = Some(start);
    Ok(format!(
        "{verb} {} patterns (stack {} -> {})",
        patterns.len(),
        outcome.stack_before,
        outcome.stack_after
    ))
}

/// The MBean's `applyDirectives`: adds a directives text on top of the stack, checked for this
/// JVM as `hch directives add` does (the agent does not take it for its own).
pub(crate) fn apply_text(agent: &Agent, text: &str) -> Result<String, String> {
    let dir =
        Arc::new(PrivateDir::create().map_err(|e| format!("cannot create its directory: {e}"))?);
    let mut t = InProcess::new(agent.vm, dir, Arc::new(Default::default()));
    let f = facts(agent, &mut t)?;
    let _held = agent.directives.lock().unwrap_or_else(|p| p.into_inner());
    let outcome = checked_add(&mut t, &f, text)?;
    agent.log.line(&format!(
        "applyDirectives: {} added (stack {} -> {})",
        outcome.count_added, outcome.stack_before, outcome.stack_after
    ));
    Ok(format!("{}\n{}", outcome.response.trim_end(), outcome.note))
}

/// The MBean's `clearOwn`: removes the agent's directive if it is on top.
pub(crate) fn clear_own(agent: &Agent) -> Result<String, String> {
    let _held = agent.directives.lock().unwrap_or_else(|p| p.into_inner());
    let Some(own) = agent.lock().own.clone() else {
        return Ok("the agent has no directive in force".into());
    };
    let dir =
        Arc::new(PrivateDir::create().map_err(|e| format!("cannot create its directory: {e}"))?);
    let mut t = InProcess::new(agent.vm, dir, Arc::new(Default::default()));
    let print = directives::print(&mut t).map_err(|e| e.to_string())?;
    match reconcile::place(&print, &own.fingerprint) {
        Place::OnTop => {
            directives::remove(&mut t).map_err(|e| e.to_string())?;
            agent.lock().own = None;
            let msg = format!("removed the agent's directive ({} patterns)", own.in_force.patterns);
            agent.log.line(&msg);
            Ok(msg)
        }
        Place::Buried => Err("the agent's directive is not on top of the stack: HotSpot removes only the top one; remove the directives above it first (hch directives remove)".into()),
        Place::Gone => {
            agent.lock().own = None;
            Ok("the agent's directive was no longer on the stack".into())
        }
    }
}

/// CPU time of the calling thread, in ms.
fn thread_cpu_ms() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1000 + t.tv_nsec as u64 / 1_000_000
}
