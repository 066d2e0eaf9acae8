//! The agent at run time: its state, its daemon thread, and what the JVM's events and the
//! MBean's operations do to it. One agent per library copy; a second copy loaded into the same
//! JVM hands its request to the first through the MBean.
//!
//! Locks are held only to read or change state, never across a JNI call or a wait on the JVM,
//! so the VMDeath callback can always take them, and never waits more than [`EXIT_WAIT`].

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::ffi::jni::{jint, Env, JavaVm, JNI_ERR, JNI_OK};
use crate::ffi::jvmti::Jvmti;
use crate::files::PrivateDir;
use crate::inproc;
use crate::log::Log;
use crate::options::Options;
use crate::status::{self, Cycle, InForce, Status, MBEAN_NAME, STATUS_PROPERTY};

/// The longest the VMDeath callback waits for the agent's thread to finish. A thread in the
/// middle of a recording does not finish (JFR has shut down), so the callback then removes the
/// cycle's directory itself: the JVM's exit is delayed by this plus that removal, well under
/// 100 ms.
pub const EXIT_WAIT: Duration = Duration::from_millis(20);
/// The system property with the agent's answer to the last `load` request:
/// `<ms since the epoch> <answer>`, so that a reader can tell it from an older one.
pub const ANSWER_PROPERTY: &str = "hch.agent.answer";
/// Errors kept for the status.
const MAX_ERRORS: usize = 10;

/// This library copy's agent.
static AGENT: OnceLock<Agent> = OnceLock::new();

/// The agent.
#[derive(Debug)]
pub struct Agent {
    pub(crate) vm: JavaVm,
    jvmti: Jvmti,
    loaded: &'static str,
    started: SystemTime,
    pub(crate) log: Log,
    shared: Mutex<Shared>,
    wake: Condvar,
    /// Set to end a recording early: the agent stops, or the JVM exits.
    pub(crate) cancel: Arc<AtomicBool>,
    /// The private directory of the cycle in progress, for the VMDeath callback to remove.
    pub(crate) cycle_dir: Mutex<Option<Arc<PrivateDir>>>,
    /// Held while the directive stack is read and changed.
    pub(crate) directives: Mutex<()>,
    /// Held while the status is computed and published, so that the last one set is the newest.
    publishing: Mutex<()>,
}

/// What changes while the agent runs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub options: Options,
    pub state: String,
    /// The thread is asked to end.
    pub stop: bool,
    /// The MBean asked for a cycle now.
    pub run_now: bool,
    /// The thread runs.
    pub running: bool,
    /// When the thread (re)started.
    pub since: SystemTime,
    pub next_cycle: Option<SystemTime>,
    pub last_cycle_start: Option<SystemTime>,
    pub cycles: u64,
    pub last: Option<Cycle>,
    pub own: Option<Own>,
    /// When the cycle that last changed the directives started.
    pub last_change: Option<SystemTime>,
    pub errors: VecDeque<String>,
    pub notes: Vec<String>,
    pub facts: Option<Facts>,
}

/// The directive the agent put on the stack.
#[derive(Debug, Clone)]
pub(crate) struct Own {
    pub patterns: HashSet<String>,
    pub fingerprint: String,
    pub in_force: InForce,
}

/// What the agent learnt about its JVM at its first cycle.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub info: hch_target::info::JvmInfo,
    /// Where this JVM can put hot code, and so which dialect it takes.
    pub placement: hch_target::apply::HotPlacement,
}

/// The agent of this library copy, if one was started.
pub fn get() -> Option<&'static Agent> {
    AGENT.get()
}

/// The feature release from the VM's `java.vm.specification.version`.
fn feature(jvmti: &Jvmti) -> Option<u32> {
    hch_target::info::feature_of(&jvmti.system_property("java.vm.specification.version")?)
}

/// `-agentpath` at start-up: bad options leave the agent off and the JVM starting normally.
pub fn on_load(vm: JavaVm, text: &str) -> jint {
    let options = match Options::parse(text) {
        Ok(o) => o,
        Err(e) => {
            let line = format!("disabled, the JVM runs on without it: {e}");
            eprintln!("hch-agent: {line}");
            // The log named among bad options gets the line too, if it can be opened.
            if let Some(log) = Options::default()
                .with(&log_item(text))
                .ok()
                .and_then(|o| o.log)
            {
                if let Ok(l) = Log::open(Some(&log)) {
                    l.line(&line);
                }
            }
            return JNI_OK;
        }
    };
    let agent = match Agent::create(vm, options, "start-up") {
        Ok(a) => a,
        Err(e) => {
            eprintln!("hch-agent: disabled, the JVM runs on without it: {e}");
            return JNI_OK;
        }
    };
    let events = agent
        .jvmti
        .set_events(Some(crate::ffi::on_vm_init), Some(crate::ffi::on_vm_death));
    if let Err(e) = events {
        agent.disable(&format!("cannot follow the JVM's start and exit: {e}"));
        return JNI_OK;
    }
    if feature(&agent.jvmti).is_some_and(|f| f <= 22) {
        // An (empty) AddCapabilities in the OnLoad phase makes the JIT record every dependency
        // from the start, as JDK 23+ always does: the first JFR recording then deoptimizes only
        // what depends on JFR's own classes, not all compiled code. No capability is taken.
        if let Err(e) = agent.jvmti.add_no_capabilities() {
            agent.log.line(&format!("note: {e}"));
        }
    }
    JNI_OK
}

/// The `log=...` item of an option string (empty if none).
fn log_item(text: &str) -> String {
    text.split(',')
        .map(str::trim)
        .find(|i| i.starts_with("log="))
        .unwrap_or_default()
        .to_string()
}

/// The VMInit event: the JVM is ready for the agent's thread.
pub fn on_vm_init() {
    if let Some(a) = get() {
        a.spawn();
    }
}

/// The VMDeath event: stop, remove the cycle's files, let the JVM go within [`EXIT_WAIT`].
pub fn on_vm_death() {
    if let Some(a) = get() {
        a.shutdown();
    }
}

/// `Agent_OnUnload`: the files, once more (the thread may not have run its cleanup).
pub fn on_unload() {
    if let Some(a) = get() {
        a.remove_cycle_dir();
    }
}

/// The attach `load` command: start the agent, change its options, or stop it (`stop`).
pub fn on_attach(vm: JavaVm, text: &str) -> jint {
    let Some(env) = vm.env() else {
        eprintln!("hch-agent: load refused: the attaching thread has no JNI environment");
        return JNI_ERR;
    };
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("relayout") {
        // `hch compact`: its own thread; the answer is all the JVM's output shows of it.
        let r = match rest.trim() {
            "-cancel" => Ok(crate::compact::cancel()),
            rest => crate::compact::start(vm, rest),
        };
        let (rc, answer) = match r {
            Ok(a) => (JNI_OK, a),
            Err(e) => (JNI_ERR, format!("relayout refused: {e}")),
        };
        let stamped = format!("{} {answer}", status::epoch_ms(SystemTime::now()));
        let _ = inproc::set_property(env, ANSWER_PROPERTY, &stamped);
        return rc;
    }
    let (rc, answer) = attach_request(vm, env, text);
    match get() {
        Some(a) => a.log.line(&answer),
        None => eprintln!("hch-agent: {answer}"),
    }
    let stamped = format!("{} {answer}", status::epoch_ms(SystemTime::now()));
    let _ = inproc::set_property(env, ANSWER_PROPERTY, &stamped);
    rc
}

/// What a `load` asks, and the answer.
fn attach_request(vm: JavaVm, env: Env<'_>, text: &str) -> (jint, String) {
    let ours = get();
    let other = ours.is_none() && inproc::is_registered(env, MBEAN_NAME).unwrap_or(false);
    if text == "stop" {
        return match (ours, other) {
            (Some(a), _) => (JNI_OK, a.request_stop()),
            (None, true) => answer_of(inproc::invoke_text(env, MBEAN_NAME, "stop", None)),
            (None, false) => (
                JNI_ERR,
                "stop refused: no hch agent runs in this JVM".into(),
            ),
        };
    }
    if let Some(a) = ours {
        let changed = a.lock().options.with(text);
        return match changed
            .map_err(|e| e.to_string())
            .and_then(|o| a.reconfigure(env, o))
        {
            Ok(msg) => (JNI_OK, msg),
            Err(e) => (
                JNI_ERR,
                format!("load refused: {e}; the agent is unchanged"),
            ),
        };
    }
    if other {
        // Another copy of the library runs the agent: it changes the keys given.
        return answer_of(inproc::invoke_text(
            env,
            MBEAN_NAME,
            "setOptions",
            Some(text),
        ));
    }
    let options = match Options::parse(text) {
        Ok(o) => o,
        Err(e) => return (JNI_ERR, format!("load refused: {e}")),
    };
    match Agent::create(vm, options, "attach") {
        Ok(a) => match a.jvmti.set_events(None, Some(crate::ffi::on_vm_death)) {
            Ok(()) => {
                a.spawn();
                (JNI_OK, "started".into())
            }
            Err(e) => {
                a.disable(&format!("cannot follow the JVM's exit: {e}"));
                (JNI_ERR, format!("load refused: {e}"))
            }
        },
        Err(e) => (JNI_ERR, format!("load refused: {e}")),
    }
}

fn answer_of(r: Result<String, crate::ffi::jni::JavaError>) -> (jint, String) {
    match r {
        Ok(s) => (JNI_OK, s),
        Err(e) => (
            JNI_ERR,
            format!("refused by the agent already running: {e}"),
        ),
    }
}

impl Agent {
    /// Makes this copy's agent (not started yet).
    fn create(
        vm: JavaVm,
        options: Options,
        loaded: &'static str,
    ) -> Result<&'static Agent, String> {
        let jvmti = Jvmti::new(vm)?;
        let log = Log::open(options.log.as_deref()).map_err(|e| {
            format!(
                "cannot open the log {}: {e}",
                options
                    .log
                    .as_deref()
                    .unwrap_or(std::path::Path::new(""))
                    .display()
            )
        })?;
        let now = SystemTime::now();
        let agent = Agent {
            vm,
            jvmti,
            loaded,
            started: now,
            log,
            shared: Mutex::new(Shared {
                options,
                state: "starting".into(),
                stop: false,
                run_now: false,
                running: false,
                since: now,
                next_cycle: None,
                last_cycle_start: None,
                cycles: 0,
                last: None,
                own: None,
                last_change: None,
                errors: VecDeque::new(),
                notes: Vec::new(),
                facts: None,
            }),
            wake: Condvar::new(),
            cancel: Arc::new(AtomicBool::new(false)),
            cycle_dir: Mutex::new(None),
            directives: Mutex::new(()),
            publishing: Mutex::new(()),
        };
        AGENT
            .set(agent)
            .map_err(|_| "the agent of this library is set up already".to_string())?;
        Ok(AGENT.get().expect("just set"))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the daemon thread (again).
    fn spawn(&'static self) {
        {
            let mut s = self.lock();
            if s.running {
                return;
            }
            let now = SystemTime::now();
            s.running = true;
            s.stop = false;
            s.since = now;
            s.next_cycle = Some(now + s.options.delay);
            s.state = "waiting".into();
        }
        self.cancel.store(false, Ordering::Relaxed);
        let r = std::thread::Builder::new()
            .name("hch-agent".into())
            .spawn(move || crate::cycle::thread_main(self));
        if let Err(e) = r {
            self.lock().running = false;
            self.disable(&format!("cannot start its thread: {e}"));
        }
    }

    /// Turns the agent off for good, with one log line; the JVM runs on.
    pub(crate) fn disable(&self, why: &str) {
        {
            let mut s = self.lock();
            s.state = format!("disabled: {why}");
            s.stop = true;
            s.next_cycle = None;
        }
        self.cancel.store(true, Ordering::Relaxed);
        self.wake.notify_all();
        self.log.line(&format!("disabled: {why}; the JVM runs on"));
    }

    /// The thread waits for the next cycle; false when it should end.
    pub(crate) fn wait_for_cycle(&self) -> bool {
        let mut s = self.lock();
        loop {
            if s.stop {
                return false;
            }
            if s.run_now {
                s.run_now = false;
                return true;
            }
            let now = SystemTime::now();
            s = match s.next_cycle {
                Some(t) if t <= now => return true,
                Some(t) => {
                    let d = t.duration_since(now).unwrap_or_default();
                    self.wake
                        .wait_timeout(s, d)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self.wake.wait(s).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }

    /// The thread ended.
    pub(crate) fn thread_ended(&self) {
        let mut s = self.lock();
        s.running = false;
        s.next_cycle = None;
        if !s.state.starts_with("disabled") {
            s.state = "stopped".into();
        }
        drop(s);
        self.wake.notify_all();
    }

    /// Records an error for the status and the log.
    pub(crate) fn error(&self, msg: &str) {
        self.log.line(&format!("error: {msg}"));
        let mut s = self.lock();
        if s.errors.len() == MAX_ERRORS {
            s.errors.pop_front();
        }
        s.errors.push_back(format!(
            "{}: {msg}",
            status::show_time(status::epoch_ms(SystemTime::now()))
        ));
    }

    /// Adds a standing remark, logged once.
    pub(crate) fn note(&self, msg: &str) {
        let mut s = self.lock();
        if s.notes.iter().any(|n| n == msg) {
            return;
        }
        s.notes.push(msg.to_string());
        drop(s);
        self.log.line(&format!("note: {msg}"));
    }

    pub(crate) fn set_state(&self, env: Env<'_>, state: &str) {
        self.lock().state = state.to_string();
        self.publish(env);
    }

    /// The status as the MBean and `hch agent status` show it.
    pub fn status(&self) -> Status {
        let s = self.lock();
        Status {
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            state: s.state.clone(),
            options: s.options.to_agent_string(),
            loaded: self.loaded.into(),
            started_ms: status::epoch_ms(self.started),
            cycles: s.cycles,
            next_cycle_ms: s.next_cycle.map(status::epoch_ms),
            last: s.last.clone(),
            directives: s.own.as_ref().map(|o| o.in_force.clone()),
            errors: s.errors.iter().cloned().collect(),
            capabilities: self
                .jvmti
                .capabilities()
                .unwrap_or_default()
                .into_iter()
                .map(String::from)
                .collect(),
            notes: s.notes.clone(),
        }
    }

    /// Publishes the status as a system property (read by `hch agent status PID`).
    pub(crate) fn publish(&self, env: Env<'_>) {
        let _order = self.publishing.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(json) = serde_json::to_string(&self.status()) {
            let _ = inproc::set_property(env, STATUS_PROPERTY, &json);
        }
    }

    /// Asks the thread to stop; a recording in progress ends now and its files go.
    pub(crate) fn request_stop(&self) -> String {
        let was_running = {
            let mut s = self.lock();
            s.stop = true;
            if s.running {
                s.state = "stopping".into();
            }
            s.running
        };
        self.cancel.store(true, Ordering::Relaxed);
        self.wake.notify_all();
        if was_running {
            "stopping: a recording in progress ends now and its files are removed; the agent's directives stay in force (clearOwn removes them)".into()
        } else {
            "the agent was not running".into()
        }
    }

    /// Asks for a cycle now.
    pub(crate) fn request_cycle(&self) -> Result<String, String> {
        let mut s = self.lock();
        if !s.running {
            return Err(
                "the agent is stopped: setOptions (or hch agent load) starts it again".into(),
            );
        }
        if s.state == "recording" || s.state == "analyzing" {
            return Ok(format!("a cycle is running already ({})", s.state));
        }
        s.run_now = true;
        let d = crate::options::show(s.options.duration);
        drop(s);
        self.wake.notify_all();
        Ok(format!("a cycle starts now; it records for {d}"))
    }

    /// New options: the next cycle is planned from them; a stopped agent starts again.
    pub(crate) fn reconfigure(&'static self, env: Env<'_>, new: Options) -> Result<String, String> {
        self.log
            .reopen(new.log.as_deref())
            .map_err(|e| format!("cannot open the log: {e}"))?;
        let mut s = self.lock();
        if s.state.starts_with("disabled") {
            return Err(format!(
                "the agent is {}; restart the JVM to use it",
                s.state
            ));
        }
        let same = s.options == new;
        s.options = new;
        let text = s.options.to_agent_string();
        if !s.running {
            drop(s);
            self.spawn();
            self.publish(env);
            return Ok(format!("started again with {text}"));
        }
        if same {
            return Ok(format!("already running with these options ({text})"));
        }
        let next = match s.last_cycle_start {
            Some(t) => t + s.options.interval,
            None => s.since + s.options.delay,
        };
        s.next_cycle = Some(next);
        drop(s);
        self.wake.notify_all();
        self.publish(env);
        Ok(format!("options changed: {text}"))
    }

    /// The VMDeath callback's work.
    fn shutdown(&self) {
        let t0 = Instant::now();
        let (running, recording) = {
            let mut s = self.lock();
            s.stop = true;
            (s.running, s.state == "recording" || s.state == "analyzing")
        };
        self.cancel.store(true, Ordering::Relaxed);
        self.wake.notify_all();
        let deadline = t0 + EXIT_WAIT;
        let mut s = self.lock();
        while s.running {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            s = self
                .wake
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(s);
        self.remove_cycle_dir();
        if running {
            let what = if recording {
                ", its recording cut short and its files removed"
            } else {
                ""
            };
            let ms = t0.elapsed().as_millis();
            self.log
                .line(&format!("the JVM exits: agent stopped{what} ({ms} ms)"));
        }
    }

    /// Removes the cycle's directory if there is one; whether there was.
    fn remove_cycle_dir(&self) -> bool {
        let dir = self
            .cycle_dir
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match dir {
            Some(d) => {
                let _ = std::fs::remove_dir_all(d.path());
                true
            }
            None => false,
        }
    }

    pub(crate) fn jvmti(&self) -> &Jvmti {
        &self.jvmti
    }

    pub(crate) fn loaded(&self) -> &'static str {
        self.loaded
    }
}
