//! Compiler Control directives on a running JVM: add (see [`crate::apply`] for the checked
//! add and replace), remove, clear and print, each confirmed twice, from the command's answer and from the directive stack itself
//! (`Compiler.directives_print`): JDK 22+ answers a failed parse in two terse lines, and a bad
//! `inline` pattern is dropped while the directive is still reported as added.
//!
//! The file goes into the JVM's `/tmp` (the JVM opens it itself, in its own mount namespace)
//! and is removed afterwards. Validating the file before it is sent is the profile crate's job.

use serde::Serialize;

use crate::info::DIRECTIVES_AFFECT_FUTURE_ONLY;
use crate::{Target, TargetError};

/// What a change to the directive stack did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectivesOutcome {
    /// The JVM's answer to the change, as it printed it.
    pub response: String,
    /// Directives the JVM reported as added (0 for remove and clear).
    pub count_added: usize,
    /// Directives on the stack before (not counting the built-in default).
    pub stack_before: usize,
    /// Directives on the stack after.
    pub stack_after: usize,
    /// What this means for the running code, in words.
    pub note: String,
}

/// Removes the top directive (one directive, not one file: a file that added three needs
/// three removes).
pub fn remove(t: &mut dyn Target) -> Result<DirectivesOutcome, TargetError> {
    change(t, "Compiler.directives_remove")
}

/// Removes every directive but the built-in default.
pub fn clear(t: &mut dyn Target) -> Result<DirectivesOutcome, TargetError> {
    change(t, "Compiler.directives_clear")
}

/// The JVM's directive stack as it prints it.
pub fn print(t: &mut dyn Target) -> Result<String, TargetError> {
    t.jcmd("Compiler.directives_print")
}

/// How many directives a `Compiler.directives_print` text shows, not counting the default.
pub fn count_in_print(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("Directive:") && !l.contains("(default)"))
        .count()
}

/// The number in `N compiler directives added`, if the answer has that line.
pub fn count_in_response(response: &str) -> Option<usize> {
    response.lines().find_map(|l| {
        l.trim()
            .strip_suffix(" compiler directives added")?
            .parse()
            .ok()
    })
}

fn stack_size(t: &mut dyn Target) -> Result<usize, TargetError> {
    Ok(count_in_print(&print(t)?))
}

/// Places the file, adds it, removes the file, and checks the stack grew by what was reported.
/// A target that takes the text in one step (the hch agent over JMX) gets the text instead.
pub(crate) fn add_on(
    t: &mut dyn Target,
    json_text: &str,
    stack_before: usize,
) -> Result<DirectivesOutcome, TargetError> {
    if t.takes_directives_text() {
        let answer = t.add_directives_text(json_text)?;
        return confirm_add(t, "(the text, through the hch agent)", answer, stack_before);
    }
    let path = t.put_file("directives.json", json_text.as_bytes())?;
    let answer = t.jcmd(&format!("Compiler.directives_add {path}"));
    let _ = t.remove_file(&path);
    confirm_add(t, &path, answer?, stack_before)
}

/// Adds a file that lies at `path` on the JVM's host already (a remote JVM's).
pub(crate) fn add_path(
    t: &mut dyn Target,
    path: &str,
    stack_before: usize,
) -> Result<DirectivesOutcome, TargetError> {
    let answer = t.jcmd(&format!("Compiler.directives_add {path}"))?;
    confirm_add(t, path, answer, stack_before)
}

/// Checks the stack grew by what the JVM reported added.
fn confirm_add(
    t: &mut dyn Target,
    path: &str,
    response: String,
    stack_before: usize,
) -> Result<DirectivesOutcome, TargetError> {
    let command = format!("Compiler.directives_add {path}");
    let stack_after = stack_size(t)?;
    let failed = |why: &str| TargetError::CommandFailed {
        target: t.describe(),
        command: command.clone(),
        output: format!("{}\n({why})", response.trim_end()),
    };
    let Some(count_added) = count_in_response(&response) else {
        return Err(failed("the JVM added nothing; JDK 22 and later do not say why: check the file with `hch directives check`"));
    };
    if stack_after != stack_before + count_added {
        let why = format!("the JVM reported {count_added} added, but its stack went from {stack_before} to {stack_after}");
        return Err(failed(&why));
    }
    let note = DIRECTIVES_AFFECT_FUTURE_ONLY.to_string();
    Ok(DirectivesOutcome {
        response,
        count_added,
        stack_before,
        stack_after,
        note,
    })
}

/// Runs a command that shrinks the stack and reports the sizes around it.
fn change(t: &mut dyn Target, command: &str) -> Result<DirectivesOutcome, TargetError> {
    let stack_before = stack_size(t)?;
    let response = t.jcmd(command)?;
    let stack_after = stack_size(t)?;
    let note = format!(
        "{DIRECTIVES_AFFECT_FUTURE_ONLY} Code compiled under the removed directives keeps running as compiled; \
         methods a removed `Exclude` made not compilable stay so."
    );
    Ok(DirectivesOutcome {
        response,
        count_added: 0,
        stack_before,
        stack_after,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_captured_texts() {
        // research outputs/jdk17/directives_03_print_after_add.txt, shortened.
        let print = "\nDirective:\n matching: Workload.mix(JJ)J, Workload.hotLoop\n c1 directives:\n  inline: -\n\nDirective:\n matching: java/util/HashMap.*\n\nDirective: (default)\n matching: *.*\n";
        assert_eq!(count_in_print(print), 2);
        assert_eq!(
            count_in_print("\nDirective: (default)\n matching: *.*\n"),
            0
        );
        assert_eq!(count_in_response("2 compiler directives added\n"), Some(2));
        assert_eq!(
            count_in_response("Key error on line 4\n  At 'x'.\n1 compiler directives added\n"),
            Some(1)
        );
        assert_eq!(
            count_in_response(
                "Parsing of compiler directives failed\nCould not load file: /tmp/x\n"
            ),
            None
        );
    }
}
