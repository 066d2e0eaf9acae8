//! Re-laying out a JVM's hot code through the agent and WhiteBox (`hch compact`, `hch lab`).
//! On this host the method list goes into the JVM's `/tmp` (inside its root, `O_EXCL`), the
//! agent is asked with the attach `load` command (`relayout ...`), reads the list at once
//! (hch removes it then), works on its own thread, and answers in the system property
//! `hch.agent.relayout`, which hch polls. Over JMX the agent must run already: its MBean's
//! `relayout` operation takes the list inline and its `Relayout` attribute answers. Ctrl-C
//! asks the agent to stop before its next method and waits for it.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use hch_agent::compact::{RelayoutState, RELAYOUT_PROPERTY};
use hch_agent::relayout::Report;
use hch_agent::MBEAN_NAME;
use hch_attach::root::{create_new, remove_if_same};
use hch_attach::Vm;
use hch_codecache::MethodRef;
use hch_target::remote::JmxTarget;
use hch_target::Target;

use crate::cmd::agent::{no_agent_at, read_property, Placed};
use crate::exit::{coded, Code};

/// The JVM flags that make the WhiteBox API available.
pub const WHITEBOX_FLAGS: [&str; 2] = ["-XX:+UnlockDiagnosticVMOptions", "-XX:+WhiteBoxAPI"];
/// How often the answer is polled.
const POLL: Duration = Duration::from_millis(250);
/// The longest hch waits for the agent after a Ctrl-C.
const CANCEL_WAIT: Duration = Duration::from_secs(30);

/// Refuses, with the flags to add, a JVM that runs without the WhiteBox API; `place` names
/// it ("pid 12345", "the JVM at host:9010").
pub fn require_whitebox(t: &mut dyn Target, place: &str) -> anyhow::Result<()> {
    let flags = t
        .jcmd("VM.flags -all")
        .with_context(|| format!("reading the flags of {place}"))?;
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
            "{place} runs without the WhiteBox API, which compaction needs on a stock JDK; nothing was changed. Restart it with {} (a diagnostic feature of every HotSpot build: `hch compact --print-flags`)",
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

/// Where requests go: the attach mechanism on this host, or the agent's MBean over JMX.
pub enum Channel {
    /// A local JVM; the agent is loaded (or asked) with `load`.
    Attach { vm: Vm, lib: PathBuf },
    /// A remote JVM that runs the agent already; `at` names it.
    Jmx { jmx: JmxTarget, at: String },
}

impl Channel {
    /// Over JMX, refuses a JVM whose agent does not run (hch cannot load one there).
    pub fn require_agent(&mut self) -> anyhow::Result<()> {
        match self {
            Channel::Attach { .. } => Ok(()),
            Channel::Jmx { jmx, at } => match jmx.attribute_string(MBEAN_NAME, "Relayout")? {
                Some(_) => Ok(()),
                None => Err(no_agent_at(at)),
            },
        }
    }

    /// "pid 12345" or "the JVM at host:port".
    pub fn place(&self) -> String {
        match self {
            Channel::Attach { vm, .. } => format!("pid {}", vm.pid()),
            Channel::Jmx { at, .. } => format!("the JVM at {at}"),
        }
    }

    /// Hands the request to the agent; its answer, or an error with it.
    fn send(&mut self, id: &str, ask: &Ask<'_>) -> anyhow::Result<String> {
        let head = format!(
            "id={id},layout={},time={}s,flush={}",
            ask.layout,
            ask.time.as_secs().max(1),
            u8::from(ask.flush)
        );
        let list: String = ask.methods.iter().map(|m| m.pattern() + "\n").collect();
        match self {
            Channel::Attach { vm, lib } => send_by_file(vm, lib, id, &head, &list),
            Channel::Jmx { jmx, at } => {
                let answer = jmx
                    .invoke_string(MBEAN_NAME, "relayout", &[&format!("{head}\n{list}")])
                    .map_err(|e| refused_over_jmx(at, e))?;
                Ok(answer)
            }
        }
    }

    /// The agent's last answer, if any.
    fn state(&mut self) -> anyhow::Result<Option<RelayoutState>> {
        let json = match self {
            Channel::Attach { vm, .. } => read_property(vm, RELAYOUT_PROPERTY)?,
            Channel::Jmx { jmx, .. } => jmx
                .attribute_string(MBEAN_NAME, "Relayout")?
                .filter(|j| !j.is_empty()),
        };
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Asks the running re-layout to stop before its next method.
    fn cancel(&mut self) {
        let _ = match self {
            Channel::Attach { vm, lib } => load(vm, lib, "relayout-cancel").map(drop),
            Channel::Jmx { jmx, .. } => jmx
                .invoke_string(MBEAN_NAME, "relayoutCancel", &[])
                .map(drop)
                .map_err(anyhow::Error::from),
        };
    }
}

/// An MBean call that failed: no agent, or the agent's refusal, said plainly.
fn refused_over_jmx(at: &str, e: hch_target::TargetError) -> anyhow::Error {
    let text = e.to_string();
    if text.contains("InstanceNotFoundException") {
        return no_agent_at(&at);
    }
    coded(
        Code::JvmFailed,
        format!("the JVM at {at}: relayout refused: {text}"),
    )
}

/// Asks the agent for a re-layout and waits for its report.
pub fn run(ch: &mut Channel, ask: &Ask<'_>, cancel: &AtomicBool) -> anyhow::Result<Report> {
    let id = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    ch.send(&id, ask)?;
    wait(ch, &id, ask.time + Duration::from_secs(60), cancel)
}

/// The list goes into the JVM's `/tmp`; the agent reads it before it answers `load`.
fn send_by_file(
    vm: &mut Vm,
    lib: &Path,
    id: &str,
    head: &str,
    list: &str,
) -> anyhow::Result<String> {
    let name = format!("hch-relayout-{id}.txt");
    let (fd, file) = create_new(vm.tmp_dir().as_fd(), &name, 0o644)
        .with_context(|| format!("writing the method list into pid {}'s /tmp", vm.pid()))?;
    let written = std::fs::File::from(fd).write_all(list.as_bytes());
    let text = format!("relayout {head},methods=/tmp/{name}");
    let sent = written
        .context("writing the method list")
        .and_then(|()| load(vm, lib, &text));
    // The agent read the list before it answered: it goes now, whatever the answer.
    let _ = remove_if_same(vm.tmp_dir().as_fd(), &name, file);
    sent
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
    ch: &mut Channel,
    id: &str,
    limit: Duration,
    cancel: &AtomicBool,
) -> anyhow::Result<Report> {
    let t0 = Instant::now();
    let mut cancelled_at: Option<Instant> = None;
    loop {
        if let Some(st) = ch.state()?.filter(|s| s.id == id && s.state != "running") {
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
                        "{}: the re-layout failed: {}",
                        ch.place(),
                        st.error.unwrap_or_else(|| "no report".into())
                    ),
                )),
            };
        }
        if cancel.load(Ordering::Relaxed) && cancelled_at.is_none() {
            ch.cancel();
            cancelled_at = Some(Instant::now());
        }
        let waited_out = cancelled_at.map_or(t0.elapsed() > limit, |c| c.elapsed() > CANCEL_WAIT);
        if waited_out {
            return Err(coded(
                Code::JvmFailed,
                format!(
                    "{}: no answer from the agent's re-layout after {:.0} s",
                    ch.place(),
                    t0.elapsed().as_secs_f64()
                ),
            ));
        }
        std::thread::sleep(POLL);
    }
}
