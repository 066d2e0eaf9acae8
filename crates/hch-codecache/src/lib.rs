//! hch-codecache: parsers for the HotSpot code cache diagnostics (`Compiler.codelist`,
//! `Compiler.codecache`, `Compiler.CodeHeap_Analytics`, `Compiler.perfmap`, PrintCompilation
//! and unified-logging lines), and the analysis that turns them into verdicts.
//!
//! # Design constraints
//! - Text in, values out: no I/O here. The CLI fetches the text through a `Target` and hands it
//!   over, so every parser is tested on real captured outputs of JDK 17 and 25.
//! - Line-oriented and total: a parser never panics and never allocates from a number it read;
//!   an unexpected line is a [`ParseError`] carrying its line number and what was expected.
//! - Formats differ by JDK (state numbers, commas, the summary lines): parsers accept every
//!   known layout and take the JDK feature version where the text alone is ambiguous.

#![deny(missing_docs)]

pub mod analytics;
pub mod codecache;
pub mod codelist;
pub mod log;
pub mod method;
pub mod perfmap;
pub mod report;
pub mod sparse;
pub mod trend;
pub mod watch;

pub use method::MethodRef;

/// Which diagnostic output a parser was reading, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// `jcmd PID Compiler.codelist`.
    Codelist,
    /// `jcmd PID Compiler.codecache` (or the `-XX:+PrintCodeCache` block).
    Codecache,
    /// `jcmd PID Compiler.CodeHeap_Analytics`.
    Analytics,
    /// A `/tmp/perf-PID.map` written by `Compiler.perfmap`.
    Perfmap,
    /// `-XX:+PrintCompilation` or `-Xlog:jit+compilation` lines.
    PrintCompilation,
    /// `-Xlog:codecache` lines.
    CodecacheLog,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Codelist => "Compiler.codelist",
            Source::Codecache => "Compiler.codecache",
            Source::Analytics => "Compiler.CodeHeap_Analytics",
            Source::Perfmap => "perf map",
            Source::PrintCompilation => "PrintCompilation",
            Source::CodecacheLog => "-Xlog:codecache",
        })
    }
}

/// Why a diagnostic output could not be read. Every variant names the line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A line that does not have the expected shape.
    #[error("{output} line {line}: expected {expected}, found `{found}`; is this the output of the right command (and a JDK hch knows: 8 to 27)?")]
    BadLine {
        /// Which output.
        output: Source,
        /// 1-based line number.
        line: usize,
        /// What the parser was looking for.
        expected: &'static str,
        /// The start of the offending line (at most 120 characters).
        found: String,
    },
    /// A number that does not fit or is not a number.
    #[error("{output} line {line}: `{text}` is not a valid {what}")]
    BadNumber {
        /// Which output.
        output: Source,
        /// 1-based line number.
        line: usize,
        /// Which field.
        what: &'static str,
        /// The text found.
        text: String,
    },
    /// An address range whose end lies before its start.
    #[error("{output} line {line}: address range ends at {end:#x} before it starts at {start:#x}")]
    BadRange {
        /// Which output.
        output: Source,
        /// 1-based line number.
        line: usize,
        /// The start address.
        start: u64,
        /// The end address.
        end: u64,
    },
    /// The text holds none of what was expected (e.g. an empty answer).
    #[error(
        "{output}: {what} not found in the text; run the command again or check the JDK version"
    )]
    Missing {
        /// Which output.
        output: Source,
        /// What was missing.
        what: &'static str,
    },
}

/// Shortens a line for an error message without splitting a character.
pub(crate) fn excerpt(line: &str) -> String {
    match line.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}

/// Builds a [`ParseError::BadLine`].
pub(crate) fn bad_line(
    source: Source,
    line: usize,
    expected: &'static str,
    found: &str,
) -> ParseError {
    ParseError::BadLine {
        output: source,
        line,
        expected,
        found: excerpt(found),
    }
}

/// Parses a `0x`-prefixed hex address.
pub(crate) fn hex(
    source: Source,
    line: usize,
    what: &'static str,
    text: &str,
) -> Result<u64, ParseError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u64::from_str_radix(digits, 16).map_err(|_| ParseError::BadNumber {
        output: source,
        line,
        what,
        text: excerpt(text),
    })
}

/// Parses a decimal number of any integer type.
pub(crate) fn dec<T: std::str::FromStr>(
    source: Source,
    line: usize,
    what: &'static str,
    text: &str,
) -> Result<T, ParseError> {
    text.parse().map_err(|_| ParseError::BadNumber {
        output: source,
        line,
        what,
        text: excerpt(text),
    })
}

/// True for the `<pid>:` line that `jcmd` (not the JVM) prints before the answer.
pub(crate) fn is_jcmd_pid_line(line: &str) -> bool {
    line.strip_suffix(':')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}
