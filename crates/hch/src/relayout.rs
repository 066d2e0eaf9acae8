//! Re-laying out a JVM's hot code through the agent and WhiteBox (`hch compact`, `hch lab`):
//! the method list goes into the JVM's `/tmp` (inside its root, `O_EXCL`), the agent is asked
//! with the attach `load` command (`relayout ...`), reads the list at once (hch removes it
//! then), works on its own thread, and answers in the system property `hch.agent.relayout`,
//! which hch polls. Ctrl-C asks the agent to stop before its next method and waits for it.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use hch_agent::compact::{RelayoutState, RELAYOUT_PROPERTY};
use hch_agent::relayout::Report;
use hch_attach::root::{create_new, remove_if_same};
use hch_attach::Vm;
use hch_codecache::MethodRef;

use crate::cmd::agent::{read_property, Placed};
use crate::exit::{coded, Code};

/// The JVM flags that make the WhiteBox API available.
pub const WHITEBOX_FLAGS: [&str; 2] = ["-XX:+UnlockDiagnosticVMOptions", "-XX:+WhiteBoxAPI"];
/// How often the answer is polled.
const POLL: Duration = Duration::from_millis(250);
/// The longest hch waits for the agent after a Ctrl-C.
const CANCEL_WAIT: Duration = Duration::from_secs(30);

/// Refuses, with the flags to add, a JVM that runs without the WhiteBox API.
pub fn require_whitebox(vm: &mut Vm) -> anyhow::Result<()> {
    let pid = vm.pid();
    let reply = vm
        .jcmd("VM.flags -all")
        .with_context(|| format!("reading the flags of pid {pid}"))?;
    let flags = reply.text();
    let on = flags.lines().any(|l| {
        let mut w = l.split_whitespace();
        w.nth(1) == Some("WhiteBoxAPI") && w.nth(1) == Some("true")
    });
    if on {
        return Ok(());
    }
    Err(coded(
        Code::Findings,
        format!(
            "pid {} runs without the WhiteBox API, which compaction needs on a stock JDK; nothing was changed. Restart it with {} (a diagnostic feature of every HotSpot build: `hch compact --print-flags`)",
            vm.pid(),
            WHITEBOX_FLAGS.join(" ")
        ),
    ))
}

/// One re-layout request.
#[derive(Debug, Clone)]
pub struct Ask<'m> {
    /// Hottest first.
    pub methods: &'m [MethodRef],
    /// `compact` or `sparse`.
    pub layout: &'static str,
    /// The agent stops after this long.
    pub time: Duration,
    /// Free code made not entrant first (a full GC: lab only).
    pub flush: bool,
}

/// Asks the agent for a re-layout and waits for its report.
pub fn run(vm: &mut Vm, lib: &Path, ask: &Ask<'_>, cancel: &AtomicBool) -> anyhow::Result<Report> {
    let id = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let list: String = ask.methods.iter().map(|m| m.pattern() + "\n").collect();
    let name = format!("hch-relayout-{id}.txt");
    let (fd, file) = create_new(vm.tmp_dir().as_fd(), &name, 0o644)
        .with_context(|| format!("writing the method list into pid {}'s /tmp", vm.pid()))?;
    let written = std::fs::File::from(fd).write_all(list.as_bytes());
    let text = format!(
        "relayout id={id},layout={},methods=/tmp/{name},time={}s,flush={}",
        ask.layout,
        ask.time.as_secs().max(1),
        u8::from(ask.flush)
    );
    let sent = written
        .context("writing the method list")
        .and_then(|()| load(vm, lib, &text));
    // The agent read the list before it answered: it goes now, whatever the answer.
    let _ = remove_if_same(vm.tmp_dir().as_fd(), &name, file);
    sent?;
    wait(vm, lib, &id, ask.time + Duration::from_secs(60), cancel)
}

/// Sends `load <lib> true <text>`; the agent's answer, or an error with it.
fn load(vm: &mut Vm, lib: &Path, text: &str) -> anyhow::Result<String> {
    let placed = Placed::new(vm, lib)?;
    let reply = vm.execute("load", &[&placed.jvm_path, "true", text]);
    placed.remove(vm);
    let reply = reply.with_context(|| format!("loading the agent into pid {}", vm.pid()))?;
    let answer = read_property(vm, hch_agent::ANSWER_PROPERTY)?
        .and_then(|a| a.split_once(' ').map(|(_, t)| t.to_string()))
        .unwrap_or_else(|| reply.text().trim().to_string());
    if reply.failed() || answer.contains("refused") {
        return Err(coded(
            Code::JvmFailed,
            format!("pid {}: {answer}", vm.pid()),
        ));
    }
    Ok(answer)
}

/// Polls the agent's answer until the request `id` is done; Ctrl-C cancels it.
fn wait(
    vm: &mut Vm,
    lib: &Path,
    id: &str,
    limit: Duration,
    cancel: &AtomicBool,
) -> anyhow::Result<Report> {
    let t0 = Instant::now();
    let mut cancelled_at: Option<Instant> = None;
    loop {
        if let Some(st) = state(vm)?.filter(|s| s.id == id && s.state != "running") {
            if cancelled_at.is_some() {
                return Err(coded(
                    Code::Interrupted,
                    "interrupted: the agent stopped before its next method; methods already placed keep their new code",
                ));
            }
            return match (st.state.as_str(), st.report) {
                ("done", Some(r)) => Ok(r),
                _ => Err(coded(
                    Code::JvmFailed,
                    format!(
                        "pid {}: the re-layout failed: {}",
                        vm.pid(),
                        st.error.unwrap_or_else(|| "no report".into())
                    ),
                )),
            };
        }
        if cancel.load(Ordering::Relaxed) && cancelled_at.is_none() {
            let _ = load(vm, lib, "relayout-cancel");
            cancelled_at = Some(Instant::now());
        }
        let waited_out = cancelled_at.map_or(t0.elapsed() > limit, |c| c.elapsed() > CANCEL_WAIT);
        if waited_out {
            return Err(coded(
                Code::JvmFailed,
                format!(
                    "pid {}: no answer from the agent's re-layout after {:.0} s",
                    vm.pid(),
                    t0.elapsed().as_secs_f64()
                ),
            ));
        }
        std::thread::sleep(POLL);
    }
}

/// The agent's last answer, if any.
fn state(vm: &mut Vm) -> anyhow::Result<Option<RelayoutState>> {
    let Some(json) = read_property(vm, RELAYOUT_PROPERTY)? else {
        return Ok(None);
    };
    Ok(serde_json::from_str(&json).ok())
}
