//! The readers on captured logs of real JVMs (`tests/data/`: heads of a JDK 17 and a JDK 25
//! `-Xlog:jit*` log, and a small JDK 25 LogCompilation file made of the first 60 compiles of a
//! real one), and on damaged copies of them: interleaved lines, random mutations, huge lines
//! and tags. Nothing panics, and what is sound is kept.

use std::collections::HashSet;
use std::path::Path;

use hch_jit::{read_bytes, Error, Format};
use hch_testkit::Rng;

const XML: &[u8] = include_bytes!("data/logcompilation-jdk25-small.xml");
const XLOG17: &[u8] = include_bytes!("data/xlog-jdk17-head.log");
const XLOG25: &[u8] = include_bytes!("data/xlog-jdk25-head.log");

fn versions(r: &hch_jit::Read) -> usize {
    r.timeline.methods.iter().map(|m| m.versions.len()).sum()
}

/// Distinct compile ids of the `jit,compilation` lines.
fn line_ids(text: &[u8]) -> usize {
    let text = String::from_utf8_lossy(text);
    let ids: HashSet<&str> = text
        .lines()
        .filter(|l| l.contains("[jit,compilation"))
        .filter_map(|l| l.rsplit(']').next()?.split_whitespace().next())
        .collect();
    ids.len()
}

/// Distinct compile ids of the task and nmethod tags.
fn xml_ids(text: &[u8]) -> usize {
    let text = String::from_utf8_lossy(text);
    let ids: HashSet<&str> = text
        .lines()
        .filter(|l| {
            ["<task_queued ", "<nmethod ", "<task "]
                .iter()
                .any(|t| l.starts_with(t))
        })
        .filter_map(|l| l.split("compile_id='").nth(1)?.split('\'').next())
        .collect();
    ids.len()
}

#[test]
fn captured_logs_parse_whole() {
    let x = read_bytes(XML, Path::new("x.xml")).unwrap();
    assert!(x.error.is_none(), "{:?}", x.error);
    assert_eq!(x.timeline.source.format, Some(Format::LogCompilation));
    assert_eq!(x.timeline.source.jdk.as_deref(), Some("25.0.3+9-LTS"));
    assert_eq!(versions(&x), xml_ids(XML));
    let timed = x.timeline.methods.iter().flat_map(|m| &m.versions);
    assert_eq!(timed.clone().filter(|v| v.queued_ms.is_some()).count(), 60);
    assert!(timed.filter(|v| v.duration_ms.is_some()).count() > 40);
    for (name, log) in [("17", XLOG17), ("25", XLOG25)] {
        let r = read_bytes(log, Path::new(name)).unwrap();
        assert!(r.error.is_none(), "{name}: {:?}", r.error);
        assert_eq!(r.timeline.source.format, Some(Format::Xlog));
        assert_eq!(versions(&r), line_ids(log), "JDK {name}");
    }
}

#[test]
fn interleaved_lines_are_skipped_and_reported() {
    let mut log = XLOG25.to_vec();
    // Another thread's line written into the middle of one, as unsynchronized output does.
    let spliced = b"[0.100s][info][jit,compilation]   977 %     3       java.lang.Str[0.101s][info][jit,compilation]   978       3       A::b (3 bytes)\n";
    log.extend_from_slice(spliced);
    log.extend_from_slice(b"[0.102s][info][jit,compilation]   979       3       A::c (4 bytes)\n");
    let r = read_bytes(&log, Path::new("mixed.log")).unwrap();
    let Some(Error::BadRecord { line, .. }) = &r.error else {
        panic!("{:?}", r.error)
    };
    assert_eq!(
        *line as usize,
        XLOG25.iter().filter(|&&b| b == b'\n').count() + 1
    );
    assert_eq!(
        versions(&r),
        line_ids(XLOG25) + 1,
        "the lines around it are kept"
    );
}

#[test]
fn damaged_inputs_never_panic() {
    let mut rng = Rng(0x5eed_0016);
    for base in [XML, XLOG17, XLOG25] {
        for _ in 0..60 {
            let mut b = base.to_vec();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(b.len());
                match rng.below(5) {
                    0 => b[at] = rng.next_u64() as u8,
                    1 => b.insert(at, *b"<>'\n\"&".get(rng.below(6)).unwrap()),
                    2 => {
                        let end = (at + rng.below(400)).min(b.len());
                        b.drain(at..end);
                    }
                    3 => b.truncate(at),
                    _ => {
                        let from = rng.below(b.len());
                        let piece: Vec<u8> = b[from..(from + rng.below(300)).min(b.len())].to_vec();
                        b.splice(at.min(b.len())..at.min(b.len()), piece);
                    }
                }
            }
            let _ = read_bytes(&b, Path::new("damaged"));
        }
    }
}

#[test]
fn huge_lines_and_tags_are_skipped_not_held() {
    let mut log = b"[0.1s][info][jit,compilation]   1       3       A::a (1 bytes)\n".to_vec();
    log.extend(std::iter::repeat_n(b'x', 300_000));
    log.extend_from_slice(b"\n[0.2s][info][jit,compilation]   2       3       A::b (1 bytes)\n");
    let r = read_bytes(&log, Path::new("long.log")).unwrap();
    assert_eq!(versions(&r), 2);

    let head = XML
        .split(|&b| b == b'\n')
        .take(30)
        .collect::<Vec<_>>()
        .join(&b'\n');
    let mut xml = head.clone();
    xml.extend_from_slice(b"\n<task_queued compile_id='99999' method='");
    xml.extend(std::iter::repeat_n(b'a', 200_000));
    xml.extend_from_slice(b"'/>\n<hotspot_log_done stamp='1'/>\n</hotspot_log>\n");
    let r = read_bytes(&xml, Path::new("long.xml")).unwrap();
    assert!(
        matches!(&r.error, Some(Error::BadRecord { message, .. }) if message.contains("longer than")),
        "{:?}",
        r.error
    );
}
