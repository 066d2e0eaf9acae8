//! The perf map `Compiler.perfmap` writes (`/tmp/perf-<pid>.map`): one
//! `<code_begin> <size> <symbol>` line per code blob, addresses and sizes in hex.

use serde::Serialize;

use crate::{bad_line, hex, ParseError, Source};

/// One line of a perf map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PerfEntry {
    /// Start of the instructions.
    pub start: u64,
    /// Bytes of instructions.
    pub size: u64,
    /// The symbol as written, e.g. `long Workload.mix(long, long)` or a stub name.
    pub symbol: String,
}

/// Parses a whole perf map; blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<PerfEntry>, ParseError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_line(l, i + 1))
        .collect()
}

/// Parses one `0x.. 0x.. symbol` line.
pub fn parse_line(line: &str, no: usize) -> Result<PerfEntry, ParseError> {
    const EXPECTED: &str = "`<start hex> <size hex> <symbol>`";
    let mut parts = line.splitn(3, ' ');
    let (Some(a), Some(b), Some(sym)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad_line(Source::Perfmap, no, EXPECTED, line));
    };
    let start = hex(Source::Perfmap, no, "start address", a)?;
    let size = hex(Source::Perfmap, no, "size", b)?;
    if start.checked_add(size).is_none() {
        return Err(ParseError::BadRange {
            output: Source::Perfmap,
            line: no,
            start,
            end: size,
        });
    }
    Ok(PerfEntry {
        start,
        size,
        symbol: sym.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_errors() {
        let v = parse("0x10 0x20 int A.b()\n\n0x30 0x1 stub x y\n").unwrap();
        assert_eq!(
            v[1],
            PerfEntry {
                start: 0x30,
                size: 1,
                symbol: "stub x y".into()
            }
        );
        assert!(matches!(
            parse("0x10 0x20 a\n0x10"),
            Err(ParseError::BadLine { line: 2, .. })
        ));
        assert!(matches!(
            parse("0xffffffffffffffff 0x2 a"),
            Err(ParseError::BadRange { line: 1, .. })
        ));
    }
}
