//! `hch agent load|status|stop TARGET`: the in-JVM agent (`libhch_agent.so`).
//!
//! - `load PID` sends the attach mechanism's `load <library> true <options>`. The library must
//!   be a path the JVM can open: hch's own copy when the JVM shares hch's mount namespace and
//!   user, else a copy hch writes into the JVM's `/tmp` (inside its root, `O_EXCL`) and removes
//!   as soon as the JVM has mapped it. Loading again changes the running agent's options.
//! - `status PID` reads the status the agent keeps in the system property `hch.agent.status`
//!   (through `VM.system_properties`: nothing is loaded); `stop PID` loads the library again
//!   with `stop`, which the running agent takes as a request.
//! - For HOST:PORT, all three go through the agent's MBean over JMX (`load` then means
//!   `setOptions` of an agent already running: a library cannot be loaded over JMX).

use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use hch_agent::{Options, Status, ANSWER_PROPERTY, MBEAN_NAME, STATUS_PROPERTY};
use hch_attach::root::{create_new, remove_if_same, FileId};
use hch_attach::Vm;
use hch_target::remote::JmxTarget;
use hch_target::TargetSpec;

use crate::exit::{coded, Code, Status as Exit};
use crate::target_args::{parse_spec, Connect};

/// Examples shown by `hch agent --help`.
pub const EXAMPLES: &str = "Examples:
  hch agent load 1234                                   defaults: first cycle after 2m, then every 10m
  hch agent load 1234 --interval 5m --duration 30s --dialect stock --log /tmp/hch-agent.log
  hch agent status 1234
  hch agent status 10.0.0.5:9010 --user monitorRole --password-file pw.txt
  hch agent stop 1234

At start-up instead (recommended on JDK 22 and earlier, see README):
  java -agentpath:/path/libhch_agent.so=delay=2m,interval=10m,dialect=stock -jar app.jar";

/// The `agent` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Load the agent into a running JVM (attach `load`), or change a running agent's options.
    Load(Box<LoadArgs>),
    /// Print the agent's state, last cycle, directives in force and next cycle.
    Status(StatusArgs),
    /// Stop the agent's cycles (its directives stay in force).
    Stop(StopArgs),
}

/// The agent's options as flags: at the first load, unset ones take the agent's defaults;
/// loading again changes only the ones given.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AgentFlags {
    /// Wait this long before the first cycle (default 2m).
    #[arg(long, value_name = "DURATION")]
    pub delay: Option<String>,
    /// A cycle starts at most this often, and directives change at most this often (default 10m).
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// How long each cycle records (default 60s).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// The jdk.ExecutionSample period (default 10ms).
    #[arg(long, value_name = "DURATION")]
    pub sampling: Option<String>,
    /// At most N hot code blobs (default 1000).
    #[arg(long, value_name = "N")]
    pub top: Option<String>,
    /// Stop once the hot blobs cover P percent of the compiled samples.
    #[arg(long, value_name = "P")]
    pub coverage: Option<String>,
    /// Leave out blobs with fewer than K samples (default 1).
    #[arg(long, value_name = "K")]
    pub min_samples: Option<String>,
    /// Size of the hot code segment the blobs must fit in (default 8M).
    #[arg(long, value_name = "SIZE")]
    pub budget: Option<String>,
    /// auto (apply only on a JVM with a hot code segment), stock (options every JDK accepts) or hot.
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<String>,
    /// Keep directives while they cover at least P percent of a new hot set's samples (default 80).
    #[arg(long, value_name = "P")]
    pub overlap: Option<String>,
    /// whitebox: after each cycle, lay the hot set out compactly through WhiteBox (a JVM
    /// started with -XX:+UnlockDiagnosticVMOptions -XX:+WhiteBoxAPI; experimental), or off.
    #[arg(long, value_name = "whitebox|off")]
    pub compact: Option<String>,
    /// The agent's log file, as the JVM sees the path (default: the JVM's stderr).
    #[arg(long, value_name = "PATH")]
    pub log: Option<String>,
}

impl AgentFlags {
    /// The option string for the agent (only the keys given), checked with the agent's own
    /// parser (exit 2 if bad). The log directory is the JVM's, so it is not checked here.
    pub fn to_options(&self) -> anyhow::Result<String> {
        let pairs = [
            ("delay", &self.delay),
            ("interval", &self.interval),
            ("duration", &self.duration),
            ("sampling", &self.sampling),
            ("top", &self.top),
            ("coverage", &self.coverage),
            ("min_samples", &self.min_samples),
            ("budget", &self.budget),
            ("dialect", &self.dialect),
            ("overlap", &self.overlap),
            ("compact", &self.compact),
        ];
        let given: Vec<String> = pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect();
        for v in pairs.iter().filter_map(|(_, v)| v.as_deref()) {
            if v.contains(',') {
                return Err(coded(
                    Code::Usage,
                    format!("`{v}`: option values cannot contain commas"),
                ));
            }
        }
        let mut text = given.join(",");
        Options::parse(&text).map_err(|e| coded(Code::Usage, e.to_string()))?;
        if let Some(log) = &self.log {
            if log.contains(',') || !log.starts_with('/') {
                return Err(coded(
                    Code::Usage,
                    format!("--log {log}: an absolute path without commas"),
                ));
            }
            if !text.is_empty() {
                text.push(',');
            }
            text.push_str(&format!("log={log}"));
        }
        Ok(text)
    }
}

/// Arguments of `hch agent load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The JVM: a PID (or HOST:PORT of a JVM running the agent already: its options change).
    #[arg(value_name = "TARGET", value_parser = crate::target_args::target_arg)]
    pub target: String,
    #[command(flatten)]
    pub flags: AgentFlags,
    /// The agent library (default: libhch_agent.so next to hch, or $HCH_AGENT_LIB).
    #[arg(long, value_name = "PATH")]
    pub lib: Option<PathBuf>,
    #[command(flatten)]
    pub connect: Connect,
}

/// Arguments of `hch agent status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The JVM: a PID, or HOST:PORT of its JMX agent.
    #[arg(value_name = "TARGET", value_parser = crate::target_args::target_arg)]
    pub target: String,
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: Connect,
}

/// Arguments of `hch agent stop`.
#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// The JVM: a PID, or HOST:PORT of its JMX agent.
    #[arg(value_name = "TARGET", value_parser = crate::target_args::target_arg)]
    pub target: String,
    /// The agent library, for a PID (default: as for `load`).
    #[arg(long, value_name = "PATH")]
    pub lib: Option<PathBuf>,
    #[command(flatten)]
    pub connect: Connect,
}

/// Runs an `agent` subcommand.
pub fn run(cmd: Command) -> anyhow::Result<Exit> {
    match cmd {
        Command::Load(a) => load(*a),
        Command::Status(a) => status(a),
        Command::Stop(a) => stop(a),
    }
}

fn load(a: LoadArgs) -> anyhow::Result<Exit> {
    let options = a.flags.to_options()?;
    match parse_spec(&a.target)? {
        TargetSpec::Pid(pid) => {
            let lib = library(a.lib.as_deref())?;
            let mut vm = open_vm(pid, &a.connect)?;
            warn_old_jdk(&mut vm);
            request(&mut vm, &lib, &options)
        }
        spec => {
            let mut t = jmx(&spec, &a.connect)?;
            let answer = t
                .invoke_string(MBEAN_NAME, "setOptions", &[&options])
                .map_err(|e| no_agent_over_jmx(&spec, e))?;
            println!("{answer}");
            Ok(Exit(Code::Ok))
        }
    }
}

fn status(a: StatusArgs) -> anyhow::Result<Exit> {
    let spec = parse_spec(&a.target)?;
    let st = match &spec {
        TargetSpec::Pid(pid) => {
            let mut vm = open_vm(*pid, &a.connect)?;
            read_status(&mut vm)?
        }
        spec => {
            let mut t = jmx(spec, &a.connect)?;
            t.attribute_string(MBEAN_NAME, "Status")?
                .map(|json| serde_json::from_str::<Status>(&json))
                .transpose()
                .context("the agent's Status attribute")?
        }
    };
    let Some(st) = st else {
        let place = match spec {
            TargetSpec::Pid(pid) => format!("pid {pid}"),
            jmx => format!("the JVM at {jmx}"),
        };
        return Err(coded(
            Code::Error,
            format!("no hch agent runs in {place} (hch agent load starts one)"),
        ));
    };
    if a.json {
        crate::output::print_json(&st)?;
    } else {
        let now = hch_agent::status::epoch_ms(SystemTime::now());
        print!("{}", st.render(now));
        std::io::stdout().flush()?;
    }
    Ok(Exit(Code::Ok))
}

fn stop(a: StopArgs) -> anyhow::Result<Exit> {
    match parse_spec(&a.target)? {
        TargetSpec::Pid(pid) => {
            let mut vm = open_vm(pid, &a.connect)?;
            if read_status(&mut vm)?.is_none() {
                return Err(coded(
                    Code::Error,
                    format!("no hch agent runs in pid {pid}"),
                ));
            }
            let lib = library(a.lib.as_deref())?;
            request(&mut vm, &lib, "stop")
        }
        spec => {
            let mut t = jmx(&spec, &a.connect)?;
            let answer = t
                .invoke_string(MBEAN_NAME, "stop", &[])
                .map_err(|e| no_agent_over_jmx(&spec, e))?;
            println!("{answer}");
            Ok(Exit(Code::Ok))
        }
    }
}

/// Sends `load` with `options` and prints the agent's answer; exit 4 when it refused.
fn request(vm: &mut Vm, lib: &Path, options: &str) -> anyhow::Result<Exit> {
    let placed = Placed::new(vm, lib)?;
    let sent = hch_agent::status::epoch_ms(SystemTime::now());
    let reply = vm.execute("load", &[&placed.jvm_path, "true", options]);
    placed.remove(vm);
    let reply = reply.with_context(|| format!("loading the agent into pid {}", vm.pid()))?;
    let refused = reply.failed() || return_code(&reply.text()).is_some_and(|c| c != 0);
    // The agent's answer, unless it is older than this request (the library did not load).
    let answer = read_property(vm, ANSWER_PROPERTY)?.and_then(|a| {
        let (ms, text) = a.split_once(' ')?;
        (ms.parse::<u64>().ok()? + 1000 >= sent).then(|| text.to_string())
    });
    let answer = answer.unwrap_or_else(|| reply.text().trim().to_string());
    if refused {
        return Err(coded(
            Code::JvmFailed,
            format!("pid {}: {answer}", vm.pid()),
        ));
    }
    println!("pid {}: {answer}", vm.pid());
    if let Some(st) = read_status(vm)? {
        let now = hch_agent::status::epoch_ms(SystemTime::now());
        print!("{}", st.render(now));
    }
    Ok(Exit(Code::Ok))
}

/// `return code: N` in the answer to `load` (JDK 9 to 20; later JDKs give an error text).
fn return_code(text: &str) -> Option<i32> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("return code: ")?.trim().parse().ok())
}

/// JDK 22 and earlier: the agent's first recording deoptimizes all compiled code.
fn warn_old_jdk(vm: &mut Vm) {
    let Ok(reply) = vm.jcmd("VM.version") else {
        return;
    };
    let text = reply.text();
    let jdk = text
        .lines()
        .find_map(|l| l.strip_prefix("JDK "))
        .map(str::trim);
    if let Some(f) = jdk
        .and_then(hch_target::info::feature_of)
        .filter(|f| *f <= 22)
    {
        eprintln!("hch: warning: on JDK {f} the agent's first recording deoptimizes all compiled code, unless JFR ran in this JVM before; the JVM runs slower for a while as it recompiles. Loading the agent at start-up (-agentpath) avoids this.");
    }
}

/// The agent's status from the JVM's system properties; `None` when no agent runs there.
fn read_status(vm: &mut Vm) -> anyhow::Result<Option<Status>> {
    let Some(json) = read_property(vm, STATUS_PROPERTY)? else {
        return Ok(None);
    };
    let st = serde_json::from_str(&json)
        .with_context(|| format!("pid {}: the agent's status property", vm.pid()))?;
    Ok(Some(st))
}

pub(crate) fn read_property(vm: &mut Vm, key: &str) -> anyhow::Result<Option<String>> {
    let reply = vm
        .jcmd("VM.system_properties")
        .with_context(|| format!("reading the system properties of pid {}", vm.pid()))?;
    Ok(hch_target::info::parse_properties(&reply.text()).remove(key))
}

pub(crate) fn open_vm(pid: u32, connect: &Connect) -> anyhow::Result<Vm> {
    let spec = TargetSpec::Pid(pid);
    let opts = connect.options(&spec)?;
    Vm::open(pid, &opts.attach).map_err(|e| {
        anyhow::Error::new(hch_target::TargetError::Attach {
            target: format!("pid {pid}"),
            source: e,
        })
    })
}

pub(crate) fn jmx(spec: &TargetSpec, connect: &Connect) -> anyhow::Result<JmxTarget> {
    let TargetSpec::Jmx { host, port } = spec else {
        unreachable!("a JMX spec");
    };
    let opts = connect.options(spec)?;
    Ok(JmxTarget::connect_to(host, *port, &opts.remote)?)
}

/// An MBean call that failed: no agent there says so plainly.
fn no_agent_over_jmx(spec: &TargetSpec, e: hch_target::TargetError) -> anyhow::Error {
    if e.to_string().contains("InstanceNotFoundException") {
        no_agent_at(spec)
    } else {
        e.into()
    }
}

/// No agent's MBean in the JVM at `spec`, and how to get one there.
pub(crate) fn no_agent_at(spec: &dyn std::fmt::Display) -> anyhow::Error {
    coded(Code::Error,
        format!("no hch agent MBean ({MBEAN_NAME}) in {spec}: start the JVM with -agentpath, or hch agent load PID on its host"),
    )
}

/// The agent library on this host: `--lib`, `$HCH_AGENT_LIB`, or next to hch.
pub(crate) fn library(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let env = std::env::var_os("HCH_AGENT_LIB").map(PathBuf::from);
    let exe = std::env::current_exe().context("locating hch")?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates: Vec<PathBuf> = match given.map(Path::to_path_buf).or(env) {
        Some(p) => vec![p],
        None => vec![
            dir.join(hch_agent::LIBRARY_NAME),
            dir.join("deps").join(hch_agent::LIBRARY_NAME),
            dir.join("../lib").join(hch_agent::LIBRARY_NAME),
        ],
    };
    candidates
        .iter()
        .find(|p| p.is_file())
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .ok_or_else(|| {
            coded(Code::Error,
                format!(
                    "the agent library was not found ({}): build it with `cargo build -p hch-agent`, or give --lib PATH",
                    candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                ),
            )
        })
}

/// The library where the JVM can open it: hch's own file, or a copy in the JVM's `/tmp`,
/// removed once the `load` is answered (the JVM keeps its mapping).
pub(crate) struct Placed {
    pub(crate) jvm_path: String,
    copy: Option<(String, FileId)>,
}

impl Placed {
    pub(crate) fn new(vm: &Vm, lib: &Path) -> anyhow::Result<Placed> {
        if shares_our_files(vm) {
            let jvm_path = lib
                .to_str()
                .context("a library path that is not UTF-8")?
                .to_string();
            return Ok(Placed {
                jvm_path,
                copy: None,
            });
        }
        let bytes = std::fs::read(lib).with_context(|| format!("reading {}", lib.display()))?;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("libhch_agent-{}-{nanos:08x}.so", std::process::id());
        let context = || format!("writing the agent library into pid {}'s /tmp", vm.pid());
        let (fd, id) = create_new(vm.tmp_dir().as_fd(), &name, 0o755).with_context(context)?;
        let written = std::fs::File::from(fd).write_all(&bytes);
        let placed = Placed {
            jvm_path: format!("/tmp/{name}"),
            copy: Some((name, id)),
        };
        if let Err(e) = written {
            placed.remove(vm);
            return Err(anyhow::Error::new(e).context(context()));
        }
        Ok(placed)
    }

    /// Removes the copy, if it is still the file hch wrote.
    pub(crate) fn remove(self, vm: &Vm) {
        if let Some((name, id)) = &self.copy {
            let _ = remove_if_same(vm.tmp_dir().as_fd(), name, *id);
        }
    }
}

/// Whether the JVM sees hch's files as hch does: the same mount namespace and user.
fn shares_our_files(vm: &Vm) -> bool {
    let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
    let same_ns = ns("self").is_some() && ns("self") == ns(&vm.pid().to_string());
    same_ns && vm.owner().0 == rustix::process::geteuid().as_raw()
}
