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

/// How much of each stack to resolve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum StackDepth {
    /// Every frame, leaf to root (collapsed stacks, flame graphs).
    #[default]
    Full,
    /// From the leaf through its host: the first frame that is not `Inlined`, i.e. the code
    /// blob the CPU was in. Enough for flat profiles and hot sets, and much cheaper: deeper
    /// frames are neither decoded nor merged. `Stack::truncated` still tells the JVM's cut.
    Host,
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

/// A method named by borrowed strings: looked up in a [`Merger`] without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MethodKey<'s> {
    pub class: &'s str,
    pub name: &'s str,
    pub descriptor: &'s str,
    pub hidden: bool,
}

impl MethodKey<'_> {
    fn of(m: &MethodInfo) -> MethodKey<'_> {
        MethodKey {
            class: &m.class,
            name: &m.name,
            descriptor: &m.descriptor,
            hidden: m.hidden,
        }
    }

    fn hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        (self.class, self.name, self.descriptor, self.hidden).hash(&mut h);
        h.finish()
    }
}

/// One chunk's stacks, resolved but not yet counted: frames laid end to end, each stack a
/// range of them. Kept in the [`Merger`] and reused from chunk to chunk.
#[derive(Debug, Default)]
pub(crate) struct ChunkStacks {
    pub frames: Vec<Frame>,
    /// (first frame, frame count, truncated, samples).
    pub stacks: Vec<(usize, usize, bool, u64)>,
}

/// Accumulates the samples of chunks, in any order and on any thread, into one profile that
/// does not depend on that order: counts are sums, methods and stacks are sorted at the end,
/// and each fact comes from the lowest chunk that has it. Methods are interned as they are
/// resolved, so a method already known costs no allocation.
#[derive(Debug, Default)]
pub(crate) struct Merger {
    methods: Vec<MethodInfo>,
    method_table: hashbrown::HashTable<u32>,
    /// Stacks by frames, one map for whole stacks and one for truncated ones.
    stacks: [rustc_hash::FxHashMap<Vec<Frame>, u64>; 2],
    total: u64,
    facts: Vec<(usize, JvmFacts)>,
    buf: Vec<Frame>,
    /// The chunk being read: committed only once the whole chunk has been resolved.
    pub(crate) pending: ChunkStacks,
    /// What the last chunk's resolver held, to size the next one's tables.
    pub(crate) resolver_sizes: [usize; 3],
}

impl Merger {
    /// The index of a method, added if new.
    pub(crate) fn method(&mut self, k: MethodKey<'_>) -> u32 {
        let hash = k.hash();
        let methods = &self.methods;
        if let Some(&i) = self
            .method_table
            .find(hash, |&i| MethodKey::of(&methods[i as usize]) == k)
        {
            return i;
        }
        let i = self.methods.len() as u32;
        self.methods.push(MethodInfo {
            class: k.class.to_owned(),
            name: k.name.to_owned(),
            descriptor: k.descriptor.to_owned(),
            hidden: k.hidden,
        });
        let methods = &self.methods;
        self.method_table
            .insert_unique(hash, i, |&j| MethodKey::of(&methods[j as usize]).hash());
        i
    }

    /// Counts a stack; allocates only for a stack not seen before.
    fn count_stack(&mut self, frames: &[Frame], truncated: bool, samples: u64) {
        let map = &mut self.stacks[usize::from(truncated)];
        match map.get_mut(frames) {
            Some(n) => *n += samples,
            None => {
                map.insert(frames.to_vec(), samples);
            }
        }
    }

    /// Counts the pending stacks of chunk `index` (whose frames already use this merger's
    /// method indices), its sample total and its facts.
    pub(crate) fn commit(&mut self, index: usize, total: u64, facts: JvmFacts) {
        let pending = std::mem::take(&mut self.pending);
        for &(start, len, truncated, samples) in &pending.stacks {
            self.count_stack(&pending.frames[start..start + len], truncated, samples);
        }
        self.pending = pending;
        self.total += total;
        self.facts.push((index, facts));
    }

    /// Adds everything another merger collected.
    pub(crate) fn absorb(&mut self, other: Merger) {
        let remap: Vec<u32> = other
            .methods
            .iter()
            .map(|m| self.method(MethodKey::of(m)))
            .collect();
        for (t, map) in other.stacks.into_iter().enumerate() {
            for (frames, n) in map {
                let mut buf = std::mem::take(&mut self.buf);
                buf.clear();
                buf.extend(frames.iter().map(|f| Frame {
                    method: remap[f.method as usize],
                    ..*f
                }));
                self.count_stack(&buf, t == 1, n);
                self.buf = buf;
            }
        }
        self.total += other.total;
        self.facts.extend(other.facts);
    }

    /// Sorts the methods that stacks use, then renumbers and sorts stacks.
    pub(crate) fn finish(mut self) -> SampleProfile {
        let mut out = SampleProfile {
            total_samples: self.total,
            ..Default::default()
        };
        self.facts.sort_by_key(|(i, _)| *i);
        for (_, f) in self.facts {
            merge_facts(&mut out.facts, f);
        }
        // A chunk that failed half-way may have interned methods no counted stack uses.
        let mut used = vec![false; self.methods.len()];
        for f in self.stacks.iter().flat_map(|m| m.keys()).flatten() {
            used[f.method as usize] = true;
        }
        let mut by_name: Vec<(MethodInfo, u32)> = self
            .methods
            .into_iter()
            .zip(0u32..)
            .filter(|(_, i)| used[*i as usize])
            .collect();
        by_name.sort();
        let mut renumber = vec![0u32; used.len()];
        for (new, (_, old)) in by_name.iter().enumerate() {
            renumber[*old as usize] = new as u32;
        }
        out.methods = by_name.into_iter().map(|(m, _)| m).collect();
        for (t, map) in self.stacks.into_iter().enumerate() {
            out.stacks.extend(map.into_iter().map(|(frames, samples)| {
                Stack {
                    frames: frames
                        .into_iter()
                        .map(|f| Frame {
                            method: renumber[f.method as usize],
                            ..f
                        })
                        .collect(),
                    truncated: t == 1,
                    samples,
                }
            }));
        }
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
