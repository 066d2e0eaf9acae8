//! Deciding what to do with a new hot set (pure: tested on captured texts).
//!
//! - The change is judged by overlap weighted by samples: the share of the new hot set's samples
//!   that fall on methods the directives in force already match. Noise in the tail of a
//!   uniform profile moves it little; a workload whose hot methods changed moves it a lot.
//! - The agent removes only its own directive, and HotSpot only removes the top of its stack
//!   (`Compiler.directives_remove`). The agent knows its entry by the block
//!   `Compiler.directives_print` showed on top right after adding it ([`fingerprint`]).

use std::collections::HashSet;

/// Where the agent's own directive is on the JVM's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// On top: it can be removed (and replaced).
    OnTop,
    /// Below another directive: someone added theirs since; it cannot be removed.
    Buried,
    /// Not on the stack any more (someone cleared the stack).
    Gone,
}

/// Percent of the new hot set's samples on methods that `applied` already matches.
pub fn overlap(applied: &HashSet<String>, new: &[(String, u64)]) -> f64 {
    let total: u64 = new.iter().map(|(_, s)| s).sum();
    if total == 0 {
        return 100.0;
    }
    let kept: u64 = new
        .iter()
        .filter(|(p, _)| applied.contains(p))
        .map(|(_, s)| s)
        .sum();
    100.0 * kept as f64 / total as f64
}

/// The directive blocks of a `Compiler.directives_print` text, top first, without the
/// built-in default; each block trimmed.
pub fn blocks(print: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in print.lines() {
        if line.starts_with("Directive:") {
            if let Some(b) = current.take() {
                out.push(b.trim().to_string());
            }
            if line.contains("(default)") {
                break;
            }
            current = Some(String::new());
        }
        if let Some(b) = current.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    if let Some(b) = current {
        out.push(b.trim().to_string());
    }
    out
}

/// The agent's fingerprint of the directive it just added: the top block.
pub fn fingerprint(print_after_add: &str) -> Option<String> {
    blocks(print_after_add).into_iter().next()
}

/// Where a fingerprinted directive is on the stack.
pub fn place(print: &str, fingerprint: &str) -> Place {
    let b = blocks(print);
    match b.iter().position(|x| x == fingerprint) {
        Some(0) => Place::OnTop,
        Some(_) => Place::Buried,
        None => Place::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINT: &str = "\nDirective:\n matching: HotLoop$W1.run(J)J, HotLoop$W2.run(J)J\n c1 directives:\n  inline: -\n\n c2 directives:\n  inline: -\n\n\nDirective:\n matching: java/util/HashMap.*\n c1 directives:\n  inline: -\n\nDirective: (default)\n matching: *.*\n c1 directives:\n  inline: -\n";

    #[test]
    fn blocks_and_places() {
        let b = blocks(PRINT);
        assert_eq!(b.len(), 2);
        assert!(b[0].starts_with("Directive:\n matching: HotLoop$W1.run(J)J"));
        assert!(b[0].ends_with("inline: -"));
        let mine = fingerprint(PRINT).unwrap();
        assert_eq!(place(PRINT, &mine), Place::OnTop);
        let other = format!("\nDirective:\n matching: a/B.c\n{PRINT}");
        assert_eq!(place(&other, &mine), Place::Buried);
        assert_eq!(
            place("\nDirective: (default)\n matching: *.*\n", &mine),
            Place::Gone
        );
        assert!(blocks("\nDirective: (default)\n matching: *.*\n").is_empty());
    }

    #[test]
    fn overlap_is_weighted_by_samples() {
        let applied: HashSet<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let new = vec![("a".to_string(), 90), ("c".to_string(), 10)];
        assert_eq!(overlap(&applied, &new), 90.0);
        assert_eq!(overlap(&applied, &[]), 100.0);
        assert_eq!(overlap(&HashSet::new(), &new), 0.0);
    }
}
