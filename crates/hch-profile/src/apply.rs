//! Applying directives to a live JVM through the [`Target`] seam.

use hch_target::{Target, TargetError};

/// How the file joins the JVM's directive stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApplyMode {
    /// Push the file's directives on top of the stack (`Compiler.directives_add`).
    Add,
    /// Clear the stack first, then add: the stack holds at most 50 entries, so repeated
    /// profiles should replace rather than pile up (the design's `Compiler.replace_directives`).
    Replace,
}

/// Adds (or replaces with) a directives file on a JVM and returns the JVM's answer, such as
/// `1 compiler directives added`. The file is placed where the JVM can read it and removed
/// afterwards, also on error. Directives only affect compilations that start afterwards.
pub fn apply(t: &mut dyn Target, json: &str, mode: ApplyMode) -> Result<String, TargetError> {
    if mode == ApplyMode::Replace {
        t.jcmd("Compiler.directives_clear")?;
    }
    let path = t.put_file("hch-directives.json", json.as_bytes())?;
    let command = format!("Compiler.directives_add {path}");
    let result = t.jcmd(&command);
    let removed = t.remove_file(&path);
    let output = result?;
    removed?;
    if output.contains("compiler directives added") {
        return Ok(output.trim_end().to_string());
    }
    Err(TargetError::CommandFailed {
        target: t.describe(),
        command,
        output: rejected_hint(&output),
    })
}

/// The JVM's refusal, with what JDK 22+ hides (`Parsing of compiler directives failed` only).
fn rejected_hint(output: &str) -> String {
    format!(
        "{}\n(the JVM refused the file; `hch directives check FILE` shows why, with the JVM's own message)",
        output.trim_end()
    )
}
