//! Applying directives to a live JVM through the [`Target`] seam (the design's "apply").

use hch_target::directives::{self, DirectivesOutcome};
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

/// Adds (or replaces the stack with) a directives file on a JVM. The target crate places the
/// file where the JVM reads it, removes it afterwards and confirms the change from the stack
/// itself. Check the file first ([`crate::check()`]): JDK 22+ does not say why it refused one.
/// Directives only affect compilations that start afterwards.
pub fn apply(
    t: &mut dyn Target,
    json: &str,
    mode: ApplyMode,
) -> Result<DirectivesOutcome, TargetError> {
    match mode {
        ApplyMode::Add => directives::add(t, json),
        ApplyMode::Replace => directives::replace(t, json),
    }
}
