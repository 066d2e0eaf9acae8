//! Collapsed stacks (`root;frame;leaf count`, as async-profiler's `-o collapsed` and FlameGraph
//! write them), in and out.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use hch_jfr::{Frame, FrameKind, MethodInfo};

use crate::model::{Input, InputFormat, Profile};
use crate::names::{self, NameStyle};
use crate::Error;

/// Longest line accepted: a 2048-frame stack of long names fits well below it.
const MAX_LINE: usize = 16 << 20;

/// Parses collapsed stacks from a reader into `profile`; `source` names the input in errors.
pub fn read(profile: &mut Profile, source: &Path, r: impl BufRead) -> Result<(), Error> {
    let mut samples = 0u64;
    let mut annotated = false;
    let mut r = r;
    let mut buf = String::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        let n = read_line(&mut r, &mut buf, source, line_no + 1)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = buf.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let (frames, count, ann) = parse_line(profile, line).map_err(|what| Error::Collapsed {
            path: source.to_path_buf(),
            line: line_no,
            what,
        })?;
        annotated |= ann;
        profile.push_stack(frames, count, None);
        samples = samples.saturating_add(count);
    }
    profile.add_input(Input {
        source: source.to_path_buf(),
        format: InputFormat::Collapsed,
        samples,
        facts: Default::default(),
        frame_kinds_known: annotated,
    });
    Ok(())
}

/// Reads one line with a length bound, so a file without newlines cannot exhaust memory.
fn read_line(
    r: &mut impl BufRead,
    buf: &mut String,
    source: &Path,
    line: usize,
) -> Result<usize, Error> {
    let mut limited = std::io::Read::take(&mut *r, MAX_LINE as u64 + 1);
    let n = limited.read_line(buf).map_err(|e| Error::Io {
        path: source.to_path_buf(),
        source: e,
    })?;
    if n > MAX_LINE {
        let what = format!("a line of at most {MAX_LINE} bytes");
        return Err(Error::Collapsed {
            path: source.to_path_buf(),
            line,
            what,
        });
    }
    Ok(n)
}

/// One line: frames root first, a space, the count. Returns frames leaf first.
pub(crate) fn parse_line(p: &mut Profile, line: &str) -> Result<(Vec<Frame>, u64, bool), String> {
    let (stack, count) = line
        .rsplit_once(' ')
        .ok_or("`frame;frame;leaf count` (no space before the count)")?;
    let count: u64 = count
        .trim()
        .parse()
        .map_err(|_| format!("a sample count after the last space, got `{count}`"))?;
    if stack.is_empty() {
        return Err("at least one frame before the count".into());
    }
    let mut annotated = false;
    let mut frames = Vec::new();
    for name in stack.split(';').rev() {
        let (frame, ann) = frame(p, name);
        annotated |= ann;
        frames.push(frame);
    }
    Ok((frames, count, annotated))
}

/// One frame by its name, and whether the name carried a frame type (`_[j]` and such).
pub(crate) fn frame(p: &mut Profile, name: &str) -> (Frame, bool) {
    let (m, kind) = parse_frame(name);
    let annotated = kind.is_some() && kind != Some(FrameKind::Kernel);
    let kind = kind.unwrap_or(if m.class.is_empty() {
        FrameKind::Native
    } else {
        FrameKind::Unknown
    });
    let frame = Frame {
        method: p.intern(m),
        line: 0,
        bci: 0,
        kind,
    };
    (frame, annotated)
}

/// A frame name to a method: `pkg/Class.method(desc)` or `pkg.Class.method`; else a native symbol.
pub fn parse_frame(name: &str) -> (MethodInfo, Option<FrameKind>) {
    let (base, kind) = names::strip_suffix(name);
    let (head, descriptor) = match base.find('(') {
        Some(i) => (&base[..i], &base[i..]),
        None => (base, ""),
    };
    let java = kind != Some(FrameKind::Kernel) && !head.contains("::") && !head.contains(' ');
    match head
        .rsplit_once('.')
        .filter(|(c, n)| java && !c.is_empty() && !n.is_empty())
    {
        Some((class, method)) => {
            let class = class.replace('.', "/");
            let hidden = names::looks_hidden(&class);
            let descriptor = descriptor.to_string();
            (
                MethodInfo {
                    class,
                    name: method.to_string(),
                    descriptor,
                    hidden,
                },
                kind,
            )
        }
        None => {
            let m = MethodInfo {
                class: String::new(),
                name: base.to_string(),
                descriptor: String::new(),
                hidden: false,
            };
            (m, kind)
        }
    }
}

/// Writes collapsed stacks, one line per distinct stack in first-seen order (slashed names).
pub fn write(p: &Profile, annotate: bool, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let style = NameStyle {
        dotted: false,
        annotate,
    };
    let mut order: Vec<String> = Vec::new();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for s in &p.stacks {
        let names: Vec<String> = s
            .frames
            .iter()
            .rev()
            .map(|f| names::frame_name(&p.methods[f.method as usize], f.kind, style))
            .collect();
        let key = names.join(";");
        let c = counts.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            0
        });
        *c = c.saturating_add(s.samples);
    }
    for key in order {
        writeln!(out, "{key} {}", counts[&key])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real line quoted in the research report (async-profiler `-a -o collapsed`).
    const AP_LINE: &str = "java/lang/Thread.run_[0];HotWork$$Lambda$1.0x00007fd8200363e0.run_[0];HotWork.lambda$main$0_[j];HotWork.path0_[i];HotWork.path1_[i];HotWork$W88.run_[1] 1";

    #[test]
    fn parses_and_writes_back_an_async_profiler_line() {
        let mut p = Profile::new();
        read(&mut p, Path::new("x"), AP_LINE.as_bytes()).unwrap();
        assert_eq!(p.total_samples, 1);
        assert!(p.inputs[0].frame_kinds_known);
        let leaf = &p.stacks[0].frames[0];
        assert_eq!(leaf.kind, FrameKind::C1Compiled);
        assert_eq!(p.methods[leaf.method as usize].class, "HotWork$W88");
        let lambda = &p.methods[p.stacks[0].frames[4].method as usize];
        assert!(lambda.hidden);
        assert_eq!(lambda.class, "HotWork$$Lambda$1/0x00007fd8200363e0");
        let mut out = Vec::new();
        write(&p, true, &mut out).unwrap();
        let back = String::from_utf8(out).unwrap();
        assert_eq!(back, AP_LINE.replace("$1.0x", "$1/0x") + "\n");
    }

    #[test]
    fn bad_lines_name_their_number() {
        let mut p = Profile::new();
        let err = read(&mut p, Path::new("f"), "a;b 3\n\na;b x\n".as_bytes()).unwrap_err();
        assert!(matches!(err, Error::Collapsed { line: 3, .. }), "{err}");
        let err = read(&mut p, Path::new("f"), "nocount\n".as_bytes()).unwrap_err();
        assert!(matches!(err, Error::Collapsed { line: 1, .. }), "{err}");
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            ";",
            " ",
            ";; 1",
            "a;b 99999999999999999999",
            "a 1 2",
            "_[j] 1",
            "._[i] 1",
            "a.( 1",
            "\u{0} 1",
            "( 1",
        ] {
            let mut p = Profile::new();
            let _ = read(&mut p, Path::new("g"), s.as_bytes());
        }
    }

    #[test]
    fn native_and_kernel_frames() {
        let (m, k) = parse_frame("finish_task_switch.isra.0_[k]");
        assert_eq!(
            (m.class.as_str(), m.name.as_str(), k),
            ("", "finish_task_switch.isra.0", Some(FrameKind::Kernel))
        );
        let (m, _) = parse_frame("JavaThread::run()");
        assert_eq!(m.class, "");
        let (m, _) = parse_frame("java.util.Random.nextInt(I)I");
        assert_eq!(
            (m.class.as_str(), m.name.as_str(), m.descriptor.as_str()),
            ("java/util/Random", "nextInt", "(I)I")
        );
    }
}
