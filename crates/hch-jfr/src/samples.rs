//! The fast path for CPU samples: stacks aggregated per chunk, merged deterministically.

use serde::Serialize;

/// The kind of a stack frame, as HotSpot and async-profiler write it in `jdk.types.FrameType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum FrameKind {
    /// "Interpreted".
    Interpreted,
    /// "JIT compiled": any compiled code in HotSpot files, C2 (level 4) in async-profiler files.
    JitCompiled,
    /// "C1 compiled": async-profiler only (levels 1 to 3).
    C1Compiled,
    /// "Inlined" into its caller's compiled code.
    Inlined,
    /// "Native" (a JNI method).
    Native,
    /// "C++" (async-profiler: VM code).
    Cpp,
    /// "Kernel" (async-profiler).
    Kernel,
    /// Anything else, or no type at all.
    Unknown,
}

impl FrameKind {
    /// Maps the frame type description string of a recording.
    pub fn from_description(s: &str) -> FrameKind {
        match s {
            "Interpreted" => FrameKind::Interpreted,
            "JIT compiled" => FrameKind::JitCompiled,
            "C1 compiled" => FrameKind::C1Compiled,
            "Inlined" => FrameKind::Inlined,
            "Native" => FrameKind::Native,
            "C++" => FrameKind::Cpp,
            "Kernel" => FrameKind::Kernel,
            _ => FrameKind::Unknown,
        }
    }

    /// The description string as written in recordings.
    pub fn description(self) -> &'static str {
        match self {
            FrameKind::Interpreted => "Interpreted",
            FrameKind::JitCompiled => "JIT compiled",
            FrameKind::C1Compiled => "C1 compiled",
            FrameKind::Inlined => "Inlined",
            FrameKind::Native => "Native",
            FrameKind::Cpp => "C++",
            FrameKind::Kernel => "Kernel",
            FrameKind::Unknown => "Unknown",
        }
    }
}

/// A method, resolved to strings. Class names are in JVM internal form (`java/util/Random`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MethodInfo {
    /// Class name, internal form with `/`; for native frames of async-profiler, the library.
    pub class: String,
    /// Method name.
    pub name: String,
    /// JVM descriptor such as `(J)J`; empty when the producer wrote none.
    pub descriptor: String,
    /// Whether the class is hidden (lambdas): such names are not stable across runs.
    pub hidden: bool,
}

/// One frame of a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Frame {
    /// Index into [`SampleProfile::methods`].
    pub method: u32,
    /// Source line, or -1/0 when unknown.
    pub line: i32,
    /// Bytecode index.
    pub bci: i32,
    /// Frame type.
    pub kind: FrameKind,
}

/// A distinct stack and how many samples had it. `frames[0]` is the leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stack {
    /// Frames, leaf first.
    pub frames: Vec<Frame>,
    /// Whether the JVM cut the root side off (stack depth limit).
    pub truncated: bool,
    /// Samples with this stack.
    pub samples: u64,
}

/// Which sample events to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum SampleEvent {
    /// `jdk.ExecutionSample`: threads running Java code (the CPU profile).
    Execution,
    /// `jdk.CPUTimeSample` (JDK 25+, experimental).
    CpuTime,
    /// `jdk.NativeMethodSample`: threads in native code.
    NativeMethod,
}

impl SampleEvent {
    /// The event type name in recordings.
    pub fn type_name(self) -> &'static str {
        match self {
            SampleEvent::Execution => "jdk.ExecutionSample",
            SampleEvent::CpuTime => "jdk.CPUTimeSample",
            SampleEvent::NativeMethod => "jdk.NativeMethodSample",
        }
    }
}

/// Facts about the JVM that made a recording, as far as the recording tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JvmFacts {
    /// `jdk.JVMInformation.jvmVersion`.
    pub jvm_version: Option<String>,
    /// `jdk.JVMInformation.jvmArguments`.
    pub jvm_arguments: Option<String>,
    /// `DebugNonSafepoints` from a `jdk.BooleanFlag` event or the arguments; `None` if unknown.
    pub debug_non_safepoints: Option<bool>,
    /// The sampling period of the sample events in nanoseconds (from the recording's settings),
    /// when the recording says.
    pub sample_period_ns: Option<u64>,
    /// Which producer wrote the recording: `"jdk"` or `"async-profiler"`.
    pub producer: Option<String>,
}

/// All samples of a recording, aggregated: distinct methods and distinct stacks with counts.
/// Deterministic: the same file gives the same order, however many threads parsed it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SampleProfile {
    /// Distinct methods, sorted.
    pub methods: Vec<MethodInfo>,
    /// Distinct stacks with their sample counts.
    pub stacks: Vec<Stack>,
    /// Total samples read.
    pub total_samples: u64,
    /// What the recording tells about its JVM.
    pub facts: JvmFacts,
}

/// Merges per-chunk results, fed in chunk order, into one deterministic profile.
#[derive(Debug, Default)]
pub(crate) struct Merger {
    methods: rustc_hash::FxHashMap<MethodInfo, u32>,
    stacks: rustc_hash::FxHashMap<(Vec<Frame>, bool), u64>,
    out: SampleProfile,
}

impl Merger {
    /// Adds one chunk's samples.
    pub(crate) fn add(&mut self, part: crate::collect::ChunkSamples) {
        let methods = &mut self.methods;
        let remap: Vec<u32> = part
            .methods
            .into_iter()
            .map(|m| {
                let n = methods.len() as u32;
                *methods.entry(m).or_insert(n)
            })
            .collect();
        for s in part.stacks {
            let frames = s
                .frames
                .iter()
                .map(|f| Frame {
                    method: remap[f.method as usize],
                    ..*f
                })
                .collect();
            *self.stacks.entry((frames, s.truncated)).or_insert(0) += s.samples;
        }
        self.out.total_samples += part.total;
        merge_facts(&mut self.out.facts, part.facts);
    }

    /// Sorts methods, then renumbers and sorts stacks, so the result does not depend on chunk
    /// or hash order.
    pub(crate) fn finish(self) -> SampleProfile {
        let mut out = self.out;
        let mut by_name: Vec<(MethodInfo, u32)> = self.methods.into_iter().collect();
        by_name.sort();
        let mut renumber = vec![0u32; by_name.len()];
        for (new, (_, old)) in by_name.iter().enumerate() {
            renumber[*old as usize] = new as u32;
        }
        out.methods = by_name.into_iter().map(|(m, _)| m).collect();
        out.stacks = self
            .stacks
            .into_iter()
            .map(|((frames, truncated), samples)| Stack {
                frames: frames
                    .into_iter()
                    .map(|f| Frame {
                        method: renumber[f.method as usize],
                        ..f
                    })
                    .collect(),
                truncated,
                samples,
            })
            .collect();
        out.stacks
            .sort_by(|a, b| (&a.frames, a.truncated).cmp(&(&b.frames, b.truncated)));
        out
    }
}

/// Keeps the first fact each chunk offers; the sampling period is the smallest seen.
fn merge_facts(into: &mut JvmFacts, f: JvmFacts) {
    into.jvm_version = into.jvm_version.take().or(f.jvm_version);
    into.jvm_arguments = into.jvm_arguments.take().or(f.jvm_arguments);
    into.debug_non_safepoints = into.debug_non_safepoints.or(f.debug_non_safepoints);
    into.producer = into.producer.take().or(f.producer);
    into.sample_period_ns = match (into.sample_period_ns, f.sample_period_ns) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}
