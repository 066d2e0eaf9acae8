//! `hch jcmd`: a diagnostic command in a JVM, printed as `jcmd PID COMMAND` prints it, with no
//! JDK on this side.

use std::io::Write;

use hch_target::{LocalTarget, OpenOptions, TargetError};

use crate::exit::{Code, Status};
use crate::target_args::TargetArgs;

/// Examples shown by `hch jcmd --help`.
pub const EXAMPLES: &str = "\
Examples:
  hch jcmd 12345 VM.version                 the JVM's version
  hch jcmd 12345 Compiler.codecache         the code cache layout
  hch jcmd 12345 help                       the commands this JVM offers
  hch jcmd 12345 JFR.check verbose=true     arguments follow the command, as with jcmd

Output is what jcmd prints: a `PID:` line, then the JVM's text. When the JVM reports a failure
(a non-zero status, or on JDK 25 an exception with status 0), its text goes to stderr and the
exit status is 4. Answers in plain words such as \"Could not stop recording\" are printed as
they come, with status 0, as jcmd does.";

/// Arguments of `hch jcmd`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The diagnostic command and its arguments, e.g. `Compiler.codecache` or `help -all`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

/// Parses a plain `hch jcmd ...` call with only this command's arguments: scripts call it in
/// loops, and building clap's whole command tree took a third of a call's time. `None` when
/// the call is not that (another command, help asked, a mistake): the full parser takes it.
pub fn quick_args() -> Option<Args> {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1)? != "jcmd" || argv[2..].iter().any(|a| a == "-h" || a == "--help") {
        return None;
    }
    let cmd = <Args as clap::Args>::augment_args(clap::Command::new("jcmd"));
    let matches = cmd.try_get_matches_from(&argv[1..]).ok()?;
    <Args as clap::FromArgMatches>::from_arg_matches(&matches).ok()
}

/// The JVM's answer: its output, or the text of a failure it reported.
type Answer = Result<Vec<u8>, String>;

/// Runs `hch jcmd`.
pub fn run(args: Args) -> anyhow::Result<Status> {
    let line = args.command.join(" ");
    let opts = args.target.options()?;
    let spec = &args.target.target;
    let answer = match spec.parse::<u32>() {
        Ok(pid) => local(pid, &line, &opts)?,
        Err(_) => remote(spec, &line, &opts)?,
    };
    print_answer(spec, answer)
}

/// Asks a local JVM; its reply is kept byte for byte.
fn local(pid: u32, line: &str, opts: &OpenOptions) -> Result<Answer, TargetError> {
    let mut target = LocalTarget::open(pid, &opts.attach)?;
    let reply = target
        .vm()
        .jcmd(line)
        .map_err(|source| TargetError::Attach {
            target: format!("pid {pid}"),
            source,
        })?;
    Ok(if reply.failed() {
        Err(reply.text().into_owned())
    } else {
        Ok(reply.output)
    })
}

/// Asks a JVM through any other kind of target.
fn remote(spec: &str, line: &str, opts: &OpenOptions) -> Result<Answer, TargetError> {
    match hch_target::open(spec, opts)?.jcmd(line) {
        Ok(text) => Ok(Ok(text.into_bytes())),
        Err(TargetError::CommandFailed { output, .. }) => Ok(Err(output)),
        Err(e) => Err(e),
    }
}

/// Prints `<target>:` and the output, or the JVM's complaint on stderr with status 4.
fn print_answer(target: &str, answer: Answer) -> anyhow::Result<Status> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{target}:")?;
    let status = match answer {
        Ok(output) => {
            out.write_all(&output)?;
            Status(Code::Ok)
        }
        Err(complaint) => {
            out.flush()?;
            eprintln!("{}", complaint.trim_end());
            Status(Code::JvmFailed)
        }
    };
    out.flush()?;
    Ok(status)
}
