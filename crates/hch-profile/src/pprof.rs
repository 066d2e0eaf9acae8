//! pprof (`profile.proto`, gzipped or not), in and out, as Go's `pprof`, Pyroscope, Parca and
//! async-profiler's converter read and write it. The messages are declared here with prost's
//! derive (no `protoc` at build time); prost does the wire format.
//!
//! Out: sample types `samples/count` and `cpu/nanoseconds`, the period in nanoseconds, one
//! location per frame with its line, and per function the flat profile's name (`name`, what
//! `go tool pprof -top` prints) and the JVM name with descriptor and async-profiler's frame
//! type suffix (`system_name`: `java/lang/String.hashCode()I_[j]`, `_[1]` C1, `_[0]`
//! interpreted, `_[i]` inlined), which backends keep. In: the same, or any pprof whose function
//! names are Java or native frame names; a location with several lines is a compiled frame with
//! its inlined callees first.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use hch_jfr::{Frame, FrameKind, JvmFacts};
use prost::Message;

use crate::collapsed::parse_frame;
use crate::model::{Input, InputFormat, Profile};
use crate::names::{self, NameStyle};
use crate::Error;

/// The most bytes a pprof may inflate to (a zip bomb stops here).
const MAX_INFLATED: u64 = 1 << 30;

/// `perftools.profiles.Profile` (the fields hch reads or writes).
#[derive(Clone, PartialEq, Message)]
pub struct PProfile {
    /// What each sample value counts.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// The samples.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// Code locations.
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// Functions.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// All strings; entry 0 is "".
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// Start of the profile, ns since the epoch.
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// Length of the profile, ns.
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// What the period counts.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// Between two samples.
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// Free-form comments (string table indexes).
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    /// The sample type shown by default (string table index).
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

/// A type and unit, as string table indexes.
#[derive(Clone, PartialEq, Message)]
pub struct ValueType {
    /// e.g. `cpu`.
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// e.g. `nanoseconds`.
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// One stack and its values.
#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    /// Locations, leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// One value per sample type.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// Labels.
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// A sample label.
#[derive(Clone, PartialEq, Message)]
pub struct Label {
    /// Key (string index).
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// String value (string index).
    #[prost(int64, tag = "2")]
    pub str: i64,
    /// Numeric value.
    #[prost(int64, tag = "3")]
    pub num: i64,
}

/// A code location: one frame, or a compiled frame with its inlined callees.
#[derive(Clone, PartialEq, Message)]
pub struct Location {
    /// Non-zero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Mapping id (0: none).
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    /// Instruction address.
    #[prost(uint64, tag = "3")]
    pub address: u64,
    /// Inlined callees first, the caller last.
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
}

/// A function and line.
#[derive(Clone, PartialEq, Message)]
pub struct Line {
    /// Function id.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// Source line (0: unknown).
    #[prost(int64, tag = "2")]
    pub line: i64,
}

/// A function.
#[derive(Clone, PartialEq, Message)]
pub struct Function {
    /// Non-zero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Display name (string index).
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// The name as the system knows it (string index).
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// Source file (string index).
    #[prost(int64, tag = "4")]
    pub filename: i64,
    /// First line.
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

/// Strings to indexes, entry 0 being "".
#[derive(Default)]
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn id(&mut self, s: &str) -> i64 {
        if self.table.is_empty() {
            self.table.push(String::new());
            self.index.insert(String::new(), 0);
        }
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// The pprof message of a profile.
pub fn to_pprof(p: &Profile) -> PProfile {
    let mut s = Strings::default();
    let period = p
        .inputs
        .iter()
        .find_map(|i| i.facts.sample_period_ns)
        .unwrap_or(0);
    let mut out = PProfile {
        sample_type: vec![
            ValueType {
                r#type: s.id("samples"),
                unit: s.id("count"),
            },
            ValueType {
                r#type: s.id("cpu"),
                unit: s.id("nanoseconds"),
            },
        ],
        period_type: Some(ValueType {
            r#type: s.id("cpu"),
            unit: s.id("nanoseconds"),
        }),
        period: period as i64,
        default_sample_type: s.id("cpu"),
        comment: vec![s.id("written by hch")],
        ..Default::default()
    };
    let mut functions: HashMap<(u32, FrameKind), u64> = HashMap::new();
    let mut locations: HashMap<(u64, i32), u64> = HashMap::new();
    for st in &p.stacks {
        let mut ids = Vec::with_capacity(st.frames.len());
        for f in &st.frames {
            let func = *functions.entry((f.method, f.kind)).or_insert_with(|| {
                let id = out.function.len() as u64 + 1;
                out.function.push(function(p, f, id, &mut s));
                id
            });
            let loc = *locations.entry((func, f.line)).or_insert_with(|| {
                let id = out.location.len() as u64 + 1;
                out.location.push(Location {
                    id,
                    line: vec![Line {
                        function_id: func,
                        line: i64::from(f.line.max(0)),
                    }],
                    ..Default::default()
                });
                id
            });
            ids.push(loc);
        }
        let ns = st.ns.unwrap_or(st.samples.saturating_mul(period));
        out.sample.push(Sample {
            location_id: ids,
            value: vec![st.samples as i64, ns as i64],
            label: Vec::new(),
        });
    }
    out.string_table = s.table;
    out
}

/// Suffixes of hch's own for the frame types async-profiler's `-a` leaves unmarked.
const OWN_SUFFIXES: [(&str, FrameKind); 2] =
    [("_[native]", FrameKind::Native), ("_[cpp]", FrameKind::Cpp)];

/// A frame's function: the flat name, and the JVM name with its frame type suffix.
fn function(p: &Profile, f: &Frame, id: u64, s: &mut Strings) -> Function {
    let m = &p.methods[f.method as usize];
    let plain = NameStyle {
        dotted: true,
        annotate: false,
    };
    let system = match f.kind {
        FrameKind::Native | FrameKind::Cpp => {
            let own = OWN_SUFFIXES.iter().find(|(_, k)| *k == f.kind);
            names::frame_name(m, f.kind, plain) + own.map_or("", |(sfx, _)| sfx)
        }
        FrameKind::Kernel => names::frame_name(m, f.kind, plain),
        kind => format!(
            "{}{}{}",
            names::method_name(m, false),
            m.descriptor,
            names::suffix(kind, true)
        ),
    };
    Function {
        id,
        name: s.id(&names::frame_name(m, f.kind, plain)),
        system_name: s.id(&system),
        ..Default::default()
    }
}

/// Writes a profile as gzipped `profile.proto`.
pub fn write(p: &Profile, out: impl Write) -> std::io::Result<()> {
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    gz.write_all(&to_pprof(p).encode_to_vec())?;
    gz.finish()?;
    Ok(())
}

/// Whether the first bytes may be a pprof: gzip, or a raw `Profile` starting with field 1 or 2.
pub fn looks_like(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b]) || matches!(head.first(), Some(0x0a | 0x12))
}

/// Reads a pprof (gzipped or not) into `profile`.
pub fn read(profile: &mut Profile, source: &Path, mut r: impl Read) -> Result<(), Error> {
    let bad = |what: String| Error::Pprof {
        path: source.to_path_buf(),
        what,
    };
    let io = |e| Error::Io {
        path: source.to_path_buf(),
        source: e,
    };
    let mut raw = Vec::new();
    r.by_ref()
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut raw)
        .map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .take(MAX_INFLATED + 1)
            .read_to_end(&mut inflated)
            .map_err(|e| bad(format!("gzip: {e}")))?;
        raw = inflated;
    }
    if raw.len() as u64 > MAX_INFLATED {
        return Err(bad(format!("more than {MAX_INFLATED} bytes")));
    }
    let pp = PProfile::decode(&raw[..]).map_err(|e| bad(format!("profile.proto: {e}")))?;
    add(profile, source, &pp).map_err(bad)
}

/// Adds the samples of a decoded pprof.
fn add(profile: &mut Profile, source: &Path, pp: &PProfile) -> Result<(), String> {
    let st = |i: i64| -> &str {
        usize::try_from(i)
            .ok()
            .and_then(|i| pp.string_table.get(i))
            .map_or("", String::as_str)
    };
    let find = |want: &dyn Fn(&str, &str) -> bool| {
        pp.sample_type
            .iter()
            .position(|v| want(st(v.r#type), st(v.unit)))
    };
    let count_at = find(&|t, u| t == "samples" || u == "count");
    let ns_at = find(&|_, u| u == "nanoseconds");
    if count_at.is_none() && ns_at.is_none() {
        return Err("no sample type in samples/count or nanoseconds".into());
    }
    let period = match pp.period_type.as_ref().map(|v| st(v.unit)) {
        Some("nanoseconds") if pp.period > 0 => Some(pp.period as u64),
        _ => None,
    };
    let functions: HashMap<u64, &Function> = pp.function.iter().map(|f| (f.id, f)).collect();
    let mut frames_of: HashMap<u64, Vec<Frame>> = HashMap::new();
    for loc in &pp.location {
        let last = loc.line.len().saturating_sub(1);
        let mut frames = Vec::with_capacity(loc.line.len());
        for (i, l) in loc.line.iter().enumerate() {
            let f = functions.get(&l.function_id).ok_or_else(|| {
                format!("location {} names no function {}", loc.id, l.function_id)
            })?;
            frames.push(frame(
                profile,
                st(f.name),
                st(f.system_name),
                l.line,
                i < last,
            ));
        }
        frames_of.insert(loc.id, frames);
    }
    // A profile whose period was unknown carries zeros as nanoseconds: plain counts then.
    let ns_at = ns_at.filter(|&i| {
        pp.sample
            .iter()
            .any(|s| s.value.get(i).is_some_and(|&v| v > 0))
    });
    let mut total = 0u64;
    for s in &pp.sample {
        let value = |at: Option<usize>| at.and_then(|i| s.value.get(i)).map(|&v| v.max(0) as u64);
        let ns = value(ns_at);
        let samples = match (value(count_at), ns, period) {
            (Some(n), _, _) => n,
            (None, Some(ns), Some(p)) => ns / p,
            (None, Some(ns), None) => ns,
            (None, None, _) => 0,
        };
        let mut frames = Vec::new();
        for id in &s.location_id {
            let f = frames_of
                .get(id)
                .ok_or_else(|| format!("a sample names no location {id}"))?;
            frames.extend_from_slice(f);
        }
        let ns = ns.or(period.map(|p| p.saturating_mul(samples)));
        profile.push_stack_ns(frames, samples, ns);
        total = total.saturating_add(samples);
    }
    profile.add_input(Input {
        source: source.to_path_buf(),
        format: InputFormat::Pprof,
        samples: total,
        facts: JvmFacts {
            sample_period_ns: period,
            ..Default::default()
        },
        frame_kinds_known: pp
            .function
            .iter()
            .any(|f| names::strip_suffix(st(f.system_name)).1.is_some()),
    });
    Ok(())
}

/// A slashed JVM name keeps the dots inside its class name (`Foo$$Lambda$12.0x0801.apply`):
/// only the last dot before the descriptor separates the method.
fn keep_class_dots(mut m: hch_jfr::MethodInfo, system: &str) -> hch_jfr::MethodInfo {
    let head = system.split('(').next().unwrap_or(system);
    if let Some((class, _)) = head.rsplit_once('.').filter(|(c, _)| c.contains('/')) {
        m.class = class.to_string();
        m.hidden = names::looks_hidden(class);
    }
    m
}

/// One frame from a function's names: the system name when it carries a frame type or a
/// descriptor (hch's own pprof), else the display name.
fn frame(p: &mut Profile, name: &str, system: &str, line: i64, inlined: bool) -> Frame {
    let own = OWN_SUFFIXES
        .iter()
        .find_map(|(sfx, k)| Some((system.strip_suffix(sfx)?, *k)));
    let (m, kind) = match own {
        Some((symbol, k)) => {
            let m = hch_jfr::MethodInfo {
                class: String::new(),
                name: symbol.to_string(),
                descriptor: String::new(),
                hidden: false,
            };
            (m, Some(k))
        }
        None => match parse_frame(system) {
            (m, k) if !system.is_empty() && (k.is_some() || !m.descriptor.is_empty()) => {
                (keep_class_dots(m, system), k)
            }
            _ => parse_frame(if name.is_empty() { system } else { name }),
        },
    };
    let kind = kind.unwrap_or(match () {
        _ if inlined => FrameKind::Inlined,
        _ if m.class.is_empty() => FrameKind::Native,
        _ => FrameKind::Unknown,
    });
    Frame {
        method: p.intern(m),
        line: i32::try_from(line).unwrap_or(0),
        bci: 0,
        kind,
    }
}
