//! Re-layout requests from outside and their answer. On this host `hch compact` sends the
//! attach `load` with `relayout ...` and a methods file, and polls the system property
//! [`RELAYOUT_PROPERTY`]; over JMX it invokes the MBean's `relayout` with the methods inline
//! and polls its `Relayout` attribute ([`last_state`]). The work runs on a thread of its own,
//! attached to the JVM as a daemon, one at a time.

use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use hch_codecache::MethodRef;
use serde::{Deserialize, Serialize};

use crate::ffi::classes::methods_of;
use crate::ffi::jni::{Env, JavaVm, Local};
use crate::ffi::jvmti::Jvmti;
use crate::relayout::{self, Hot, Layout, Plan, Report};
use crate::whitebox::WhiteBox;

/// The system property with the state of the last re-layout request (JSON [`RelayoutState`]).
pub const RELAYOUT_PROPERTY: &str = "hch.agent.relayout";
/// The largest methods file read.
const MAX_METHODS_FILE: u64 = 16 << 20;
/// The code heap's reserve: what a re-layout never allocates into.
pub const RESERVE: u64 = 8 << 20;

/// The last answer published, for the MBean's `Relayout` attribute.
static LAST: Mutex<String> = Mutex::new(String::new());
/// One re-layout at a time in this JVM.
static BUSY: AtomicBool = AtomicBool::new(false);
/// Set by `relayout-cancel`: the running re-layout stops before its next method.
pub(crate) static CANCEL: AtomicBool = AtomicBool::new(false);

/// A request: `relayout id=ID,layout=compact|sparse,methods=/path,time=60s[,flush=1]` (over
/// JMX without `methods=`: the methods follow on lines of their own).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The requester's id, echoed in the answer.
    pub id: String,
    /// What to build.
    pub layout: Layout,
    /// A file of methods, hottest first, one per line (`pkg/Cls.name(desc)`); none when
    /// they come inline.
    pub methods: Option<PathBuf>,
    /// Stop after this long.
    pub time: Duration,
    /// Free code made not entrant first (a full GC).
    pub flush: bool,
}

/// The answer, as the property holds it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RelayoutState {
    /// The request's id.
    pub id: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// Methods named by the request that no loaded class has.
    #[serde(default)]
    pub unresolved: usize,
    /// What was done.
    #[serde(default)]
    pub report: Option<Report>,
}

impl Request {
    /// Parses the text after `relayout `.
    pub fn parse(text: &str) -> Result<Request, String> {
        let mut r = Request {
            id: String::new(),
            layout: Layout::Compact,
            methods: None,
            time: Duration::from_secs(60),
            flush: false,
        };
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("`{item}`: expected key=value"))?;
            match k {
                "id" => r.id = v.to_string(),
                "layout" => {
                    r.layout = Layout::parse(v)
                        .ok_or_else(|| format!("layout={v}: takes compact or sparse"))?
                }
                "methods" => r.methods = Some(PathBuf::from(v)),
                "time" => {
                    r.time = humantime::parse_duration(v)
                        .map_err(|e| format!("time={v}: {e}"))?
                        .min(crate::options::MAX_RECORDING)
                }
                "flush" => r.flush = v == "1" || v == "true",
                _ => return Err(format!("unknown key `{k}`")),
            }
        }
        if r.methods.as_ref().is_some_and(|m| !m.is_absolute()) {
            return Err("methods= takes an absolute path".into());
        }
        Ok(r)
    }
}

/// Runs `f` unless a re-layout runs already (the agent's cycle and `hch compact` share it).
pub(crate) fn exclusive<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    if BUSY.swap(true, Ordering::AcqRel) {
        return Err("a re-layout is running in this JVM already".into());
    }
    CANCEL.store(false, Ordering::Release);
    let r = f();
    BUSY.store(false, Ordering::Release);
    r
}

/// Asks the running re-layout to stop (its plugs are freed, placed methods stay placed).
pub(crate) fn cancel() -> String {
    if BUSY.load(Ordering::Acquire) {
        CANCEL.store(true, Ordering::Release);
        "the re-layout stops before its next method".into()
    } else {
        "no re-layout is running".into()
    }
}

/// Starts a request on its own thread; the answer says it started or why not. The methods
/// file is read before this returns, so the requester may remove it at once.
pub(crate) fn start(vm: JavaVm, text: &str) -> Result<String, String> {
    let req = Request::parse(text)?;
    let path = req.methods.clone().ok_or("methods= is missing")?;
    let methods = read_methods(&path)?;
    if methods.is_empty() {
        return Err(format!("{} names no method", path.display()));
    }
    launch(vm, req, methods)
}

/// The MBean's `relayout`: the request on the first line, then one method per line.
pub(crate) fn start_inline(vm: JavaVm, text: &str) -> Result<String, String> {
    if text.len() as u64 > MAX_METHODS_FILE {
        return Err(format!(
            "the request has {} bytes; at most {MAX_METHODS_FILE}",
            text.len()
        ));
    }
    let (head, rest) = text.split_once('\n').unwrap_or((text, ""));
    let req = Request::parse(head)?;
    if req.methods.is_some() {
        return Err(
            "over JMX the methods follow the first line; methods= names a file on the JVM's host"
                .into(),
        );
    }
    let methods: Vec<MethodRef> = rest.lines().filter_map(MethodRef::from_pattern).collect();
    if methods.is_empty() {
        return Err("the request names no method (one per line after the first)".into());
    }
    launch(vm, req, methods)
}

/// The last answer as JSON (`RelayoutState`), empty before the first request.
pub fn last_state() -> String {
    LAST.lock().map(|l| l.clone()).unwrap_or_default()
}

/// Starts a parsed request's thread unless one runs already.
fn launch(vm: JavaVm, req: Request, methods: Vec<MethodRef>) -> Result<String, String> {
    if BUSY.swap(true, Ordering::AcqRel) {
        return Err("a re-layout is running in this JVM already".into());
    }
    CANCEL.store(false, Ordering::Release);
    let id = req.id.clone();
    let spawned = std::thread::Builder::new()
        .name("hch-relayout".into())
        .spawn(move || {
            let r =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(vm, &req, &methods)));
            if r.is_err() {
                eprintln!("hch-agent: internal error in a re-layout; the JVM runs on");
            }
            BUSY.store(false, Ordering::Release);
        });
    if let Err(e) = spawned {
        BUSY.store(false, Ordering::Release);
        return Err(format!("cannot start its thread: {e}"));
    }
    Ok(format!("re-layout {id} started"))
}

/// The thread: attach, work, answer, detach.
fn run(vm: JavaVm, req: &Request, methods: &[MethodRef]) {
    let Ok(env) = vm.attach_daemon("hch-relayout") else {
        return;
    };
    let mut st = RelayoutState {
        id: req.id.clone(),
        state: "running".into(),
        ..RelayoutState::default()
    };
    publish(env, &st);
    let outcome = relayout_in(vm, env, methods, req);
    match outcome {
        Ok((report, unresolved)) => {
            st.state = "done".into();
            st.unresolved = unresolved;
            st.report = Some(report);
        }
        Err(e) => {
            st.state = "failed".into();
            st.error = Some(e);
        }
    }
    publish(env, &st);
    vm.detach();
}

fn publish(env: Env<'_>, st: &RelayoutState) {
    if let Ok(json) = serde_json::to_string(st) {
        let _ = crate::inproc::set_property(env, RELAYOUT_PROPERTY, &json);
        if let Ok(mut last) = LAST.lock() {
            *last = json;
        }
    }
}

/// The methods file, capped; lines that name no single method are skipped.
fn read_methods(path: &std::path::Path) -> Result<Vec<MethodRef>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    f.take(MAX_METHODS_FILE)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().filter_map(MethodRef::from_pattern).collect())
}

/// This library's JVMTI environment (one, made on first use).
fn jvmti(vm: JavaVm) -> Result<Jvmti, String> {
    static ENV: OnceLock<Jvmti> = OnceLock::new();
    if let Some(j) = ENV.get() {
        return Ok(*j);
    }
    let j = Jvmti::new(vm)?;
    Ok(*ENV.get_or_init(|| j))
}

/// Binds WhiteBox, finds the methods and re-lays them out; also returns how many names
/// matched no loaded method.
pub(crate) fn relayout_in(
    vm: JavaVm,
    env: Env<'_>,
    methods: &[MethodRef],
    req: &Request,
) -> Result<(Report, usize), String> {
    let jvmti = jvmti(vm)?;
    let deadline = Instant::now() + req.time;
    let heaps = heap_bounds(env);
    env.with_frame(256, |env| {
        let wb = WhiteBox::bind(env)?;
        let (hot, labels, unresolved) = resolve(&jvmti, env, methods)?;
        let hot: Vec<Hot<'_, '_>> = hot
            .iter()
            .zip(&labels)
            .map(|(exec, label)| Hot { exec: *exec, label })
            .collect();
        let plan = Plan {
            layout: req.layout,
            flush: req.flush,
            deadline,
            reserve: RESERVE,
            heaps,
            seed: 0x6863_6821,
        };
        relayout::relayout(wb, &hot, &plan).map(|r| (r, unresolved))
    })
    .map_err(|e| e.to_string())?
}

/// The code heaps' bounds from `Compiler.codecache` (none if it cannot be read: then only the
/// heap's own refusal to allocate stops a re-layout).
fn heap_bounds(env: Env<'_>) -> Vec<[u64; 3]> {
    crate::inproc::run_dcmd(env, "Compiler.codecache")
        .ok()
        .and_then(|text| hch_codecache::codecache::parse(&text).ok())
        .map(|cc| cc.heaps.iter().filter_map(|h| h.bounds).collect())
        .unwrap_or_default()
}

/// The `Executable` of each named method that a loaded class has, in the order named.
fn resolve<'a>(
    jvmti: &Jvmti,
    env: Env<'a>,
    methods: &[MethodRef],
) -> Result<(Vec<Local<'a>>, Vec<String>, usize), String> {
    let wanted: HashSet<String> = methods.iter().map(|m| m.class.clone()).collect();
    let found = methods_of(jvmti, env, &wanted)?;
    let (mut execs, mut labels, mut unresolved) = (Vec::new(), Vec::new(), 0);
    for key in methods {
        let mut any = false;
        for f in found.iter().filter(|f| {
            f.class_name == key.class
                && f.name == key.name
                && (key.descriptor.is_empty() || f.descriptor == key.descriptor)
                && f.name != "<clinit>"
        }) {
            let exec = env
                .reflected(f.class, f.method, f.is_static)
                .map_err(|e| e.to_string())?;
            execs.push(exec);
            labels.push(format!(
                "{}.{}{}",
                f.class_name.replace('/', "."),
                f.name,
                f.descriptor
            ));
            any = true;
        }
        if !any {
            unresolved += 1;
        }
    }
    Ok((execs, labels, unresolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_method_lines_parse() {
        let r = Request::parse("id=7,layout=sparse,methods=/tmp/m,time=5s,flush=1").unwrap();
        assert_eq!(r.layout, Layout::Sparse);
        assert_eq!(r.time, Duration::from_secs(5));
        assert!(r.flush);
        assert_eq!(r.methods, Some(PathBuf::from("/tmp/m")));
        assert!(Request::parse("methods=rel").is_err());
        assert_eq!(Request::parse("id=1,layout=compact").unwrap().methods, None);
        assert!(Request::parse("layout=wide,methods=/m").is_err());
        assert!(Request::parse("time=5,methods=/m").is_err());
    }
}
