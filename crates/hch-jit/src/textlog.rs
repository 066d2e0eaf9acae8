//! Text logs, line by line: `-XX:+PrintCompilation` (mixed with the program's own output) and
//! unified logging: `-Xlog:jit+compilation` (JDK 17 at debug, 25 at info), `-Xlog:jit*`,
//! `-Xlog:deoptimization=debug` (JDK 21+: one line per trap), `-Xlog:codecache` and the
//! `redefine` tags. Compile and code cache lines are read by hch-codecache's parsers; a line
//! is never longer in memory than the window (64 KiB), longer ones are skipped.
//!
//! A JVM writes a compile line when the compile starts, so logs give start times and tiers,
//! not durations or code sizes.

use std::io::Read;
use std::path::Path;

use hch_codecache::log::{
    parse_codecache_line, parse_compilation_line, split_decorations, CodecacheEvent,
    CompileEventKind,
};

use crate::build::Builder;
use crate::model::{
    CacheEvent, CacheEventKind, Compiler, Deopt, End, EndKind, Format, Marker, MarkerKind, Ms,
};
use crate::stream::{Line, Stream};
use crate::Error;

/// The longest line looked at.
pub(crate) const MAX_LINE: usize = 64 << 10;

/// What reading found besides the events.
#[derive(Debug, Default)]
struct Outcome {
    /// Compile and trap lines with unified-logging decorations, and without.
    decorated: u64,
    plain: u64,
    /// Lines that were read as something.
    recognised: u64,
    /// The first malformed record and how many followed.
    bad: Option<(u64, u64, String)>,
    bad_more: u64,
    /// Where the input was cut mid-line.
    cut: Option<(u64, u64)>,
}

/// Reads a text log into `b`. `Err` when nothing in it was recognised; otherwise the error, if
/// any, says what was skipped or cut.
pub(crate) fn read<R: Read>(
    s: &mut Stream<R>,
    b: &mut Builder,
    path: &Path,
) -> Result<Option<Error>, Error> {
    let mut o = Outcome::default();
    s.for_each_line(|line| {
        if !line.terminated {
            // The last line of a cut log: reading it would take a partial line for a whole one.
            if !line.bytes.iter().all(u8::is_ascii_whitespace) {
                o.cut = Some((line.no, line.offset + line.bytes.len() as u64));
            }
            return true;
        }
        on_line(b, &line, &mut o);
        true
    })
    .map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = s.offset(s.end - s.start);
    b.source.bytes = bytes;
    if o.recognised == 0 {
        return Err(Error::Unrecognised {
            path: path.to_path_buf(),
            bytes,
        });
    }
    b.source.format = Some(if o.decorated >= o.plain {
        Format::Xlog
    } else {
        Format::PrintCompilation
    });
    b.source.complete = o.cut.is_none();
    if let Some((line, offset)) = o.cut {
        return Ok(Some(Error::Truncated {
            path: path.to_path_buf(),
            line,
            offset,
            inside: " in the middle of a line".into(),
        }));
    }
    Ok(o.bad.map(|(line, offset, message)| Error::BadRecord {
        path: path.to_path_buf(),
        line,
        offset,
        message,
        more: o.bad_more,
    }))
}

fn on_line(b: &mut Builder, line: &Line<'_>, o: &mut Outcome) {
    let text = String::from_utf8_lossy(line.bytes);
    let (decorations, body) = split_decorations(&text);
    let (at, tags) = if decorations.is_empty() {
        (None, "")
    } else {
        let at = decorations.iter().find_map(|d| uptime_ms(d.trim()));
        (at, decorations.last().map_or("", |t| t.trim()))
    };
    let result = match tags {
        "" | "jit,compilation" => compile_line(b, &text, at),
        "deoptimization" => Ok(deopt_line(b, body.trim(), at)),
        t if t.starts_with("codecache") => codecache_line(b, &text, at),
        t if t.contains("redefine") => Ok(redefine_line(b, body.trim(), at)),
        _ => Ok(false),
    };
    match result {
        Ok(true) => {
            o.recognised += 1;
            if decorations.is_empty() {
                o.plain += 1;
            } else {
                o.decorated += 1;
            }
        }
        Ok(false) => {
            if decorations.is_empty() {
                // VM warnings (a full code cache) come without decorations.
                if let Ok(true) = codecache_line(b, &text, at) {
                    o.recognised += 1;
                }
            }
        }
        Err(message) => {
            if o.bad.is_none() {
                o.bad = Some((line.no, line.offset, message));
            } else {
                o.bad_more += 1;
            }
        }
    }
}

/// `1.234s`, `1234ms` or `1234000000ns` (the uptime decorations) -> milliseconds.
fn uptime_ms(d: &str) -> Option<Ms> {
    let (num, scale) = if let Some(n) = d.strip_suffix("ns") {
        (n, 1e-6)
    } else if let Some(n) = d.strip_suffix("ms") {
        (n, 1.0)
    } else {
        (d.strip_suffix('s')?, 1000.0)
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * scale)
}

/// A PrintCompilation or `jit,compilation` line.
fn compile_line(b: &mut Builder, text: &str, at: Option<Ms>) -> Result<bool, String> {
    let Some(e) = parse_compilation_line(text, 0).map_err(|e| strip_line_no(&e.to_string()))?
    else {
        return Ok(false);
    };
    let at = e.uptime_ms.map(|u| u as Ms).or(at);
    let name = e.method.dotted();
    let m = b.method(&name);
    let id = u64::from(e.compile_id);
    let fill = |v: &mut crate::model::Version| {
        v.level = e.level.or(v.level);
        v.osr = e.flags.contains('%');
        v.osr_bci = e.osr_bci;
        v.bytecode_size = e.bytes.map(u64::from);
        v.compiler = e.level.map(Compiler::of_level);
    };
    match &e.kind {
        CompileEventKind::Compiled => {
            let v = b.compile(id, m);
            fill(v);
            v.start_ms = at;
        }
        CompileEventKind::MadeNotEntrant { reason } => {
            if b.known(id).is_none() {
                fill(b.compile(id, m)); // compiled before the log starts
            }
            let reason = match reason {
                Some(r) => format!("made not entrant: {r}"),
                None => "made not entrant".into(),
            };
            b.ended(
                id,
                End {
                    at_ms: at,
                    kind: EndKind::Other,
                    reason,
                    replaced_by: None,
                    observed: true,
                },
            );
        }
        CompileEventKind::Other { message } if message.starts_with("COMPILE SKIPPED") => {
            let v = b.compile(id, m);
            fill(v);
            v.start_ms = v.start_ms.or(at);
            let why = message.trim_start_matches("COMPILE SKIPPED:").trim();
            v.failure = Some(why.to_string());
        }
        _ => {}
    }
    Ok(true)
}

/// hch-codecache numbers lines itself; the stream knows the real number.
fn strip_line_no(msg: &str) -> String {
    msg.split_once(" line 0: ")
        .map_or(msg.to_string(), |(_, r)| r.to_string())
}

/// `cid= 138 [osr] level=4 pkg.Class.m(desc) trap_bci=17 [osr_bci=4] unstable_if reinterpret pc=... relative_pc=...`
fn deopt_line(b: &mut Builder, body: &str, at: Option<Ms>) -> bool {
    let Some(rest) = body.strip_prefix("cid=") else {
        return false;
    };
    let mut words = rest.split_ascii_whitespace();
    let Some(cid) = words.next().and_then(|w| w.parse::<u64>().ok()) else {
        return false;
    };
    let (mut level, mut method, mut bci, mut plain) = (None, None, None, Vec::new());
    for w in words {
        if let Some(l) = w.strip_prefix("level=") {
            level = l.parse().ok();
        } else if let Some(n) = w.strip_prefix("trap_bci=") {
            bci = n.parse().ok();
        } else if w.contains('(') && method.is_none() {
            method = Some(w);
        } else if !w.contains('=') && w != "osr" {
            plain.push(w);
        }
    }
    let (Some(method), [reason, action, ..]) = (method, plain.as_slice()) else {
        return false;
    };
    let m = b.method(method);
    b.traps_known = true;
    b.deopt(
        Some(m),
        Deopt {
            at_ms: at.unwrap_or(0.0),
            compile_id: Some(cid),
            level,
            reason: reason.to_string(),
            action: Some(action.to_string()),
            bci,
            line: None,
            instruction: None,
            inlined: None,
            frame: false,
        },
    );
    true
}

/// A full code cache (tagged `codecache` or a VM warning) and compilation disabled.
fn codecache_line(b: &mut Builder, text: &str, at: Option<Ms>) -> Result<bool, String> {
    match parse_codecache_line(text, 0).map_err(|e| strip_line_no(&e.to_string()))? {
        Some(CodecacheEvent::Full { heap }) => {
            for kind in [CacheEventKind::Full, CacheEventKind::Disabled] {
                b.cache_events.push(CacheEvent {
                    at_ms: at,
                    kind,
                    heap: heap.clone(),
                    detail: None,
                });
            }
            Ok(true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// `Marked all nmethods for deopt` (a redefinition in a JVM that did not record evol
/// dependencies: JDK 22 and older when JFR or an agent started late).
fn redefine_line(b: &mut Builder, body: &str, at: Option<Ms>) -> bool {
    if !body.contains("nmethods for deopt") {
        return false;
    }
    b.markers.push(Marker {
        at_ms: at.unwrap_or(0.0),
        kind: MarkerKind::MarkedForDeopt,
        detail: body.to_string(),
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str) -> (crate::model::Timeline, Option<Error>) {
        let mut b = Builder::default();
        let mut s = Stream::new(text.as_bytes(), MAX_LINE);
        let e = read(&mut s, &mut b, Path::new("t.log")).unwrap();
        (b.finish(), e)
    }

    #[test]
    fn ul_lines_of_both_jdks() {
        let log = "\
[8.777s][info ][jit,compilation] 1448       3       Deopt::chorus (29 bytes)
[8.789s][info ][jit,compilation] 1450 %     4       Deopt::chorus @ 5 (29 bytes)
[8.860s][info ][jit,compilation] 1455       4       Deopt::chorus (29 bytes)
[8.908s][info ][jit,compilation] 1448       3       Deopt::chorus (29 bytes)   made not entrant: not used
[13.239s][info ][jit,compilation] 1455       4       Deopt::chorus (29 bytes)   made not entrant: marked for deoptimization
[9.094s][debug][deoptimization] cid= 1450 osr level=4 Deopt.chorus(LDeopt$Animal;I)J trap_bci=3 osr_bci=4 unstable_if reinterpret pc=0x00007fc977ed1764 relative_pc=0x00000000000001e4
";
        let (t, e) = read_str(log);
        assert!(e.is_none(), "{e:?}");
        assert_eq!(t.source.format, Some(Format::Xlog));
        assert_eq!(t.methods.len(), 1, "{:?}", t.methods);
        let m = &t.methods[0];
        assert_eq!(m.versions.len(), 3);
        let ends: Vec<_> = m
            .versions
            .iter()
            .map(|v| v.end.as_ref().map(|e| e.kind))
            .collect();
        let (tier_up, trap, dep) = (EndKind::TierUp, EndKind::Trap, EndKind::Dependency);
        assert_eq!(ends, [Some(tier_up), Some(trap), Some(dep)]);
        let d = &m.deopts[0];
        assert_eq!(
            (d.reason.as_str(), d.bci, d.at_ms),
            ("unstable_if", Some(3), 9094.0)
        );
        assert_eq!(d.inlined, None);
    }

    #[test]
    fn print_compilation_with_program_output_and_a_cut() {
        let log = "READY 1234\n     43    1       3       java.lang.Object::<init> (1 bytes)\nPHASE x\n     53    1       3       java.lang.Object::<init> (1 bytes)   made not entrant\n     60    2 ";
        let (t, e) = read_str(log);
        assert_eq!(t.source.format, Some(Format::PrintCompilation));
        assert_eq!(t.methods[0].versions[0].start_ms, Some(43.0));
        assert!(matches!(e, Some(Error::Truncated { line: 5, .. })), "{e:?}");
        let mut b = Builder::default();
        let mut s = Stream::new(&b"hello\n"[..], MAX_LINE);
        assert!(matches!(
            read(&mut s, &mut b, Path::new("x")),
            Err(Error::Unrecognised { .. })
        ));
    }
}
