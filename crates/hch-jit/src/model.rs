//! The timeline every input is read into: methods with their versions and deoptimizations, the
//! code cache, the compile queues and markers, all on one axis of milliseconds since JVM start.

use serde::Serialize;

/// Milliseconds on the timeline's axis (since the JVM started, see [`TimeBase`]).
pub type Ms = f64;

/// Which kind of input a timeline was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// A JFR recording (`jdk.Compilation`, `jdk.Deoptimization`, ...).
    Jfr,
    /// `-XX:+LogCompilation` XML.
    LogCompilation,
    /// `-Xlog:jit*` unified logging (also with `deoptimization` and `codecache` tags).
    Xlog,
    /// `-XX:+PrintCompilation` output, possibly mixed with the program's own.
    PrintCompilation,
}

impl Format {
    /// How the format is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            Format::Jfr => "JFR recording",
            Format::LogCompilation => "LogCompilation XML",
            Format::Xlog => "-Xlog:jit log",
            Format::PrintCompilation => "PrintCompilation log",
        }
    }
}

/// Where zero is on the time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBase {
    /// The JVM's start: log uptimes, or a recording that names the JVM's start time.
    #[default]
    JvmStart,
    /// The recording's first chunk (the recording did not say when the JVM started).
    RecordingStart,
}

/// What is known about the input and its JVM.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Source {
    /// The input's format.
    pub format: Option<Format>,
    /// The JVM's version, e.g. `17.0.15+6-Debian-1deb12u1`, when the input says.
    pub jdk: Option<String>,
    /// Its feature release, e.g. 17.
    pub feature: Option<u32>,
    /// Where zero is.
    pub time_base: TimeBase,
    /// When the recording started, on the axis (JFR only).
    pub recording_start_ms: Option<Ms>,
    /// Whether JFR was started with the JVM (`-XX:StartFlightRecording` in its arguments): then
    /// starting it deoptimized nothing.
    pub jfr_at_launch: Option<bool>,
    /// The first and last moments the input covers.
    pub span_ms: Option<(Ms, Ms)>,
    /// Bytes read.
    pub bytes: u64,
    /// Whether the input ended as a complete one does (a LogCompilation file's closing tag).
    pub complete: bool,
}

/// Which compiler made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compiler {
    /// The client compiler (tiers 1 to 3).
    C1,
    /// The server compiler (tier 4).
    C2,
    /// A JVMCI compiler (Graal).
    Jvmci,
    /// A native method wrapper (tier 0), or a compiler the input did not name.
    Other,
}

impl Compiler {
    /// From the names inputs use: `c1`, `C2`, `jvmci`, ...
    pub fn from_name(name: &str) -> Compiler {
        match name.to_ascii_lowercase().as_str() {
            "c1" => Compiler::C1,
            "c2" | "opto" => Compiler::C2,
            "jvmci" | "graal" => Compiler::Jvmci,
            _ => Compiler::Other,
        }
    }

    /// The compiler of a tiered level: 1 to 3 are C1, 4 is C2.
    pub fn of_level(level: u8) -> Compiler {
        match level {
            1..=3 => Compiler::C1,
            4 => Compiler::C2,
            _ => Compiler::Other,
        }
    }

    /// Its short name.
    pub fn label(self) -> &'static str {
        match self {
            Compiler::C1 => "c1",
            Compiler::C2 => "c2",
            Compiler::Jvmci => "jvmci",
            Compiler::Other => "other",
        }
    }
}

/// One compilation of a method: a version of its code (or a failed attempt).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Version {
    /// The JVM's compile id.
    pub compile_id: u64,
    /// The tier: 0 native wrapper, 1 to 3 C1, 4 C2.
    pub level: Option<u8>,
    /// Which compiler.
    pub compiler: Option<Compiler>,
    /// Whether it is an on-stack-replacement version (entered in the middle of a loop).
    pub osr: bool,
    /// The OSR entry's bytecode index, when the input says.
    pub osr_bci: Option<u32>,
    /// When the compile was requested.
    pub queued_ms: Option<Ms>,
    /// When the compiler started on it.
    pub start_ms: Option<Ms>,
    /// How long it compiled.
    pub duration_ms: Option<Ms>,
    /// The size of the code made (nmethod bytes), when installed.
    pub code_size: Option<u64>,
    /// The method's bytecode size.
    pub bytecode_size: Option<u64>,
    /// Bytecode bytes inlined into it.
    pub inlined_bytes: Option<u64>,
    /// Index of the compiler thread in [`Timeline::threads`].
    pub thread: Option<u32>,
    /// Why the compile failed, when it did.
    pub failure: Option<String>,
    /// How this version's life ended, if it did within the input.
    pub end: Option<End>,
}

impl Version {
    /// Whether the compile produced code.
    pub fn installed(&self) -> bool {
        self.failure.is_none()
    }

    /// When its code started to run, as near as the input tells.
    pub fn installed_ms(&self) -> Option<Ms> {
        match (self.start_ms, self.duration_ms) {
            (Some(s), Some(d)) => Some(s + d),
            (s, _) => s.or(self.queued_ms),
        }
    }
}

/// Why a version stopped being used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndKind {
    /// Replaced by code of a higher tier (`not used`, `OSR invalidation of lower level`).
    TierUp,
    /// Thrown away after an uncommon trap (`uncommon trap`, or a trap seen before it).
    Trap,
    /// Invalidated without a trap: a broken class-hierarchy or other dependency, a class
    /// redefinition, or all code marked at once (`marked for deoptimization`).
    Dependency,
    /// Anything else the JVM said (`set native function`, `whitebox deoptimization`, ...).
    Other,
}

/// How a version ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct End {
    /// When, as near as the input tells.
    pub at_ms: Option<Ms>,
    /// The kind of end.
    pub kind: EndKind,
    /// The JVM's own words (`made not entrant: <reason>`), or hch's inference.
    pub reason: String,
    /// The version that replaced it, when one did.
    pub replaced_by: Option<u64>,
    /// Whether the JVM said so (a log line); `false` when hch inferred it.
    pub observed: bool,
}

/// One deoptimization: an uncommon trap in compiled code, or a frame deoptimized because its
/// code was invalidated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deopt {
    /// When.
    pub at_ms: Ms,
    /// The compile id of the code that trapped.
    pub compile_id: Option<u64>,
    /// Its tier.
    pub level: Option<u8>,
    /// The trap reason, e.g. `unstable_if`, `class_check` (`constraint` for a frame).
    pub reason: String,
    /// What the JVM did: `none`, `maybe_recompile`, `reinterpret`, `make_not_entrant`,
    /// `make_not_compilable`.
    pub action: Option<String>,
    /// The bytecode index of the trap.
    pub bci: Option<i64>,
    /// The source line, when the input says.
    pub line: Option<i64>,
    /// The bytecode instruction, e.g. `ifge`.
    pub instruction: Option<String>,
    /// The method the trap lies in when it was inlined into another one.
    pub inlined: Option<String>,
    /// A frame deoptimized because its code was invalidated, not a trap of its own.
    pub frame: bool,
}

impl Deopt {
    /// Whether the JVM threw the code away for this trap (rather than only counting it).
    pub fn invalidates(&self) -> bool {
        matches!(
            self.action.as_deref(),
            Some("reinterpret" | "make_not_entrant" | "make_not_compilable")
        )
    }
}

/// What a method was left with at the end of the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum State {
    /// Compiled code runs: the newest live version.
    Compiled {
        /// Its tier.
        level: Option<u8>,
        /// Its compile id.
        compile_id: u64,
        /// Whether only an OSR version is live.
        osr: bool,
    },
    /// Every version ended: the method runs in the interpreter (until compiled again).
    Deoptimized {
        /// When the last version ended.
        at_ms: Option<Ms>,
        /// Why.
        reason: String,
    },
    /// Every compile of it failed.
    Failed {
        /// The last failure.
        reason: String,
    },
    /// Nothing tells (e.g. only deoptimizations of code compiled before the recording).
    Unknown,
}

/// A method's life on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Method {
    /// `pkg.Class.name(descriptor)`; without the descriptor when the input has none.
    pub name: String,
    /// Its compiles, oldest first.
    pub versions: Vec<Version>,
    /// Its deoptimizations, oldest first.
    pub deopts: Vec<Deopt>,
    /// Where it ended up.
    pub state: State,
}

/// A code heap's occupancy at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheSample {
    /// When.
    pub at_ms: Ms,
    /// The code heap (`profiled nmethods`, ...) or `all`.
    pub heap: String,
    /// Bytes in use, when known.
    pub used: Option<u64>,
    /// Bytes free.
    pub free: Option<u64>,
    /// The heap's reserved size.
    pub capacity: Option<u64>,
    /// nmethods in it.
    pub methods: Option<u64>,
}

/// Something that happened to the code cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheEventKind {
    /// A code heap was full.
    Full,
    /// Compilation was disabled (after a full cache).
    Disabled,
    /// The compilers were started again after code was freed (`jdk.JITRestart`).
    Restart,
}

/// A code cache event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheEvent {
    /// When, if the input says.
    pub at_ms: Option<Ms>,
    /// What.
    pub kind: CacheEventKind,
    /// Which heap, if the input says.
    pub heap: Option<String>,
    /// More, in words.
    pub detail: Option<String>,
}

/// A compiler's queue at one moment (`jdk.CompilerQueueUtilization`, JDK 21+).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueSample {
    /// When.
    pub at_ms: Ms,
    /// `c1` or `c2`.
    pub compiler: Compiler,
    /// Requests waiting.
    pub size: u64,
    /// The most waiting since the last sample.
    pub peak: Option<u64>,
    /// Requests added per second.
    pub added_per_s: Option<f64>,
    /// Requests done per second.
    pub removed_per_s: Option<f64>,
    /// Its threads.
    pub threads: Option<u64>,
}

/// Something on the axis that may explain what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    /// The JFR recording started.
    RecordingStart,
    /// Classes were redefined or retransformed (by an agent, a debugger, or JFR itself).
    Redefinition,
    /// Code was marked for deoptimization at once (`Marked all nmethods for deopt`).
    MarkedForDeopt,
    /// A dependency of compiled code failed: a class loaded that breaks a class-hierarchy
    /// assumption (LogCompilation's `dependency_failed`).
    DependencyFailed,
}

/// A marker on the axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marker {
    /// When.
    pub at_ms: Ms,
    /// What.
    pub kind: MarkerKind,
    /// In words.
    pub detail: String,
}

/// Everything read from one input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timeline {
    /// What the input was.
    pub source: Source,
    /// Methods, by name.
    pub methods: Vec<Method>,
    /// Compiler thread names ([`Version::thread`] indexes them).
    pub threads: Vec<String>,
    /// Code heap occupancy over time.
    pub code_cache: Vec<CacheSample>,
    /// Full, disabled and restart events.
    pub cache_events: Vec<CacheEvent>,
    /// Compile queue samples.
    pub queues: Vec<QueueSample>,
    /// Markers (recording start, redefinitions, failed dependencies), in time order.
    pub markers: Vec<Marker>,
}
