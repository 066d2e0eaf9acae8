//! The profile model that every input fills: distinct methods, distinct stacks with sample
//! counts and counters, and what each input told about its JVM.

use std::collections::HashMap;
use std::path::PathBuf;

use hch_jfr::{Frame, JvmFacts, MethodInfo, SampleProfile};
use serde::Serialize;

/// What the counter column counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Units {
    /// Nanoseconds of CPU: samples times the sampling period of each recording.
    Ns,
    /// Plain counts (collapsed inputs, or recordings that did not say their period).
    Total,
}

impl Units {
    /// The units string of async-profiler's flat header (`ns`, or `total` for plain counts).
    pub fn label(self) -> &'static str {
        match self {
            Units::Ns => "ns",
            Units::Total => "total",
        }
    }
}

/// The format of one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum InputFormat {
    /// A JFR recording (JDK- or async-profiler-written).
    Jfr,
    /// Collapsed stacks: `frame;frame;leaf count` lines.
    Collapsed,
    /// async-profiler's flat text (`-o flat`): leaf frames and their samples, no stacks.
    FlatText,
    /// pprof's `profile.proto`, gzipped or not (Go, Pyroscope, Parca, async-profiler's converter).
    Pprof,
}

/// One input that went into a profile.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    /// Where it came from (a path, or a description such as `live recording`).
    pub source: PathBuf,
    /// Its format.
    pub format: InputFormat,
    /// Samples it contributed.
    pub samples: u64,
    /// What the recording tells about its JVM (empty for collapsed stacks).
    pub facts: JvmFacts,
    /// Whether frame types were known (JFR, or annotated collapsed stacks).
    pub frame_kinds_known: bool,
}

/// A distinct stack: frames leaf first, how many samples had it, and their counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stack {
    /// Frames, leaf first; `method` indexes [`Profile::methods`].
    pub frames: Vec<Frame>,
    /// Samples with this stack.
    pub samples: u64,
    /// Nanoseconds (samples times the input's period), when the input told its period.
    pub ns: Option<u64>,
}

/// CPU samples of one or more inputs, merged.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Profile {
    /// Distinct methods.
    pub methods: Vec<MethodInfo>,
    /// Distinct stacks (not merged across inputs; the views aggregate).
    pub stacks: Vec<Stack>,
    /// Total samples.
    pub total_samples: u64,
    /// The inputs, in the order given.
    pub inputs: Vec<Input>,
    #[serde(skip)]
    index: HashMap<MethodInfo, u32>,
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Profile {
        Profile::default()
    }

    /// The index of a method, adding it when new.
    pub fn intern(&mut self, m: MethodInfo) -> u32 {
        if let Some(&i) = self.index.get(&m) {
            return i;
        }
        let i = self.methods.len() as u32;
        self.index.insert(m.clone(), i);
        self.methods.push(m);
        i
    }

    /// Adds the samples of a recording, remapping its method indexes into this profile.
    pub fn add_samples(&mut self, source: PathBuf, sp: &SampleProfile) {
        let map: Vec<u32> = sp.methods.iter().map(|m| self.intern(m.clone())).collect();
        let period = sp.facts.sample_period_ns;
        let mut added = 0u64;
        for st in &sp.stacks {
            // A frame pointing past the method table is the reader's bug; drop the frame.
            let frames = st
                .frames
                .iter()
                .filter_map(|f| {
                    map.get(f.method as usize)
                        .map(|&m| Frame { method: m, ..*f })
                })
                .collect();
            self.push_stack(frames, st.samples, period);
            added = added.saturating_add(st.samples);
        }
        let samples = sp.total_samples.max(added);
        self.total_samples = self.total_samples.saturating_add(samples);
        self.inputs.push(Input {
            source,
            format: InputFormat::Jfr,
            samples,
            facts: sp.facts.clone(),
            frame_kinds_known: true,
        });
    }

    /// Adds one stack; `period_ns` turns samples into nanoseconds.
    pub fn push_stack(&mut self, frames: Vec<Frame>, samples: u64, period_ns: Option<u64>) {
        let ns = period_ns.map(|p| p.saturating_mul(samples));
        self.stacks.push(Stack {
            frames,
            samples,
            ns,
        });
    }

    /// Adds one stack whose nanoseconds are known as such (async-profiler's flat counters).
    pub fn push_stack_ns(&mut self, frames: Vec<Frame>, samples: u64, ns: Option<u64>) {
        self.stacks.push(Stack {
            frames,
            samples,
            ns,
        });
    }

    /// Records an input whose stacks were pushed with [`Profile::push_stack`].
    pub fn add_input(&mut self, input: Input) {
        self.total_samples = self.total_samples.saturating_add(input.samples);
        self.inputs.push(input);
    }

    /// Units of the counter column: nanoseconds only when every stack has them.
    pub fn units(&self) -> Units {
        if !self.stacks.is_empty() && self.stacks.iter().all(|s| s.ns.is_some()) {
            Units::Ns
        } else {
            Units::Total
        }
    }

    /// The counter of one stack in the given units.
    pub fn counter(&self, s: &Stack, units: Units) -> u64 {
        match units {
            Units::Ns => s.ns.unwrap_or(0),
            Units::Total => s.samples,
        }
    }

    /// Merges another profile into this one.
    pub fn merge(&mut self, other: Profile) {
        let map: Vec<u32> = other
            .methods
            .iter()
            .map(|m| self.intern(m.clone()))
            .collect();
        for mut st in other.stacks {
            for f in &mut st.frames {
                f.method = map.get(f.method as usize).copied().unwrap_or(f.method);
            }
            self.stacks.push(st);
        }
        self.total_samples = self.total_samples.saturating_add(other.total_samples);
        self.inputs.extend(other.inputs);
    }
}
