//! `hch directives …` and `hch apply`: check directives files (hch's rules and a real JVM's
//! parser) and manage a live JVM's directive stack.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use anyhow::Context;
use hch_attach::procfs::{feature_of, update_of};
use hch_profile::{check, CheckTarget, Report};
use hch_target::apply::{ApplyMode, Placement};

use crate::cmd::analyze::DialectArg;

use crate::exit::{coded, Code, Status};
use crate::target_args::Connect;

/// Examples shown by `hch apply --help`.
pub const APPLY_EXAMPLES: &str = "Examples:
  hch apply 1234 hot.json          add hot.json on top of JVM 1234's directive stack
  hch directives check hot.json    see first whether the JVM will load it";

/// Examples shown by `hch directives check --help`.
const CHECK_EXAMPLES: &str = "Examples:
  hch directives check hot.json                                  hch's rules for JDK 17 and 25
  hch directives check hot.json --java /usr/lib/jvm/java-17-openjdk-amd64
  hch directives check hot.json --jdk 25 --hot-jvm               for a JVM with a hot code segment
Exit status 6 when a JVM would reject the file.";

/// A target and a directives file.
#[derive(Debug, clap::Args)]
pub struct TargetFileArgs {
    /// The JVM: a PID, or host:port for a remote JVM.
    pub target: String,
    /// The directives file.
    pub file: Option<std::path::PathBuf>,
    /// For a HOST:PORT target: where the same file lies on the JVM's host (copy it there
    /// first); the JVM reads it from there, hch checks the local FILE.
    #[arg(long, value_name = "PATH")]
    pub remote_path: Option<String>,
    /// Also let this JDK's own start-up parser judge the file first (a JDK home or its `java`,
    /// on this host). hch never runs anything of the target's.
    #[arg(long, value_name = "JAVA_HOME")]
    pub java: Option<PathBuf>,
    #[command(flatten)]
    pub connect: Connect,
}

/// Arguments of `hch directives check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The directives file.
    pub file: PathBuf,
    /// Also let this JDK's own parser judge the file (a JDK home, or its `java`); default:
    /// JAVA_HOME when set.
    #[arg(long, value_name = "JAVA_HOME")]
    pub java: Option<PathBuf>,
    /// JDK feature releases to apply hch's rules for (default: 17 and 25, the two verified).
    #[arg(long, value_name = "N", value_delimiter = ',')]
    pub jdk: Vec<u32>,
    /// The JVM has the design's hot code segment and its `Hot` option (no stock JDK has).
    #[arg(long)]
    pub hot_jvm: bool,
}

/// A target only.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// The JVM: a PID, or host:port for a remote JVM.
    pub target: String,
    #[command(flatten)]
    pub connect: Connect,
}

/// The `directives` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a directives file: syntax, keys, option types per JDK, patterns, stack size.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Add a directives file on top of a JVM's directive stack (checked first).
    Add(TargetFileArgs),
    /// Clear a JVM's directive stack, then add a file: repeated profiles do not pile up.
    Replace(TargetFileArgs),
    /// Remove the top directive of a JVM's stack.
    Remove(TargetArgs),
    /// Remove every directive but the default one.
    Clear(TargetArgs),
    /// Print a JVM's directive stack.
    Print(TargetArgs),
}

/// Runs a `directives` subcommand.
pub fn run(cmd: Command) -> anyhow::Result<Status> {
    match cmd {
        Command::Check(a) => run_check(a),
        Command::Add(a) => run_apply(a, ApplyMode::Add),
        Command::Replace(a) => run_apply(a, ApplyMode::Replace),
        Command::Remove(a) => run_stack(&a, Stack::Remove),
        Command::Clear(a) => run_stack(&a, Stack::Clear),
        Command::Print(a) => run_stack(&a, Stack::Print),
    }
}

/// `remove`, `clear` or `print`: prints the JVM's answer and the stack size around a change.
fn run_stack(a: &TargetArgs, what: Stack) -> anyhow::Result<Status> {
    let mut t = a.connect.open(&a.target)?;
    let outcome = match what {
        Stack::Print => {
            println!("{}", hch_target::directives::print(t.as_mut())?.trim_end());
            return Ok(Status(Code::Ok));
        }
        Stack::Remove => hch_target::directives::remove(t.as_mut())?,
        Stack::Clear => hch_target::directives::clear(t.as_mut())?,
    };
    print_outcome(&outcome);
    Ok(Status(Code::Ok))
}

/// The stack operations without a file.
#[derive(Debug, Clone, Copy)]
enum Stack {
    Remove,
    Clear,
    Print,
}

/// The JVM's answer, the stack sizes and what it means for running code.
fn print_outcome(o: &hch_target::directives::DirectivesOutcome) {
    println!("{}", o.response.trim_end());
    println!(
        "directives on the stack: {} before, {} after (not counting the default)",
        o.stack_before, o.stack_after
    );
    eprintln!("hch: note: {}", o.note);
}

/// Checks the file for the target's JVM (hch's rules for its release and where it can put hot
/// code, room on the stack, where the JVM reads the file; and the parser of a JDK the operator
/// named with `--java`), then adds or replaces; the JVM's own answer and stack are checked
/// after. Nothing of the target's is ever executed.
fn run_apply(a: TargetFileArgs, mode: ApplyMode) -> anyhow::Result<Status> {
    let Some(file) = a.file else {
        return Err(coded(
            Code::Usage,
            "give the directives file: `hch directives add TARGET FILE`",
        ));
    };
    let text = read_file(&file)?;
    if let Some(java) = a.java.as_deref() {
        let v = jvm_verdict(java, &file)?;
        println!("{}", v.describe(&file));
        if !v.accepted {
            eprintln!(
                "hch: {} was not sent to {}: {} rejects it (see above)",
                file.display(),
                a.target,
                java.display()
            );
            return Ok(Status(Code::Findings));
        }
    }
    let mut t = a.connect.open(&a.target)?;
    let ready = crate::apply::ready(t.as_mut(), DialectArg::Stock)?;
    let placement = match a.remote_path {
        Some(p) => Placement::RemotePath(p),
        None => Placement::Placed,
    };
    crate::apply::apply_text(t.as_mut(), &ready, &text, mode, placement)
        .map_err(|e| with_file(e, &file))?;
    Ok(Status(Code::Ok))
}

/// Prints hch's report for a file the JVM would reject, and keeps the error.
fn with_file(e: anyhow::Error, file: &Path) -> anyhow::Error {
    if let Some(hch_target::apply::ApplyError::Rejected { report, .. }) = e.downcast_ref() {
        print_report(file, report);
    }
    e
}

/// Largest directives file read: HotSpot itself refuses files over a few MB.
const MAX_FILE: u64 = 16 << 20;

/// Reads a directives file with a size bound, whatever it is (a device such as `/dev/zero`
/// reports no size, so the bound is on the bytes read, not on the metadata).
fn read_file(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(coded(
            Code::BadInput,
            format!(
                "{}: more than {MAX_FILE} bytes; a directives file that large is surely not one",
                path.display()
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        coded(
            Code::BadInput,
            format!(
                "{}: not UTF-8 text at byte {} (directives files are UTF-8 JSON)",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// `hch directives check`: hch's verdict per JDK, then the real JVM's when one is given.
fn run_check(a: CheckArgs) -> anyhow::Result<Status> {
    let text = read_file(&a.file)?;
    let java = a
        .java
        .clone()
        .or_else(|| std::env::var_os("JAVA_HOME").map(PathBuf::from));
    let jvm = java.map(|j| jvm_verdict(&j, &a.file)).transpose()?;
    // The JVM's own release, with its update (21.0.8 fixed a parser bug); else JDK 17 and 25.
    let features = match (&a.jdk[..], &jvm) {
        ([], Some(v)) if v.feature.is_some() => vec![(v.feature.unwrap_or(17), v.update)],
        ([], _) => vec![(17, None), (25, None)],
        (given, _) => given.iter().map(|&f| (f, None)).collect(),
    };
    let mut rejected = false;
    for (feature, update) in features {
        let r = check(
            &text,
            CheckTarget {
                feature,
                update,
                hot_option: a.hot_jvm,
                dragonwell: false,
            },
        );
        print_report(&a.file, &r);
        rejected |= !r.accepted;
    }
    if let Some(v) = jvm {
        println!("{}", v.describe(&a.file));
        rejected |= !v.accepted;
    } else {
        println!("(no JDK given: --java JAVA_HOME also runs the JVM's own parser)");
    }
    Ok(Status(if rejected { Code::Findings } else { Code::Ok }))
}

/// Prints one of hch's verdicts.
fn print_report(file: &Path, r: &Report) {
    let hot = if r.target.hot_option {
        " with a hot code segment"
    } else {
        ""
    };
    let verdict = if r.accepted { "accepted" } else { "REJECTED" };
    println!(
        "JDK {}{hot} (hch's rules): {verdict}, {} directive(s)",
        r.target.feature, r.directives
    );
    for p in &r.errors {
        println!(
            "  {}:{}:{}: error: {}",
            file.display(),
            p.line,
            p.byte,
            p.message
        );
    }
    for p in &r.warnings {
        println!(
            "  {}:{}:{}: warning: {}",
            file.display(),
            p.line,
            p.byte,
            p.message
        );
    }
}

/// What a real JVM said about the file at start-up.
#[derive(Debug)]
struct JvmVerdict {
    java: PathBuf,
    feature: Option<u32>,
    update: Option<u32>,
    accepted: bool,
    messages: String,
}

impl JvmVerdict {
    fn describe(&self, file: &Path) -> String {
        let feature = self.feature.map_or("?".to_string(), |f| f.to_string());
        let verdict = if self.accepted {
            "accepted"
        } else {
            "REJECTED"
        };
        let mut s = format!("JDK {feature} ({}): {verdict}", self.java.display());
        for l in self.messages.lines().filter(|l| !l.trim().is_empty()) {
            s.push_str(&format!("\n  | {l}"));
        }
        if !self.accepted && self.messages.contains("No such key: 'Hot'") {
            s.push_str(&format!(
                "\n  This JVM has no hot code segment: write the file with `--dialect stock` ({}).",
                file.display()
            ));
        }
        s
    }
}

/// What HotSpot's directives parser prints at start-up, one of which shows it read the file.
const PARSER_ANSWERS: &[&str] = &[
    "compiler directives added",
    "Could not load file",
    "Parsing of compiler directives failed",
    "No directives in file",
];

/// Starts `java -XX:CompilerDirectivesFile=FILE -version`: even JDK 22+, whose diagnostic command
/// hides parse errors, prints them in full at start-up.
fn jvm_verdict(java: &Path, file: &Path) -> anyhow::Result<JvmVerdict> {
    let bin = if java.is_dir() {
        java.join("bin/java")
    } else {
        java.to_path_buf()
    };
    let out = Process::new(&bin)
        .args(["-XX:+UnlockDiagnosticVMOptions", "-Xint"])
        .arg(format!("-XX:CompilerDirectivesFile={}", file.display()))
        .arg("-version")
        .output()
        .map_err(|e| {
            coded(
                Code::Error,
                format!("cannot run {}: {e} (give --java a JDK home)", bin.display()),
            )
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !PARSER_ANSWERS.iter().any(|a| stdout.contains(a)) {
        // The JVM failed before it read the file (no such JVM, missing libraries in a container).
        let why = format!("{}{}", stdout, vm_errors(&stderr));
        return Err(coded(
            Code::Error,
            format!(
                "{} did not get to read the file: {}",
                bin.display(),
                why.trim()
            ),
        ));
    }
    let accepted = out.status.success() && stdout.contains("compiler directives added");
    let messages = if accepted {
        first_line(&stdout)
    } else {
        format!("{stdout}{}", vm_errors(&stderr))
    };
    let version = release_version(&bin).or_else(|| launcher_version(&stderr));
    let version = version.as_deref().unwrap_or("");
    Ok(JvmVerdict {
        java: bin,
        feature: feature_of(version),
        update: update_of(version),
        accepted,
        messages,
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// The launcher's own lines (`Error: Could not create the Java Virtual Machine.`), not the banner.
fn vm_errors(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| l.starts_with("Error") || l.contains("Unrecognized"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The version in the JDK's `release` file (`JAVA_VERSION="17.0.15"`), next to `bin/`.
pub(crate) fn release_version(java: &Path) -> Option<String> {
    let home = std::fs::canonicalize(java)
        .ok()?
        .parent()?
        .parent()?
        .to_path_buf();
    let text = std::fs::read_to_string(home.join("release")).ok()?;
    hch_attach::procfs::release_version(&text)
}

/// The version in `-version`'s first line (`openjdk version "17.0.15" ...`).
fn launcher_version(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|l| l.contains(" version \""))?;
    Some(line.split('"').nth(1)?.to_string())
}
