//! JFR recordings: `jdk.Compilation`, `jdk.CompilationFailure`, `jdk.Deoptimization`, the code
//! cache events, `jdk.CompilerQueueUtilization` (JDK 21+), `jdk.JITRestart` and redefinitions,
//! read through hch-jfr's generic event API. Ticks become wall-clock time through each chunk's
//! header; the axis starts at the JVM's start (`jdk.JVMInformation.jvmStartTime`) when the
//! recording names it.

use std::path::Path;

use hch_jfr::{ChunkHeader, JfrFile};
use serde_json::Value;

use crate::build::Builder;
use crate::model::{
    CacheEvent, CacheEventKind, CacheSample, Compiler, Deopt, Format, Marker, MarkerKind, Ms,
    QueueSample, TimeBase, Timeline,
};
use crate::Error;

/// The event types a JIT timeline reads (and a live recording asks for).
pub const EVENTS: &[&str] = &[
    "jdk.JVMInformation",
    "jdk.Compilation",
    "jdk.CompilationFailure",
    "jdk.Deoptimization",
    "jdk.CodeCacheStatistics",
    "jdk.CodeCacheFull",
    "jdk.JITRestart",
    "jdk.CompilerQueueUtilization",
    "jdk.RedefineClasses",
    "jdk.RetransformClasses",
];

/// Reads a recording; the error, if any, stopped reading early (the chunks before it are in).
pub fn read(file: &JfrFile, label: &Path) -> (Timeline, Option<Error>) {
    let (headers, walk_error) = file.chunk_headers();
    let clocks: Vec<Clock> = headers.iter().map(|(_, h)| Clock::of(h)).collect();
    let mut r = Reader {
        b: Builder::with_traps(),
        jvm_start_ms: None,
        failures: Vec::new(),
    };
    r.b.source.format = Some(Format::Jfr);
    r.b.source.bytes = file.len();
    let result = hch_jfr::for_each_event(file, EVENTS, |chunk, name, fields| {
        if let Some(clock) = clocks.get(chunk) {
            r.event(clock, name, &fields);
        }
        Ok(())
    });
    for (id, why) in std::mem::take(&mut r.failures) {
        if let Some(v) = r.b.known(id) {
            v.failure = Some(why);
        }
    }
    let first = clocks.first().map(|c| c.start_ms);
    let zero = match (r.jvm_start_ms, first) {
        (Some(z), _) => z,
        (None, Some(f)) => {
            r.b.source.time_base = TimeBase::RecordingStart;
            f
        }
        (None, None) => 0.0,
    };
    if let Some(f) = first {
        r.b.source.recording_start_ms = Some(f - zero);
        r.b.markers.push(Marker {
            at_ms: f,
            kind: MarkerKind::RecordingStart,
            detail: "the JFR recording starts".into(),
        });
    }
    r.b.rebase(zero);
    r.b.source.complete = result.is_ok() && walk_error.is_none();
    let error = result.err().or(walk_error).map(|source| Error::Jfr {
        path: label.to_path_buf(),
        source,
    });
    (r.b.finish(), error)
}

/// Converts a chunk's ticks to milliseconds since the Unix epoch.
struct Clock {
    start_ms: Ms,
    start_ticks: u64,
    ms_per_tick: f64,
}

impl Clock {
    fn of(h: &ChunkHeader) -> Clock {
        let tps = h.ticks_per_second.max(1) as f64;
        Clock {
            start_ms: h.start_nanos as f64 / 1e6,
            start_ticks: h.start_ticks,
            ms_per_tick: 1000.0 / tps,
        }
    }

    fn at(&self, ticks: i64) -> Ms {
        self.start_ms + (ticks as i128 - self.start_ticks as i128) as f64 * self.ms_per_tick
    }

    fn span(&self, ticks: i64) -> Ms {
        ticks.max(0) as f64 * self.ms_per_tick
    }
}

struct Reader {
    b: Builder,
    jvm_start_ms: Option<Ms>,
    /// `jdk.CompilationFailure` by compile id (it may come before its `jdk.Compilation`).
    failures: Vec<(u64, String)>,
}

impl Reader {
    fn event(&mut self, clock: &Clock, name: &str, f: &Value) {
        let at = clock.at(int(f, "startTime").unwrap_or(0));
        match name {
            "jdk.JVMInformation" => self.jvm(f),
            "jdk.Compilation" => self.compilation(clock, at, f),
            "jdk.CompilationFailure" => {
                if let Some(id) = uint(f, "compileId") {
                    let why = text(f, "failureMessage").unwrap_or("failed").to_string();
                    self.failures.push((id, why));
                }
            }
            "jdk.Deoptimization" => self.deoptimization(at, f),
            "jdk.CodeCacheStatistics" => self.b.code_cache.push(cache_sample(at, f)),
            "jdk.CodeCacheFull" => {
                self.b.code_cache.push(cache_sample(at, f));
                self.b.cache_events.push(CacheEvent {
                    at_ms: Some(at),
                    kind: CacheEventKind::Full,
                    heap: text(f, "codeBlobType").map(heap_name),
                    detail: uint(f, "fullCount").map(|n| format!("full {n} time(s) so far")),
                });
            }
            "jdk.JITRestart" => self.b.cache_events.push(CacheEvent {
                at_ms: Some(at),
                kind: CacheEventKind::Restart,
                heap: None,
                detail: uint(f, "freedMemory").map(|n| format!("{n} bytes freed")),
            }),
            "jdk.CompilerQueueUtilization" => self.b.queues.push(QueueSample {
                at_ms: at,
                compiler: Compiler::from_name(text(f, "compiler").unwrap_or("")),
                size: uint(f, "queueSize").unwrap_or(0),
                peak: uint(f, "peakQueueSize"),
                added_per_s: num(f, "addedRate"),
                removed_per_s: num(f, "removedRate"),
                threads: uint(f, "compilerThreadCount"),
            }),
            "jdk.RedefineClasses" | "jdk.RetransformClasses" => self.b.markers.push(Marker {
                at_ms: at,
                kind: MarkerKind::Redefinition,
                detail: format!(
                    "{}: {} class(es)",
                    name.trim_start_matches("jdk."),
                    uint(f, "classCount").unwrap_or(0)
                ),
            }),
            _ => {}
        }
    }

    fn jvm(&mut self, f: &Value) {
        if self.jvm_start_ms.is_none() {
            self.jvm_start_ms = int(f, "jvmStartTime").map(|t| t as Ms);
        }
        if let Some(args) = text(f, "jvmArguments") {
            let at_launch = args.contains("StartFlightRecording");
            let seen = self.b.source.jfr_at_launch.unwrap_or(false);
            self.b.source.jfr_at_launch = Some(seen || at_launch);
        }
        if self.b.source.jdk.is_none() {
            let v = text(f, "jvmVersion").unwrap_or("");
            // `OpenJDK 64-Bit Server VM (17.0.15+6-Debian-1deb12u1) for linux-amd64 JRE (...)`
            let version = v.split_once('(').and_then(|(_, r)| r.split_once(')'));
            if let Some((version, _)) = version {
                self.b.source.feature = hch_target::info::feature_of(version);
                self.b.source.jdk = Some(version.to_string());
            }
        }
    }

    fn compilation(&mut self, clock: &Clock, at: Ms, f: &Value) {
        let (Some(id), Some(method)) = (uint(f, "compileId"), method_name(f.get("method"))) else {
            return;
        };
        let m = self.b.method(&method);
        let thread = f
            .get("eventThread")
            .and_then(|t| text(t, "javaName").or_else(|| text(t, "osName")))
            .map(|n| n.to_string());
        let thread = thread.map(|n| self.b.thread(&n));
        let v = self.b.compile(id, m);
        v.level = uint(f, "compileLevel").map(|l| l.min(255) as u8);
        v.compiler = text(f, "compiler").map(Compiler::from_name);
        v.osr = f.get("isOsr").and_then(Value::as_bool).unwrap_or(false);
        v.start_ms = Some(at);
        v.duration_ms = int(f, "duration").map(|d| clock.span(d));
        v.thread = thread;
        let ok = f.get("succeded").and_then(Value::as_bool).unwrap_or(true);
        if ok {
            v.code_size = uint(f, "codeSize");
            v.inlined_bytes = uint(f, "inlinedBytes");
        } else if v.failure.is_none() {
            v.failure = Some("failed".into());
        }
    }

    fn deoptimization(&mut self, at: Ms, f: &Value) {
        let method = method_name(f.get("method")).map(|n| self.b.method(&n));
        let d = Deopt {
            at_ms: at,
            compile_id: uint(f, "compileId"),
            level: None,
            reason: text(f, "reason").unwrap_or("unknown").to_string(),
            action: text(f, "action").map(str::to_string),
            bci: int(f, "bci"),
            line: int(f, "lineNumber").filter(|&l| l > 0),
            instruction: text(f, "instruction").map(str::to_string),
            inlined: None,
            frame: false,
        };
        self.b.deopt(method, d);
    }
}

/// `pkg.Class.name(descriptor)` of a resolved `jdk.types.Method`.
fn method_name(m: Option<&Value>) -> Option<String> {
    let m = m?;
    let class = m.get("type").and_then(|t| text(t, "name"))?;
    let name = text(m, "name")?;
    let desc = text(m, "descriptor").unwrap_or("");
    Some(format!("{}.{name}{desc}", class.replace('/', ".")))
}

/// `CodeHeap 'profiled nmethods'` -> `profiled nmethods`.
fn heap_name(t: &str) -> String {
    t.strip_prefix("CodeHeap '")
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or(t)
        .to_string()
}

fn cache_sample(at: Ms, f: &Value) -> CacheSample {
    let capacity = match (uint(f, "reservedTopAddress"), uint(f, "startAddress")) {
        (Some(top), Some(start)) => top.checked_sub(start),
        _ => None,
    };
    let free = uint(f, "unallocatedCapacity");
    CacheSample {
        at_ms: at,
        heap: text(f, "codeBlobType").map_or("all".into(), heap_name),
        used: capacity.zip(free).and_then(|(c, f)| c.checked_sub(f)),
        free,
        capacity,
        methods: uint(f, "methodCount"),
    }
}

fn int(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_i64)
}

fn uint(v: &Value, k: &str) -> Option<u64> {
    v.get(k)
        .and_then(|x| x.as_u64().or_else(|| x.as_i64().map(|i| i as u64)))
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

fn text<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}
