//! The workload `hch lab` runs: its own process group (so a launcher script and the JVM it
//! starts go together), its output read line by line with the time each line arrived, and a
//! guard that ends the whole group when it is dropped: no JVM is left behind, also after an
//! error or a Ctrl-C.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};

/// Lines kept for an error message.
const TAIL: usize = 20;
/// The longest line kept (a workload may print anything).
const MAX_LINE: usize = 4096;

/// A line of the workload's output and when it arrived.
#[derive(Debug, Clone)]
pub struct Line {
    /// Arrival time.
    pub at: Instant,
    /// The text, cut at [`MAX_LINE`].
    pub text: String,
}

/// Why the lab cannot go on with this workload.
#[derive(Debug)]
pub enum Ended {
    /// It exited (status text).
    Exited(String),
    /// Ctrl-C.
    Cancelled,
}

/// A running workload.
#[derive(Debug)]
pub struct Workload {
    child: Child,
    rx: Receiver<Line>,
    /// Every line so far.
    pub lines: Vec<Line>,
    tail: VecDeque<String>,
    /// When it started.
    pub started: Instant,
    echo: bool,
    exit: Option<String>,
}

impl Workload {
    /// Starts `argv` in a new process group, with `env` added; `echo` copies its output to
    /// hch's stderr.
    pub fn spawn(
        argv: &[String],
        env: &[(String, String)],
        echo: bool,
    ) -> std::io::Result<Workload> {
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn()?;
        let (tx, rx) = channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ] {
            let Some(stream) = stream else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
                    let mut text = String::from_utf8_lossy(&l).into_owned();
                    text.truncate(text.floor_char_boundary_compat(MAX_LINE));
                    let line = Line {
                        at: Instant::now(),
                        text,
                    };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Workload {
            child,
            rx,
            lines: Vec::new(),
            tail: VecDeque::new(),
            started: Instant::now(),
            echo,
            exit: None,
        })
    }

    /// The process hch started.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Takes the lines that arrived.
    pub fn pump(&mut self) {
        while let Ok(l) = self.rx.try_recv() {
            if self.echo {
                eprintln!("  | {}", l.text);
            }
            if self.tail.len() == TAIL {
                self.tail.pop_front();
            }
            self.tail.push_back(l.text.clone());
            self.lines.push(l);
        }
    }

    /// Whether it still runs.
    pub fn alive(&mut self) -> bool {
        if self.exit.is_some() {
            return false;
        }
        match self.child.try_wait() {
            Ok(Some(st)) => {
                self.exit = Some(st.to_string());
                false
            }
            Ok(None) => true,
            Err(e) => {
                self.exit = Some(e.to_string());
                false
            }
        }
    }

    /// Waits `d`, taking its output; ends early if it exits or on Ctrl-C.
    pub fn sleep(&mut self, d: Duration, cancel: &AtomicBool) -> Result<(), Ended> {
        let until = Instant::now() + d;
        loop {
            self.pump();
            if cancel.load(Ordering::Relaxed) {
                return Err(Ended::Cancelled);
            }
            if !self.alive() {
                std::thread::sleep(Duration::from_millis(50));
                self.pump();
                return Err(Ended::Exited(self.exit.clone().unwrap_or_default()));
            }
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            std::thread::sleep((until - now).min(Duration::from_millis(100)));
        }
    }

    /// Waits for it to exit by itself (at most `limit`); its exit time.
    pub fn wait_exit(&mut self, limit: Duration, cancel: &AtomicBool) -> Result<Instant, Ended> {
        match self.sleep(limit, cancel) {
            Err(Ended::Exited(_)) => Ok(Instant::now()),
            Err(e) => Err(e),
            Ok(()) => Err(Ended::Exited(format!(
                "still running after {} s",
                limit.as_secs()
            ))),
        }
    }

    /// Its last lines, for an error message.
    pub fn tail(&self) -> String {
        self.tail.iter().map(|l| format!("  | {l}\n")).collect()
    }

    /// How it exited, if it did.
    pub fn exit_status(&self) -> Option<&str> {
        self.exit.as_deref()
    }

    /// The JVM: the process itself when hch ran `java`, else the first `java` process among
    /// its descendants (a launcher script), waited for up to `limit`.
    pub fn jvm_pid(
        &mut self,
        direct: bool,
        limit: Duration,
        cancel: &AtomicBool,
    ) -> Result<u32, Ended> {
        if direct {
            return Ok(self.pid());
        }
        let until = Instant::now() + limit;
        loop {
            if let Some(p) = java_descendant(self.pid()) {
                return Ok(p);
            }
            if Instant::now() >= until {
                return Err(Ended::Exited(format!(
                    "no java process among its children after {} s",
                    limit.as_secs()
                )));
            }
            self.sleep(Duration::from_millis(200), cancel)?;
        }
    }

    /// Ends the whole group: SIGTERM, then SIGKILL after 3 s.
    pub fn stop(&mut self) {
        if !self.alive() && self.exit.is_some() {
            let _ = group_signal(self.pid(), Signal::KILL);
            return;
        }
        let _ = group_signal(self.pid(), Signal::TERM);
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until && self.alive() {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = group_signal(self.pid(), Signal::KILL);
        let _ = self.child.wait();
        self.pump();
    }
}

impl Drop for Workload {
    fn drop(&mut self) {
        self.stop();
    }
}

fn group_signal(pid: u32, sig: Signal) -> rustix::io::Result<()> {
    match Pid::from_raw(pid as i32) {
        Some(p) => kill_process_group(p, sig),
        None => Ok(()),
    }
}

/// The first process named `java` below `root`, breadth first.
fn java_descendant(root: u32) -> Option<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The field after the command name (which may hold spaces and parentheses) is the
        // state, then the parent's pid.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut queue = VecDeque::from([root]);
    while let Some(p) = queue.pop_front() {
        for &c in children.get(&p).into_iter().flatten() {
            let comm = std::fs::read_to_string(format!("/proc/{c}/comm")).unwrap_or_default();
            if comm.trim() == "java" {
                return Some(c);
            }
            queue.push_back(c);
        }
    }
    None
}

/// `str::floor_char_boundary` for stable Rust.
trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for String {
    fn floor_char_boundary_compat(&self, i: usize) -> usize {
        if i >= self.len() {
            return self.len();
        }
        (0..=i)
            .rev()
            .find(|&j| self.is_char_boundary(j))
            .unwrap_or(0)
    }
}
