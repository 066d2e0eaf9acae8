//! Exit codes and error printing: the whole chain, what to do, and a broken pipe is success.

use std::process::ExitCode;

/// Documented exit codes (also in README and `hch --help`).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  error (the message says what and what to do)
  2  usage error (bad arguments)
  3  the target JVM could not be reached (no such process, attach refused, network, auth)
  4  the JVM ran the command and reported a failure
  5  bad input file (results printed so far are sound; the error names file, chunk and offset)
  6  verdicts found (`codecache`, `watch`: something is wrong) or directives rejected
     (`check`, or before applying: nothing was changed on the JVM), or a JVM without the
     WhiteBox flags (`compact`)
130  interrupted (Ctrl-C); the target was cleaned up";

/// The documented exit codes ([`EXIT_CODES_HELP`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    /// Success.
    Ok = 0,
    /// An error; the message says what and what to do.
    Error = 1,
    /// Bad arguments.
    Usage = 2,
    /// The target JVM could not be reached.
    Unreachable = 3,
    /// The JVM ran the command and reported a failure.
    JvmFailed = 4,
    /// A bad input file (results printed so far are sound).
    BadInput = 5,
    /// Verdicts found, or directives rejected before anything was changed.
    Findings = 6,
    /// Interrupted (Ctrl-C); the target was cleaned up.
    Interrupted = 130,
}

/// A command's outcome that is not an error but still a non-zero status, e.g. verdicts found.
#[derive(Debug, Clone, Copy)]
pub struct Status(pub Code);

/// An error that knows its own exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Coded {
    /// The exit code.
    pub code: Code,
    /// What to print.
    pub message: String,
}

/// Wraps a message with an exit code.
pub fn coded(code: Code, message: impl Into<String>) -> anyhow::Error {
    Coded {
        code,
        message: message.into(),
    }
    .into()
}

/// The exit code an error maps to, from the first typed cause in its chain.
fn code_of(err: &anyhow::Error) -> Code {
    for cause in err.chain() {
        if let Some(c) = cause.downcast_ref::<Coded>() {
            return c.code;
        }
        if let Some(a) = cause.downcast_ref::<hch_target::apply::ApplyError>() {
            use hch_target::apply::ApplyError as A;
            return match a {
                A::Rejected { .. } | A::NoRoom { .. } => Code::Findings,
                A::Placement(_) => Code::Usage,
                A::RefusedByJvm { .. } | A::AfterClear { .. } => Code::JvmFailed,
                A::Empty { .. } => Code::Ok,
                _ => Code::Unreachable,
            };
        }
        if let Some(t) = cause.downcast_ref::<hch_target::TargetError>() {
            return match t {
                hch_target::TargetError::Io { source, .. }
                    if source.kind() == std::io::ErrorKind::Interrupted =>
                {
                    Code::Interrupted
                }
                hch_target::TargetError::CommandFailed { .. } => Code::JvmFailed,
                _ => Code::Unreachable,
            };
        }
        if cause.downcast_ref::<hch_jfr::Error>().is_some() {
            return Code::BadInput;
        }
        if let Some(e) = cause.downcast_ref::<hch_jit::Error>() {
            return match e {
                hch_jit::Error::Io { .. } => Code::Error,
                _ => Code::BadInput,
            };
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return Code::Ok;
            }
        }
    }
    Code::Error
}

/// Prints the error chain and turns the result into the process exit code.
pub fn finish(result: anyhow::Result<Status>) -> ExitCode {
    match result {
        Ok(Status(code)) => ExitCode::from(code as u8),
        Err(err) => {
            let code = code_of(&err);
            if code != Code::Ok {
                eprintln!("hch: error: {err}");
                for cause in err.chain().skip(1) {
                    eprintln!("  caused by: {cause}");
                }
            }
            ExitCode::from(code as u8)
        }
    }
}
