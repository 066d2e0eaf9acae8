//! Helpers for the tests on captured outputs.
#![allow(dead_code)]

use std::path::PathBuf;

/// Reads `tests/data/<name>`.
pub fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The captures start with `$ jcmd <pid> Cmd` and end with `[exit=N]` (added by the capture
/// script); what is between is exactly what `jcmd` printed, `<pid>:` line included.
pub fn jcmd_body(text: &str) -> &str {
    let start = if text.starts_with("$ ") {
        text.find('\n').map_or(text.len(), |i| i + 1)
    } else {
        0
    };
    let end = text.rfind("[exit=").unwrap_or(text.len());
    &text[start..end.max(start)]
}
