//! From inputs to results: the profile, its flat view, the hot set, directives and warnings.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::directives::{self, Dialect, Directives};
use crate::flat::{self, Flat};
use crate::hotset::{self, HotOptions, HotSet, Sizes};
use crate::model::{InputFormat, Profile};
use crate::{input, Error};

/// What to compute.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Limits of the hot set.
    pub hot: HotOptions,
    /// Blob sizes from a `Compiler.codelist` (empty: the design's 4 KB average).
    pub sizes: Sizes,
    /// Which directive options to write.
    pub dialect: Dialect,
    /// Frame type suffixes in the flat view (`-a`).
    pub annotate: bool,
    /// Keep whole stacks (for collapsed output). Off, recordings are resolved from each leaf
    /// through its host frame only: all the flat view and the hot set use, and much faster.
    pub full_stacks: bool,
}

impl AnalyzeOptions {
    fn depth(&self) -> hch_jfr::StackDepth {
        if self.full_stacks {
            hch_jfr::StackDepth::Full
        } else {
            hch_jfr::StackDepth::Host
        }
    }
}

/// Everything an analysis found.
#[derive(Debug, Serialize)]
pub struct Analysis {
    /// The merged samples.
    #[serde(skip)]
    pub profile: Profile,
    /// The flat profile (all rows).
    pub flat: Flat,
    /// The hot set.
    pub hot: HotSet,
    /// Directives for the hot set.
    pub directives: Directives,
    /// Things the user must know to trust the results (profile bias, missing frame types).
    pub warnings: Vec<String>,
    /// The error that stopped reading an input early; the results above are the sound part.
    #[serde(skip)]
    pub error: Option<Error>,
}

/// Directives (and the flat profile) from recordings or collapsed stacks, merged.
/// `Err` only when an input could not be read at all; a later broken chunk is `Analysis::error`.
pub fn from_recordings(paths: &[PathBuf], opts: &AnalyzeOptions) -> Result<Analysis, Error> {
    let mut profile = Profile::new();
    let mut first_error = None;
    for p in paths {
        let partial = input::read_into(&mut profile, p, opts.depth())?;
        if first_error.is_none() {
            first_error = partial;
        }
    }
    let mut a = analyze(profile, opts);
    a.error = first_error;
    Ok(a)
}

/// Directives from the bytes of a recording a live JVM handed back (`JFR.dump` through a
/// target); `source` names it in messages. Read in memory: nothing is written anywhere.
pub fn from_live_recording(
    bytes: Vec<u8>,
    source: &Path,
    opts: &AnalyzeOptions,
) -> Result<Analysis, Error> {
    let mut profile = Profile::new();
    let file = hch_jfr::JfrFile::from_bytes(bytes);
    let partial = input::read_jfr(&mut profile, source, &file, opts.depth())?;
    let mut a = analyze(profile, opts);
    a.error = partial;
    Ok(a)
}

/// The views of a profile.
pub fn analyze(profile: Profile, opts: &AnalyzeOptions) -> Analysis {
    let flat = flat::flat(&profile, opts.annotate);
    let hot = hotset::hot_set(&profile, &opts.hot, &opts.sizes);
    let directives = directives::for_hot_set(&hot, opts.dialect);
    let warnings = warnings(&profile);
    Analysis {
        profile,
        flat,
        hot,
        directives,
        warnings,
        error: None,
    }
}

/// Profile bias and missing information, said plainly.
fn warnings(p: &Profile) -> Vec<String> {
    let mut w = Vec::new();
    let many = p.inputs.len() > 1;
    for i in &p.inputs {
        // With one input the user knows which file it is (and `record`'s is a temporary one).
        let src = if many {
            format!("{}: ", i.source.display())
        } else {
            String::new()
        };
        match i.format {
            InputFormat::Jfr => {
                if let Some(msg) = bias_warning(&i.facts) {
                    w.push(format!("{src}{msg}"));
                }
                if i.samples == 0 {
                    w.push(format!("{src}no jdk.ExecutionSample events: record with method sampling on (`hch record`, or JFR settings=profile)"));
                }
            }
            InputFormat::Collapsed | InputFormat::FlatText | InputFormat::Pprof
                if !i.frame_kinds_known => w.push(format!(
                "{src}no frame types (`_[j]` annotations): every Java leaf frame is taken as compiled code; record with async-profiler `-a` to tell inlined and interpreted frames apart"
            )),
            _ => {}
        }
        if i.format == InputFormat::FlatText {
            w.push(format!(
                "{src}flat text has no stacks: an inlined leaf (`_[i]`) is not counted for its unknown host, and rows the file left out are not candidates; give collapsed stacks or the JFR file for a full hot set"
            ));
        }
    }
    w
}

/// The `DebugNonSafepoints` warning for a JDK-written recording, if it applies.
pub fn bias_warning(f: &hch_jfr::JvmFacts) -> Option<String> {
    if f.producer.as_deref().is_some_and(|p| p != "jdk") {
        return None;
    }
    let measured = "measured here on a uniform 400-method workload, JDK 17 without it kept only 6% of the samples and JDK 25 put 97% of them on callers' call sites (63 or 66 distinct top methods instead of ~470). Record with `hch record`, or start the JVM with -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints";
    match f.debug_non_safepoints {
        Some(true) => None,
        Some(false) => Some(format!("recorded with DebugNonSafepoints off: the profile is biased to safepoint polls, not where the time goes; {measured}.")),
        None => Some(format!("the recording does not say whether DebugNonSafepoints was on; if it was off, the profile is biased: {measured}.")),
    }
}

/// Writes a directives file (the design's "dump"); refuses an empty hot set, which HotSpot
/// would reject ("No directives in file").
pub fn dump(path: &Path, d: &Directives) -> Result<(), Error> {
    if d.is_empty() {
        let e = std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the hot set is empty: no directives to write (a JVM refuses an empty file)",
        );
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: e,
        });
    }
    std::fs::write(path, d.to_json()).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}
