//! JVM log lines about compiled code: `-XX:+PrintCompilation`, `-Xlog:jit+compilation` (the same
//! task lines behind unified-logging decorations) and `-Xlog:codecache`.
//!
//! PrintCompilation (`CompileTask::print_impl`): `<uptime> <id> <flags> <level> <Class::method>[ @ <bci>]
//! (<n> bytes|native)[   <message>]`, flags among `%` (OSR), `s`, `!`, `b`, `n` (native wrapper).
//! Column widths differ between builds, so fields are split on whitespace only. JDK 25 adds the
//! reason to `made not entrant: <reason>`; JDK 17 can also print `made zombie`.
//!
//! A JVM's output mixes these lines with the program's own, so lines that do not look like
//! them are skipped; a line that does but has a bad field is an error with its number.

use serde::Serialize;

use crate::{bad_line, dec, MethodRef, ParseError, Source};

/// What a compilation line reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum CompileEventKind {
    /// A method was compiled (or a native wrapper made).
    Compiled,
    /// `made not entrant`, with the JDK 25 reason.
    MadeNotEntrant {
        /// E.g. `set native function`, `uncommon trap`, `not used`.
        reason: Option<String>,
    },
    /// `made zombie` (JDK 17 sweeper).
    MadeZombie,
    /// Any other message after the size.
    Other {
        /// The message.
        message: String,
    },
}

/// One PrintCompilation / jit+compilation line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompileEvent {
    /// Milliseconds since JVM start, when printed (PrintCompilation column or UL `[1.5s]`).
    pub uptime_ms: Option<u64>,
    /// The compile id.
    pub compile_id: u32,
    /// The flag letters, e.g. `%` or `n`.
    pub flags: String,
    /// Compilation level, when printed.
    pub level: Option<u8>,
    /// The method (no descriptor in this format).
    pub method: MethodRef,
    /// The OSR bytecode index.
    pub osr_bci: Option<u32>,
    /// Bytecode size, `None` for a native wrapper.
    pub bytes: Option<u32>,
    /// What happened.
    pub kind: CompileEventKind,
}

impl CompileEvent {
    /// True for a native wrapper (`n` flag).
    pub fn is_native(&self) -> bool {
        self.flags.contains('n')
    }
}

/// Reads every compilation line of a JVM output; other lines are skipped.
pub fn parse_compilations(text: &str) -> Result<Vec<CompileEvent>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(e) = parse_compilation_line(line, i + 1)? {
            out.push(e);
        }
    }
    Ok(out)
}

/// One line: `Ok(None)` when it is not a compilation line at all.
pub fn parse_compilation_line(line: &str, no: usize) -> Result<Option<CompileEvent>, ParseError> {
    let (decorations, body) = split_decorations(line);
    if !decorations.is_empty() && !decorations.iter().any(|d| d.trim() == "jit,compilation") {
        return Ok(None);
    }
    let Some(open) = size_marker(body) else {
        return Ok(None);
    };
    let (head, tail) = (&body[..open], &body[open..]);
    let mut tokens: Vec<&str> = head.split_ascii_whitespace().collect();
    if !tokens
        .first()
        .is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit()))
    {
        return Ok(None); // e.g. `made not compilable on level 4  A::b (16 bytes)`
    }
    let osr_bci = take_osr(&mut tokens, no)?;
    let Some(method_tok) = tokens.pop().filter(|t| t.contains("::")) else {
        return Ok(None);
    };
    let method = MethodRef::from_colons(method_tok)
        .ok_or_else(|| bad_line(Source::PrintCompilation, no, "`Class::method`", line))?;
    let mut numbers = Vec::new();
    let mut flags = String::new();
    for t in &tokens {
        if t.bytes().all(|b| b.is_ascii_digit()) || *t == "-" {
            numbers.push(*t);
        } else if t.bytes().all(|b| b"%s!bn".contains(&b)) {
            flags.push_str(t);
        } else {
            return Err(bad_line(
                Source::PrintCompilation,
                no,
                "`[uptime] <id> [flags] <level> Class::method`",
                line,
            ));
        }
    }
    let (uptime, id, level) = assign_numbers(&numbers, decorations.is_empty(), line, no)?;
    let (bytes, kind) = size_and_kind(tail, line, no)?;
    let uptime_ms = uptime.or_else(|| decorations.iter().find_map(|d| ul_uptime_ms(d)));
    Ok(Some(CompileEvent {
        uptime_ms,
        compile_id: id,
        flags,
        level,
        method,
        osr_bci,
        bytes,
        kind,
    }))
}

/// Splits leading `[..]` unified-logging decorations from the message.
pub fn split_decorations(line: &str) -> (Vec<&str>, &str) {
    let mut rest = line;
    let mut decorations = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        let Some(end) = r.find(']') else { break };
        decorations.push(&r[..end]);
        rest = &r[end + 1..];
    }
    (decorations, rest)
}

/// `1.234s` or `1234ms` -> milliseconds.
fn ul_uptime_ms(d: &str) -> Option<u64> {
    if let Some(ms) = d.strip_suffix("ms") {
        return ms.parse().ok();
    }
    let secs: f64 = d.strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).round() as u64)
}

/// Where ` (N bytes)` or ` (native)` starts.
fn size_marker(body: &str) -> Option<usize> {
    body.find(" (native)").or_else(|| {
        let close = body.find(" bytes)")?;
        body[..close].rfind(" (")
    })
}

/// Removes a trailing `@ <bci>` from the tokens before the size.
fn take_osr(tokens: &mut Vec<&str>, no: usize) -> Result<Option<u32>, ParseError> {
    if tokens.len() >= 2 && tokens[tokens.len() - 2] == "@" {
        let bci = dec(
            Source::PrintCompilation,
            no,
            "OSR bci",
            tokens[tokens.len() - 1],
        )?;
        tokens.truncate(tokens.len() - 2);
        return Ok(Some(bci));
    }
    Ok(None)
}

/// Decides which numbers are uptime, compile id and level.
fn assign_numbers(
    nums: &[&str],
    may_have_uptime: bool,
    line: &str,
    no: usize,
) -> Result<(Option<u64>, u32, Option<u8>), ParseError> {
    let src = Source::PrintCompilation;
    let level = |t: &str| {
        if t == "-" {
            Ok(None)
        } else {
            dec(src, no, "level", t).map(Some)
        }
    };
    match (nums, may_have_uptime) {
        ([u, id, lv], true) => Ok((
            Some(dec(src, no, "uptime", u)?),
            dec(src, no, "compile id", id)?,
            level(lv)?,
        )),
        ([id, lv], false) => Ok((None, dec(src, no, "compile id", id)?, level(lv)?)),
        ([u, id], true) => Ok((
            Some(dec(src, no, "uptime", u)?),
            dec(src, no, "compile id", id)?,
            None,
        )),
        ([id], false) => Ok((None, dec(src, no, "compile id", id)?, None)),
        _ => Err(bad_line(
            src,
            no,
            "`[uptime] <id> [flags] <level>` before the method",
            line,
        )),
    }
}

/// ` (16 bytes)   made not entrant: reason` -> (Some(16), MadeNotEntrant).
fn size_and_kind(
    tail: &str,
    line: &str,
    no: usize,
) -> Result<(Option<u32>, CompileEventKind), ParseError> {
    let tail = tail.trim_start();
    let (bytes, rest) = if let Some(r) = tail.strip_prefix("(native)") {
        (None, r)
    } else {
        let inner = tail.strip_prefix('(').and_then(|t| t.split_once(" bytes)"));
        let (n, r) =
            inner.ok_or_else(|| bad_line(Source::PrintCompilation, no, "`(N bytes)`", line))?;
        (
            Some(dec(Source::PrintCompilation, no, "bytecode size", n)?),
            r,
        )
    };
    let msg = rest.trim();
    let kind = if let Some(r) = msg.strip_prefix("made not entrant") {
        let reason = r.trim_start_matches(':').trim();
        CompileEventKind::MadeNotEntrant {
            reason: (!reason.is_empty()).then(|| reason.to_string()),
        }
    } else if msg.starts_with("made zombie") {
        CompileEventKind::MadeZombie
    } else if msg.is_empty() || msg == "(static)" {
        CompileEventKind::Compiled
    } else {
        CompileEventKind::Other {
            message: msg.to_string(),
        }
    };
    Ok((bytes, kind))
}

/// A `-Xlog:codecache` (or VM warning) event hch cares about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum CodecacheEvent {
    /// `CodeCache is full` / `CodeHeap '<name>' is full. Compiler has been disabled.`
    Full {
        /// The heap, `None` for the whole (unsegmented) cache.
        heap: Option<String>,
    },
    /// `Flushing nmethod <id>/<addr>, level=<n>, ...` (JDK 20+ GC unloading).
    Flushing {
        /// Compile id.
        compile_id: u32,
        /// nmethod address.
        address: u64,
    },
    /// A code cache pressure or sizing message kept as text.
    Info {
        /// The message.
        message: String,
    },
}

/// Reads the code cache events of a JVM output; other lines are skipped.
pub fn parse_codecache_events(text: &str) -> Result<Vec<CodecacheEvent>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(e) = parse_codecache_line(line, i + 1)? {
            out.push(e);
        }
    }
    Ok(out)
}

/// One line: `Ok(None)` for anything that is not a code cache message.
pub fn parse_codecache_line(line: &str, no: usize) -> Result<Option<CodecacheEvent>, ParseError> {
    let (decorations, body) = split_decorations(line);
    let body = body.trim();
    let warning = body.strip_prefix("OpenJDK 64-Bit Server VM warning: ");
    let tagged = decorations.iter().any(|d| d.trim() == "codecache");
    let msg = match (tagged, warning) {
        (true, _) => body,
        (false, Some(w)) => w,
        _ => return Ok(None),
    };
    if let Some(rest) = msg.strip_suffix(" is full. Compiler has been disabled.") {
        let heap = rest
            .strip_prefix("CodeHeap '")
            .and_then(|r| r.strip_suffix('\''))
            .map(str::to_string);
        return Ok(Some(CodecacheEvent::Full { heap }));
    }
    if let Some(rest) = msg.strip_prefix("Flushing nmethod") {
        let idaddr = rest.trim_start().split(',').next().unwrap_or("");
        let (id, addr) = idaddr.split_once('/').ok_or_else(|| {
            bad_line(
                Source::CodecacheLog,
                no,
                "`Flushing nmethod <id>/<address>`",
                line,
            )
        })?;
        let compile_id = dec(Source::CodecacheLog, no, "compile id", id.trim())?;
        let address = crate::hex(Source::CodecacheLog, no, "nmethod address", addr.trim())?;
        return Ok(Some(CodecacheEvent::Flushing {
            compile_id,
            address,
        }));
    }
    Ok(tagged.then(|| CodecacheEvent::Info {
        message: msg.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_wrapper_made_not_entrant_with_reason() {
        let e = parse_compilation_line("2176  115     n 0       jdk.internal.misc.Unsafe::park (native)   made not entrant: set native function", 1).unwrap().unwrap();
        assert_eq!(
            (e.uptime_ms, e.compile_id, e.level, e.bytes),
            (Some(2176), 115, Some(0), None)
        );
        assert!(e.is_native());
        assert_eq!(e.method.short(), "Unsafe.park");
        assert_eq!(
            e.kind,
            CompileEventKind::MadeNotEntrant {
                reason: Some("set native function".into())
            }
        );
        let z = parse_compilation_line(
            "  56111  152     n 0       jdk.internal.misc.Unsafe::park (native)   made zombie",
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(z.kind, CompileEventKind::MadeZombie);
    }

    #[test]
    fn osr_and_ul_lines() {
        let e = parse_compilation_line(
            "    103  111 %     3       Workload::hotLoop @ 4 (26 bytes)",
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (e.compile_id, e.osr_bci, e.bytes, e.flags.as_str()),
            (111, Some(4), Some(26), "%")
        );
        let u = parse_compilation_line("[0.063s][info][jit,compilation]    1       3       java.lang.Object::<init> (1 bytes)   made not entrant: not used", 1).unwrap().unwrap();
        assert_eq!((u.uptime_ms, u.compile_id, u.level), (Some(63), 1, Some(3)));
        assert_eq!(parse_compilation_line("PHASE2", 1).unwrap(), None);
        let nc =
            "made not compilable on level 4  Workload::mix (16 bytes)   excluded by CompileCommand";
        assert_eq!(parse_compilation_line(nc, 1).unwrap(), None);
        assert_eq!(
            parse_compilation_line("[0.1s][info][gc] x (3 bytes)", 1).unwrap(),
            None
        );
        assert!(parse_compilation_line("12 x 3 A::b (1 bytes)", 7).is_err());
    }

    #[test]
    fn codecache_full_and_flushing() {
        let f = parse_codecache_line(
            "[74.487s][warning][codecache  ] CodeCache is full. Compiler has been disabled.",
            1,
        )
        .unwrap();
        assert_eq!(f, Some(CodecacheEvent::Full { heap: None }));
        let h = parse_codecache_line("OpenJDK 64-Bit Server VM warning: CodeHeap 'profiled nmethods' is full. Compiler has been disabled.", 1).unwrap();
        assert_eq!(
            h,
            Some(CodecacheEvent::Full {
                heap: Some("profiled nmethods".into())
            })
        );
        let fl = parse_codecache_line("[11.121s][debug][codecache] Flushing nmethod     62/0x00007fafabece108, level=4, osr=0", 1).unwrap();
        assert_eq!(
            fl,
            Some(CodecacheEvent::Flushing {
                compile_id: 62,
                address: 0x00007fafabece108
            })
        );
        assert_eq!(parse_codecache_line("[1s][info][gc] x", 1).unwrap(), None);
    }
}
