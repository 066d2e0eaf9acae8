//! Re-layout requests from outside (`hch compact`: the attach `load` with `relayout ...`) and
//! their answer, the system property [`RELAYOUT_PROPERTY`] that `hch compact` polls. The work
//! runs on a thread of its own, attached to the JVM as a daemon, one at a time.

use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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

/// One re-layout at a time in this JVM.
static BUSY: AtomicBool = AtomicBool::new(false);

/// A request: `relayout id=ID,layout=compact|sparse,methods=/path,time=60s[,flush=1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The requester's id, echoed in the answer.
    pub id: String,
    /// What to build.
    pub layout: Layout,
    /// A file of methods, hottest first, one per line (`pkg/Cls.name(desc)`).
    pub methods: PathBuf,
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
    pub report: Option<serde_json::Value>,
}

impl Request {
    /// Parses the text after `relayout `.
    pub fn parse(text: &str) -> Result<Request, String> {
        let mut r = Request {
            id: String::new(),
            layout: Layout::Compact,
            methods: PathBuf::new(),
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
                "methods" => r.methods = PathBuf::from(v),
                "time" => {
                    r.time = humantime::parse_duration(v)
                        .map_err(|e| format!("time={v}: {e}"))?
                        .min(crate::options::MAX_RECORDING)
                }
                "flush" => r.flush = v == "1" || v == "true",
                _ => return Err(format!("unknown key `{k}`")),
            }
        }
        if !r.methods.is_absolute() {
            return Err("methods= takes an absolute path".into());
        }
        Ok(r)
    }
}

/// Starts a request on its own thread; the answer says it started or why not.
pub fn start(vm: JavaVm, text: &str) -> Result<String, String> {
    let req = Request::parse(text)?;
    if BUSY.swap(true, Ordering::AcqRel) {
        return Err("a re-layout is running in this JVM already".into());
    }
    let id = req.id.clone();
    let spawned = std::thread::Builder::new()
        .name("hch-relayout".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(vm, &req)));
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
fn run(vm: JavaVm, req: &Request) {
    let Ok(env) = vm.attach_daemon("hch-relayout") else {
        return;
    };
    let mut st = RelayoutState {
        id: req.id.clone(),
        state: "running".into(),
        ..RelayoutState::default()
    };
    publish(env, &st);
    let outcome = read_methods(&req.methods).and_then(|m| relayout_in(vm, env, &m, req));
    match outcome {
        Ok((report, unresolved)) => {
            st.state = "done".into();
            st.unresolved = unresolved;
            st.report = serde_json::to_value(&report).ok();
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
    }
}

/// A method named by a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MethodKey {
    /// Internal class name.
    pub class: String,
    /// Method name.
    pub name: String,
    /// Descriptor; empty matches every overload.
    pub descriptor: String,
}

impl MethodKey {
    /// Parses `pkg/Cls.name(desc)`, `pkg.Cls.name`, or `pkg.Cls::name`; `None` for patterns
    /// with wildcards and other lines that name no single method.
    pub fn parse(line: &str) -> Option<MethodKey> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.contains('*') {
            return None;
        }
        let (head, descriptor) = match line.find('(') {
            Some(i) => (&line[..i], &line[i..]),
            None => (line, ""),
        };
        let (class, name) = head.split_once("::").or_else(|| head.rsplit_once('.'))?;
        if class.is_empty() || name.is_empty() {
            return None;
        }
        Some(MethodKey {
            class: class.replace('.', "/"),
            name: name.to_string(),
            descriptor: descriptor.to_string(),
        })
    }
}

/// The methods file, capped; lines that name no single method are skipped.
fn read_methods(path: &std::path::Path) -> Result<Vec<MethodKey>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    f.take(MAX_METHODS_FILE)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().filter_map(MethodKey::parse).collect())
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
    methods: &[MethodKey],
    req: &Request,
) -> Result<(Report, usize), String> {
    let jvmti = jvmti(vm)?;
    let deadline = Instant::now() + req.time;
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
            room: Vec::new(),
            seed: 0x6863_6821,
        };
        relayout::relayout(wb, &hot, &plan).map(|r| (r, unresolved))
    })
    .map_err(|e| e.to_string())?
}

/// The `Executable` of each named method that a loaded class has, in the order named.
fn resolve<'a>(
    jvmti: &Jvmti,
    env: Env<'a>,
    methods: &[MethodKey],
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
        assert!(Request::parse("methods=rel").is_err());
        assert!(Request::parse("layout=wide,methods=/m").is_err());
        let k = MethodKey::parse("hchdemo/Gen.m1(I)I").unwrap();
        assert_eq!(
            (k.class.as_str(), k.name.as_str(), k.descriptor.as_str()),
            ("hchdemo/Gen", "m1", "(I)I")
        );
        let k = MethodKey::parse("java.lang.String::hashCode").unwrap();
        assert_eq!(
            (k.class.as_str(), k.descriptor.as_str()),
            ("java/lang/String", "")
        );
        assert!(MethodKey::parse("java/lang/*.foo").is_none());
        assert!(MethodKey::parse("# comment").is_none());
    }
}
