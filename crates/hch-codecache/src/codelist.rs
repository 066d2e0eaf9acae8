//! `Compiler.codelist`: one line per live nmethod with its compile id, tier, state, method and
//! address range.
//!
//! Layouts (`codeCache.cpp` `print_codelist`):
//! - JDK 9+: `<id> <level> <state> <holder.name(sig)> [<header>, <code_begin> - <code_end>]`,
//!   with an optional ` jvmci_name=<name>` after the signature on JVMCI builds;
//! - older builds: the same without the state column.
//!
//! The state numbers differ by JDK: on 17, `2` is not entrant (`1` is "not used"); on 25, `1` is
//! not entrant. [`parse_for`] takes the feature version; [`parse`] infers it from the numbers.

use serde::Serialize;

use crate::{bad_line, dec, hex, is_jcmd_pid_line, MethodRef, ParseError, Source};

/// The state of an nmethod, mapped from the JDK-specific number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Executable, the current version.
    InUse,
    /// JDK 17's "not used" (not entrant but revivable).
    NotUsed,
    /// Made not entrant: dead code kept until nothing runs in it any more.
    NotEntrant,
    /// No state column in this layout.
    Unknown,
    /// A number this JDK mapping does not know.
    Other(i8),
}

impl State {
    /// A short lowercase name for tables and metrics labels.
    pub fn label(self) -> &'static str {
        match self {
            State::InUse => "in_use",
            State::NotUsed => "not_used",
            State::NotEntrant => "not_entrant",
            State::Unknown => "unknown",
            State::Other(_) => "other",
        }
    }
}

/// How to read the state column: which JDK family printed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateMapping {
    /// `CompiledMethod` states (JDK 9 to about 22; verified on 17): 0 in use, 1 not used, 2 not entrant.
    Compiled,
    /// `nmethod` states (verified on 25): 0 in use, 1 not entrant.
    Nmethod,
}

impl StateMapping {
    /// The mapping for a JDK feature version. The switch point between 17 and 25 is not
    /// verified on a real JVM; a `2` in the text always selects [`StateMapping::Compiled`].
    pub fn for_feature(feature: u32) -> StateMapping {
        if feature >= 23 {
            StateMapping::Nmethod
        } else {
            StateMapping::Compiled
        }
    }

    /// Maps one raw state number.
    pub fn map(self, raw: i8) -> State {
        match (self, raw) {
            (_, 0) => State::InUse,
            (StateMapping::Compiled, 1) => State::NotUsed,
            (StateMapping::Compiled, 2) | (StateMapping::Nmethod, 1) => State::NotEntrant,
            (_, other) => State::Other(other),
        }
    }
}

/// One line of the codelist: one nmethod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The compile id (unique per nmethod; OSR nmethods are not marked).
    pub compile_id: u32,
    /// 0 = native wrapper or method handle intrinsic, 1 to 3 = C1, 4 = C2.
    pub level: i8,
    /// The raw state number, when the layout has the column.
    pub raw_state: Option<i8>,
    /// The mapped state.
    pub state: State,
    /// The method compiled.
    pub method: MethodRef,
    /// The JVMCI name, when printed (JDK 25 with JVMCI only).
    pub jvmci_name: Option<String>,
    /// Start of the nmethod (its header): the start of its address range.
    pub start: u64,
    /// Start of the instructions.
    pub code_begin: u64,
    /// End of the instructions: the end of the address range `[start, end)`.
    pub end: u64,
}

impl Entry {
    /// Bytes of instructions (`code_end - code_begin`, the size a perf map shows).
    pub fn code_size(&self) -> u64 {
        self.end.saturating_sub(self.code_begin)
    }

    /// Bytes from the header to the end of the instructions.
    pub fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True for a native wrapper (level 0 of a method that is not a method-handle intrinsic).
    pub fn is_native_wrapper(&self) -> bool {
        self.level == 0
            && !self
                .method
                .class
                .starts_with("java/lang/invoke/MethodHandle")
    }
}

/// A parsed `Compiler.codelist`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Codelist {
    /// The nmethods in the order printed (by heap, then by address).
    pub entries: Vec<Entry>,
    /// The state mapping used, `None` for the layout without states.
    pub mapping: Option<StateMapping>,
}

impl Codelist {
    /// Entries sorted by start address (a copy; the list itself keeps the printed order).
    pub fn by_address(&self) -> Vec<&Entry> {
        let mut v: Vec<&Entry> = self.entries.iter().collect();
        v.sort_by_key(|e| e.start);
        v
    }

    /// The entry whose instructions `[code_begin, end)` contain `pc`.
    pub fn find_pc<'a>(&self, sorted: &[&'a Entry], pc: u64) -> Option<&'a Entry> {
        let i = sorted.partition_point(|e| e.start <= pc);
        let e = *sorted.get(i.checked_sub(1)?)?;
        (pc < e.end).then_some(e)
    }
}

/// Parses codelist text and infers the state mapping (a `2` anywhere means JDK 17's; otherwise
/// JDK 25's). Prefer [`parse_for`] when the JDK version is known.
pub fn parse(text: &str) -> Result<Codelist, ParseError> {
    parse_with(text, None)
}

/// Parses codelist text printed by a JDK of the given feature version.
pub fn parse_for(text: &str, feature: u32) -> Result<Codelist, ParseError> {
    parse_with(text, Some(StateMapping::for_feature(feature)))
}

/// Parses with an optional known mapping; states are mapped after all lines are read.
fn parse_with(text: &str, mapping: Option<StateMapping>) -> Result<Codelist, ParseError> {
    // Sized from the text itself (a line is at least ~60 bytes), never from a number in it.
    let mut entries = Vec::with_capacity(text.len() / 64);
    let mut has_state = false;
    let mut saw_two = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || (entries.is_empty() && is_jcmd_pid_line(line.trim_start())) {
            continue;
        }
        let e = parse_line(line, i + 1)?;
        has_state |= e.raw_state.is_some();
        saw_two |= e.raw_state == Some(2);
        entries.push(e);
    }
    let mapping = match (has_state, saw_two, mapping) {
        (false, _, _) => None,
        (true, true, _) => Some(StateMapping::Compiled),
        (true, false, m) => Some(m.unwrap_or(StateMapping::Nmethod)),
    };
    if let Some(m) = mapping {
        for e in &mut entries {
            e.state = e.raw_state.map_or(State::Unknown, |r| m.map(r));
        }
    }
    Ok(Codelist { entries, mapping })
}

const EXPECTED: &str = "`<id> <level> [<state>] <Class.method(sig)> [<start>, <code> - <end>]`";

/// Parses one entry line; the state is left `Unknown` until the mapping is known.
pub fn parse_line(line: &str, no: usize) -> Result<Entry, ParseError> {
    let src = Source::Codelist;
    let open = line
        .rfind(" [")
        .ok_or_else(|| bad_line(src, no, EXPECTED, line))?;
    let (start, code_begin, end) = parse_range(&line[open + 2..], no, line)?;
    let mut fields = line[..open].split_ascii_whitespace();
    let mut next = || {
        fields
            .next()
            .ok_or_else(|| bad_line(src, no, EXPECTED, line))
    };
    let compile_id = dec(src, no, "compile id", next()?)?;
    let level = dec(src, no, "compilation level", next()?)?;
    let third = next()?;
    let (raw_state, method_text) = match third.parse::<i8>() {
        Ok(s) => (Some(s), next()?),
        Err(_) => (None, third),
    };
    let jvmci_name = match fields.next() {
        Some(extra) => Some(
            extra
                .strip_prefix("jvmci_name=")
                .ok_or_else(|| bad_line(src, no, EXPECTED, line))?
                .to_string(),
        ),
        None => None,
    };
    if fields.next().is_some() {
        return Err(bad_line(src, no, EXPECTED, line));
    }
    let method = MethodRef::from_dotted(method_text)
        .ok_or_else(|| bad_line(src, no, "a method `Class.name(sig)`", line))?;
    Ok(Entry {
        compile_id,
        level,
        raw_state,
        state: State::Unknown,
        method,
        jvmci_name,
        start,
        code_begin,
        end,
    })
}

/// Parses `0xA, 0xB - 0xC]` and checks `A <= B <= C`.
fn parse_range(text: &str, no: usize, line: &str) -> Result<(u64, u64, u64), ParseError> {
    let src = Source::Codelist;
    let inner = text
        .strip_suffix(']')
        .ok_or_else(|| bad_line(src, no, "`]` at the end of the line", line))?;
    let (a, rest) = inner
        .split_once(", ")
        .ok_or_else(|| bad_line(src, no, EXPECTED, line))?;
    let (b, c) = rest
        .split_once(" - ")
        .ok_or_else(|| bad_line(src, no, EXPECTED, line))?;
    let (a, b, c) = (
        hex(src, no, "start address", a)?,
        hex(src, no, "code address", b)?,
        hex(src, no, "end address", c)?,
    );
    if b < a || c < b {
        return Err(ParseError::BadRange {
            output: src,
            line: no,
            start: a,
            end: c.min(b),
        });
    }
    Ok((a, b, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_without_state() {
        let c = parse("12:\n5 4 java.lang.Object.<init>()V [0x10, 0x20 - 0x30]\n").unwrap();
        assert_eq!(c.mapping, None);
        assert_eq!(c.entries[0].state, State::Unknown);
        assert_eq!(c.entries[0].code_size(), 0x10);
        assert_eq!(c.entries[0].size(), 0x20);
    }

    #[test]
    fn jvmci_name_and_bad_ranges() {
        let c = parse("7 4 0 A.b()V jvmci_name=x [0x10, 0x20 - 0x30]").unwrap();
        assert_eq!(c.entries[0].jvmci_name.as_deref(), Some("x"));
        assert!(matches!(
            parse("7 4 0 A.b()V [0x40, 0x20 - 0x30]"),
            Err(ParseError::BadRange { line: 1, .. })
        ));
        assert!(matches!(
            parse("7 4 0 A.b()V [0x10, 0x20 - 0xzz]"),
            Err(ParseError::BadNumber { line: 1, .. })
        ));
        assert!(matches!(
            parse("x\n7 4 0 A.b()V"),
            Err(ParseError::BadLine { line: 1, .. })
        ));
        assert!(matches!(
            parse("7 4 0 A.b()V junk [0x10, 0x20 - 0x30]"),
            Err(ParseError::BadLine { .. })
        ));
    }

    #[test]
    fn state_mappings() {
        let text = "1 0 1 A.b()V [0x10, 0x20 - 0x30]";
        assert_eq!(parse(text).unwrap().entries[0].state, State::NotEntrant);
        assert_eq!(
            parse_for(text, 17).unwrap().entries[0].state,
            State::NotUsed
        );
        assert_eq!(
            parse_for(text, 25).unwrap().entries[0].state,
            State::NotEntrant
        );
        let two = "1 0 2 A.b()V [0x10, 0x20 - 0x30]";
        assert_eq!(
            parse_for(two, 25).unwrap().entries[0].state,
            State::NotEntrant
        );
    }
}
