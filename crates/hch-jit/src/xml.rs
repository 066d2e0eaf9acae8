//! LogCompilation XML (`-XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation`), read as a stream
//! in one pass: files reach gigabytes. The JVM writes its runtime events first, in time order,
//! in the `<tty>` section (`task_queued`, `nmethod`, `make_not_entrant`, `uncommon_trap`,
//! `deoptimized`, `dependency_failed`), and the compiler threads' own logs (`task`, `failure`,
//! `code_cache`, `task_done`) after it at exit; the builder joins them by compile id.
//!
//! The scanner looks only at tag names: every `<` starts a tag (XML escapes it elsewhere), and
//! the tags of a compile's inlining and parsing, most of the file, are passed over by their
//! first bytes. Only the tags read are held whole, up to 64 KiB each.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::build::Builder;
use crate::model::{
    CacheEvent, CacheEventKind, CacheSample, Compiler, Deopt, End, EndKind, Format, Marker,
    MarkerKind, Ms,
};
use crate::stream::Stream;
use crate::Error;

/// The longest tag read whole.
pub(crate) const MAX_TAG: usize = 64 << 10;
/// Code cache samples closer together than this are thinned out.
const CACHE_SAMPLE_MS: Ms = 50.0;
/// At most this many `dependency_failed` markers are kept.
const MAX_MARKERS: usize = 10_000;

/// Reads a LogCompilation file into `b`; the error, if any, says what was skipped or cut.
pub(crate) fn read<R: Read>(
    s: &mut Stream<R>,
    b: &mut Builder,
    path: &Path,
) -> Result<Option<Error>, Error> {
    b.source.format = Some(Format::LogCompilation);
    b.traps_known = true;
    let mut x = Xml::default();
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    loop {
        let Some(i) = memchr::memchr(b'<', s.rest()) else {
            let n = s.rest().len();
            x.text(&s.rest()[..n]);
            s.consume(n);
            if !s.fill().map_err(io)? && s.eof {
                break;
            }
            continue;
        };
        x.text(&s.rest()[..i]);
        s.consume(i);
        let rest = s.rest();
        let head = &rest[1..rest.len().min(40)];
        let name_len = head
            .iter()
            .position(|c| matches!(c, b' ' | b'/' | b'>' | b'\n' | b'\t' | b'\r'));
        let Some(name_len) = name_len.or((s.eof || head.len() >= 39).then_some(head.len())) else {
            s.fill().map_err(io)?;
            continue;
        };
        let name = &head[..name_len];
        if !x.wants(name, &rest[1..]) {
            s.consume(1);
            continue;
        }
        match memchr::memchr(b'>', rest) {
            Some(j) if j >= MAX_TAG => {
                let (line, offset) = (s.line_at(0), s.offset(0));
                x.bad(line, offset, format!("a tag longer than {MAX_TAG} bytes"));
                s.consume(j + 1);
            }
            Some(j) => {
                let tag = &rest[..=j];
                let (line, offset) = (s.line_at(0), s.offset(0));
                let name = name.to_vec();
                if let Err(msg) = x.tag(b, &name, tag) {
                    x.bad(line, offset, msg);
                }
                s.consume(j + 1);
            }
            None if rest.len() >= MAX_TAG => {
                let (line, offset) = (s.line_at(0), s.offset(0));
                x.bad(line, offset, format!("a tag longer than {MAX_TAG} bytes"));
                s.consume(1);
            }
            None => {
                if !s.fill().map_err(io)? && s.eof {
                    break; // a tag cut by the end of the input
                }
            }
        }
    }
    x.close_trap(b);
    let end = s.offset(s.end - s.start);
    b.source.bytes = end;
    b.source.complete = x.complete;
    if !x.seen_log {
        return Err(Error::Unrecognised {
            path: path.to_path_buf(),
            bytes: end,
        });
    }
    if !x.complete {
        return Ok(Some(Error::Truncated {
            path: path.to_path_buf(),
            line: s.line_at(s.end - s.start),
            offset: end,
            inside: x.inside(),
        }));
    }
    Ok(x.bad.map(|(line, offset, message)| Error::BadRecord {
        path: path.to_path_buf(),
        line,
        offset,
        message,
        more: x.bad_more,
    }))
}

/// The reader's state between tags.
#[derive(Debug, Default)]
struct Xml {
    /// Method attributes as written, to their index (the same few thousand strings recur).
    methods: HashMap<Box<[u8]>, u32>,
    seen_log: bool,
    complete: bool,
    in_tty: bool,
    /// The compiler thread whose log is being read.
    thread: Option<u32>,
    /// The compile task open in a compiler thread's log: compile id and start.
    task: Option<(u64, Ms)>,
    /// The last `code_cache` figures of the open task: free bytes, nmethods.
    cache: Option<(u64, u64)>,
    last_cache_ms: Option<Ms>,
    /// A runtime trap whose `jvms` may still come.
    trap: Option<(Option<u32>, Deopt)>,
    /// The last time the `<tty>` section stated (`deoptimized` has no stamp of its own).
    tty_ms: Ms,
    /// Inside `<release>`: its text is the JDK version.
    in_release: bool,
    release: Option<String>,
    bad: Option<(u64, u64, String)>,
    bad_more: u64,
}

impl Xml {
    /// Whether a tag is one this reader needs; `rest` starts after the `<`.
    fn wants(&self, name: &[u8], rest: &[u8]) -> bool {
        match name {
            b"uncommon_trap" => rest.starts_with(b"uncommon_trap thread="),
            b"jvms" | b"/uncommon_trap" | b"/deoptimized" => self.trap.is_some(),
            b"failure" | b"code_cache" | b"task_done" | b"/task" => self.task.is_some(),
            b"task"
            | b"task_queued"
            | b"nmethod"
            | b"make_not_entrant"
            | b"deoptimized"
            | b"dependency_failed"
            | b"code_cache_full"
            | b"start_compile_thread"
            | b"compilation_log"
            | b"tty"
            | b"tty_done"
            | b"hotspot_log"
            | b"hotspot_log_done"
            | b"/hotspot_log"
            | b"release" => true,
            _ => false,
        }
    }

    /// Text between tags: only the JDK release is read.
    fn text(&mut self, t: &[u8]) {
        if self.in_release && !t.iter().all(u8::is_ascii_whitespace) {
            self.in_release = false;
            self.release = Some(String::from_utf8_lossy(t).trim().to_string());
        }
    }

    fn bad(&mut self, line: u64, offset: u64, msg: String) {
        if self.bad.is_none() {
            self.bad = Some((line, offset, msg));
        } else {
            self.bad_more += 1;
        }
    }

    /// What was open where the input ends.
    fn inside(&self) -> String {
        if let Some((id, _)) = self.task {
            format!(" inside <task compile_id='{id}'>")
        } else if self.in_tty {
            " in the <tty> section (the JVM was still running or was killed)".into()
        } else if self.thread.is_some() {
            " in a compiler thread's <compilation_log>".into()
        } else {
            " before </hotspot_log>".into()
        }
    }

    /// A method attribute to its index.
    fn method(&mut self, b: &mut Builder, raw: &[u8]) -> u32 {
        if let Some(&m) = self.methods.get(raw) {
            return m;
        }
        let m = b.method(&method_name(raw));
        self.methods.insert(raw.into(), m);
        m
    }

    fn tag(&mut self, b: &mut Builder, name: &[u8], tag: &[u8]) -> Result<(), String> {
        let a = Attrs(tag);
        match name {
            b"hotspot_log" => self.seen_log = true,
            b"release" => self.in_release = true,
            b"tty" => self.in_tty = true,
            b"tty_done" => self.in_tty = false,
            b"hotspot_log_done" | b"/hotspot_log" => self.complete = true,
            b"compilation_log" => {
                self.in_tty = false;
                self.thread = None;
            }
            b"start_compile_thread" => {
                let n = a.text(b"name").unwrap_or_default();
                self.thread = Some(b.thread(&n));
            }
            b"task_queued" => {
                let (id, m) = self.compile_of(b, &a)?;
                let v = b.compile(id, m);
                v.queued_ms = a.stamp();
                task_fields(v, &a);
            }
            b"task" => {
                let (id, m) = self.compile_of(b, &a)?;
                let start = a.stamp().ok_or("a task without a stamp")?;
                let v = b.compile(id, m);
                v.start_ms = Some(start);
                v.thread = self.thread;
                task_fields(v, &a);
                self.task = Some((id, start));
                self.cache = None;
            }
            b"failure" => self.failure(b, &a),
            b"code_cache" => {
                self.cache = a.num(b"free_code_cache").zip(a.num(b"nmethods"));
            }
            b"task_done" => self.task_done(b, &a),
            b"/task" => self.task = None,
            b"nmethod" => self.nmethod(b, &a)?,
            b"make_not_entrant" => {
                let id = a.num(b"compile_id").ok_or("no compile_id")?;
                let at = self.tty_stamp(&a);
                let reason = match a.text(b"reason") {
                    Some(r) => format!("made not entrant: {r}"),
                    None => "made not entrant".into(),
                };
                let end = End {
                    at_ms: at,
                    kind: EndKind::Other,
                    reason,
                    replaced_by: None,
                    observed: true,
                };
                b.ended(id, end);
            }
            b"uncommon_trap" | b"deoptimized" => {
                self.close_trap(b);
                let d = Deopt {
                    at_ms: self.tty_stamp(&a).unwrap_or(self.tty_ms),
                    compile_id: a.num(b"compile_id"),
                    level: a.num(b"level").map(|l: u64| l.min(255) as u8),
                    reason: a.text(b"reason").unwrap_or("unknown".into()),
                    action: a.text(b"action"),
                    bci: None,
                    line: None,
                    instruction: None,
                    inlined: None,
                    frame: name == b"deoptimized",
                };
                self.trap = Some((None, d));
                if tag.ends_with(b"/>") {
                    self.close_trap(b);
                }
            }
            b"jvms" => {
                let method = a.raw(b"method").map(|r| self.method(b, r));
                if let Some((hint, d)) = &mut self.trap {
                    if d.bci.is_none() {
                        d.bci = a.num(b"bci").map(|n: u64| n as i64);
                        *hint = method;
                    }
                }
            }
            b"/uncommon_trap" | b"/deoptimized" => self.close_trap(b),
            b"dependency_failed" => {
                let at = self.tty_stamp(&a).unwrap_or(self.tty_ms);
                if b.markers.len() < MAX_MARKERS {
                    let detail = format!(
                        "{}: {} (witness {})",
                        a.text(b"type").unwrap_or_default(),
                        a.text(b"ctxk").unwrap_or_default(),
                        a.text(b"witness").unwrap_or("-".into())
                    );
                    let repeat = b.markers.last().is_some_and(|m| m.detail == detail);
                    if !repeat {
                        b.markers.push(Marker {
                            at_ms: at,
                            kind: MarkerKind::DependencyFailed,
                            detail,
                        });
                    }
                }
            }
            b"code_cache_full" => {
                let at = self.tty_stamp(&a);
                for kind in [CacheEventKind::Full, CacheEventKind::Disabled] {
                    b.cache_events.push(CacheEvent {
                        at_ms: at,
                        kind,
                        heap: None,
                        detail: None,
                    });
                }
            }
            _ => {}
        }
        if let Some(v) = self.release.take() {
            b.source.feature = hch_target::info::feature_of(&v);
            b.source.jdk = Some(v);
        }
        Ok(())
    }

    /// The compile id and method of a `task` or `task_queued`.
    fn compile_of(&mut self, b: &mut Builder, a: &Attrs<'_>) -> Result<(u64, u32), String> {
        let id = a.num(b"compile_id").ok_or("no compile_id")?;
        let raw = a.raw(b"method").ok_or("no method")?;
        Ok((id, self.method(b, raw)))
    }

    /// A stamp of the `<tty>` section, which also dates what follows it.
    fn tty_stamp(&mut self, a: &Attrs<'_>) -> Option<Ms> {
        let t = a.stamp()?;
        self.tty_ms = t;
        Some(t)
    }

    fn nmethod(&mut self, b: &mut Builder, a: &Attrs<'_>) -> Result<(), String> {
        let id = a.num(b"compile_id").ok_or("no compile_id")?;
        let raw = a.raw(b"method").ok_or("no method")?;
        let m = self.method(b, raw);
        let at = self.tty_stamp(a);
        let v = b.compile(id, m);
        v.code_size = a.num(b"size");
        v.level = a.num(b"level").map(|l: u64| l.min(255) as u8).or(v.level);
        if let Some(c) = a.text(b"compiler") {
            v.compiler = Some(Compiler::from_name(&c));
        }
        if a.text(b"compile_kind").as_deref() == Some("osr") {
            v.osr = true;
        }
        if v.start_ms.is_none() {
            v.start_ms = at; // installed then; the compiler's log, later in the file, says more
        }
        Ok(())
    }

    fn failure(&mut self, b: &mut Builder, a: &Attrs<'_>) {
        let Some((id, _)) = self.task else { return };
        if let Some(v) = b.known(id) {
            if v.failure.is_none() {
                v.failure = Some(a.text(b"reason").unwrap_or("failed".into()));
            }
        }
    }

    fn task_done(&mut self, b: &mut Builder, a: &Attrs<'_>) {
        let Some((id, start)) = self.task else { return };
        let at = a.stamp();
        if let Some(v) = b.known(id) {
            v.start_ms = Some(start);
            v.duration_ms = at.map(|t| (t - start).max(0.0));
            if a.text(b"success").as_deref() == Some("0") {
                v.failure.get_or_insert_with(|| "failed".into());
            } else {
                v.failure = None; // a retry succeeded
                v.code_size = v.code_size.or(a.num(b"nmsize"));
            }
            v.inlined_bytes = a.num(b"inlined_bytes").or(v.inlined_bytes);
        }
        if let (Some(at), Some((free, methods))) = (at, self.cache.take()) {
            let thin = self
                .last_cache_ms
                .is_some_and(|l| (at - l).abs() < CACHE_SAMPLE_MS);
            if !thin {
                self.last_cache_ms = Some(at);
                b.code_cache.push(CacheSample {
                    at_ms: at,
                    heap: "all".into(),
                    used: None,
                    free: Some(free),
                    capacity: None,
                    methods: Some(methods),
                });
            }
        }
    }

    /// Hands the open trap to the builder.
    fn close_trap(&mut self, b: &mut Builder) {
        if let Some((hint, d)) = self.trap.take() {
            b.deopt(hint, d);
        }
    }
}

/// Fields `task` and `task_queued` share. A missing level is the highest (C2's 4).
fn task_fields(v: &mut crate::model::Version, a: &Attrs<'_>) {
    let level = a.num(b"level").map_or(4, |l: u64| l.min(255) as u8);
    v.level = Some(level);
    v.compiler = v.compiler.or(Some(Compiler::of_level(level)));
    v.bytecode_size = a.num(b"bytes");
    if let Some(bci) = a.num::<u32>(b"osr_bci") {
        v.osr = true;
        v.osr_bci = Some(bci);
    }
}

/// `java.lang.Object &lt;init&gt; ()V` -> `java.lang.Object.<init>()V`.
fn method_name(raw: &[u8]) -> String {
    let t = unescape(raw);
    let mut parts = t.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(c), Some(n), Some(d)) => format!("{c}.{n}{d}"),
        (Some(c), Some(n), None) => format!("{c}.{n}"),
        _ => t,
    }
}

/// Replaces the five XML entities and numeric references.
fn unescape(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    if !s.contains('&') {
        return s.into_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = &*s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let c = match ent {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "apos" => Some('\''),
            "quot" => Some('"'),
            _ => ent
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The attributes of one tag, looked up by name.
struct Attrs<'a>(&'a [u8]);

impl<'a> Attrs<'a> {
    /// The raw value of `name='...'` (or double quotes).
    fn raw(&self, name: &[u8]) -> Option<&'a [u8]> {
        let t = self.0;
        let mut from = 0;
        while let Some(i) = memchr::memmem::find(&t[from..], name) {
            let at = from + i;
            from = at + 1;
            let before = at.checked_sub(1).map(|p| t[p]);
            let after = t.get(at + name.len()..at + name.len() + 2);
            let (Some(b' ' | b'\n' | b'\t'), Some([b'=', q @ (b'\'' | b'"')])) = (before, after)
            else {
                continue;
            };
            let start = at + name.len() + 2;
            let len = memchr::memchr(*q, &t[start..])?;
            return Some(&t[start..start + len]);
        }
        None
    }

    fn text(&self, name: &[u8]) -> Option<String> {
        self.raw(name).map(unescape)
    }

    fn num<T: std::str::FromStr>(&self, name: &[u8]) -> Option<T> {
        std::str::from_utf8(self.raw(name)?).ok()?.parse().ok()
    }

    /// `stamp='1.234'` (seconds since JVM start) in milliseconds.
    fn stamp(&self) -> Option<Ms> {
        let s: f64 = self.num(b"stamp")?;
        (s.is_finite() && s >= 0.0).then_some(s * 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "<?xml version='1.0' encoding='UTF-8'?>
<hotspot_log version='160 1' process='9403' time_ms='1796224395952'>
<vm_version>
<release>
25.0.3+9-LTS
</release>
</vm_version>
<tty>
<task_queued compile_id='1460' method='Deopt totalArea ([LDeopt$Shape;)D' bytes='42' count='1874' iicount='1874' stamp='10.220' comment='tiered' hot_count='1874'/>
<nmethod compile_id='1460' compiler='c2' level='4' entry='0x1' size='944' address='0x2' method='Deopt totalArea ([LDeopt$Shape;)D' bytes='42' count='1' iicount='1' stamp='10.260'/>
<uncommon_trap thread='9619' reason='bimorphic_or_optimized_type_check' action='maybe_recompile' debug_id='0' compile_id='1460' compiler='c2' level='4' stamp='10.900'>
<jvms bci='27' method='Deopt totalArea ([LDeopt$Shape;)D' bytes='42' count='1874' iicount='1874'/>
</uncommon_trap>
<make_not_entrant thread='9619' reason='uncommon trap' compile_id='1460' compiler='c2' level='4' stamp='10.977'/>
<dependency_failed type='unique_concrete_method' ctxk='Deopt$Animal' witness='Deopt$Cat' stamp='13.2'/>
<deoptimized thread='9619' reason='constraint' pc='0x3' compile_id='1460' compiler='c2' level='4'>
<jvms bci='24' method='Deopt chorus (LDeopt$Animal;I)J' bytes='29' count='388' iicount='388'/>
</deoptimized>
<tty_done stamp='15.296'/>
</tty>
<compilation_log thread='9664'>
<start_compile_thread name='C2 CompilerThread0' thread='9664' process='9403' stamp='0.109'/>
<task compile_id='1460' method='Deopt totalArea ([LDeopt$Shape;)D' bytes='42' count='1874' backedge_count='480512' iicount='1874' decompiles='1' class_check_traps='4' stamp='10.223'>
<uncommon_trap bci='5' reason='null_check' action='maybe_recompile' debug_id='0'/>
<code_cache total_blobs='1905' nmethods='1465' adapters='352' free_code_cache='247722880'/>
<task_done success='1' nmsize='520' count='1874' inlined_bytes='24' stamp='10.255'/>
</task>
</compilation_log>
<hotspot_log_done stamp='15.337'/>
</hotspot_log>
";

    fn parse(text: &[u8]) -> (crate::model::Timeline, Option<Error>) {
        let mut b = Builder::default();
        let mut s = Stream::new(text, MAX_TAG);
        match read(&mut s, &mut b, Path::new("t.xml")) {
            Ok(e) => (b.finish(), e),
            Err(e) => (Default::default(), Some(e)),
        }
    }

    #[test]
    fn a_whole_log() {
        let (t, e) = parse(LOG.as_bytes());
        assert!(e.is_none(), "{e:?}");
        assert_eq!(t.source.feature, Some(25));
        assert_eq!(t.threads, ["C2 CompilerThread0"]);
        let m = &t.methods[0];
        assert_eq!(m.name, "Deopt.totalArea([LDeopt$Shape;)D");
        let v = &m.versions[0];
        assert_eq!(
            (
                v.queued_ms,
                v.start_ms,
                v.code_size,
                v.level,
                v.inlined_bytes
            ),
            (Some(10220.0), Some(10223.0), Some(944), Some(4), Some(24))
        );
        assert!((v.duration_ms.unwrap() - 32.0).abs() < 1e-6);
        assert_eq!(v.end.as_ref().unwrap().kind, EndKind::Trap);
        assert_eq!(m.deopts.len(), 2);
        assert_eq!(m.deopts[0].bci, Some(27));
        assert!(m.deopts[1].frame);
        assert_eq!(
            m.deopts[1].inlined.as_deref(),
            Some("Deopt.chorus(LDeopt$Animal;I)J")
        );
        assert_eq!(
            t.markers[0].detail,
            "unique_concrete_method: Deopt$Animal (witness Deopt$Cat)"
        );
        assert_eq!(t.code_cache[0].free, Some(247722880));
    }

    #[test]
    fn every_cut_keeps_the_complete_part() {
        let full = LOG.as_bytes();
        for cut in 0..full.len() {
            let (t, e) = parse(&full[..cut]);
            let traps = t.methods.iter().map(|m| m.deopts.len()).sum::<usize>();
            let whole = memchr::memmem::find_iter(&full[..cut], b"'>\n<jvms bci='27'").count();
            assert!(traps >= whole, "cut {cut}");
            let done = LOG.find("<hotspot_log_done").unwrap() + 30;
            if cut < done {
                let cut_or_empty = matches!(
                    e,
                    Some(Error::Truncated { .. } | Error::Unrecognised { .. })
                );
                assert!(cut_or_empty, "cut {cut}: {e:?}");
            }
        }
    }

    #[test]
    fn entities() {
        assert_eq!(
            unescape(b"a &lt;init&gt; &amp;&#65;&#x42;&bogus;"),
            "a <init> &AB&bogus;"
        );
        assert_eq!(
            method_name(b"java.lang.Object &lt;init&gt; ()V"),
            "java.lang.Object.<init>()V"
        );
    }
}
