//! A code cache snapshot of a live JVM: `Compiler.codecache`, `Compiler.codelist` and
//! `Compiler.CodeHeap_Analytics`, parsed by `hch-codecache`. The analytics make the JVM keep a
//! snapshot of its heaps in memory, so they are always followed by `discard`, whatever
//! happened in between.

use hch_codecache::analytics::{self, Analytics};
use hch_codecache::codecache::{self as cc, CodeCache};
use hch_codecache::codelist::{self, Codelist};

use crate::{Target, TargetError};

/// What was read from one JVM at one time.
#[derive(Debug)]
pub struct Snapshot {
    /// Compiler.codecache.
    pub cache: CodeCache,
    /// Compiler.codelist, when taken.
    pub list: Option<Codelist>,
    /// Compiler.CodeHeap_Analytics, when taken and readable.
    pub analytics: Option<Analytics>,
    /// What could not be read, in words (the rest of the snapshot is sound).
    pub notes: Vec<String>,
}

/// The JDK feature release from `VM.version` (the `JDK 17.0.15` line), if it can be read.
pub fn feature(t: &mut dyn Target) -> Option<u32> {
    let text = t.jcmd("VM.version").ok()?;
    let v = text.lines().find_map(|l| l.trim().strip_prefix("JDK "))?;
    hch_attach::procfs::feature_of(v)
}

/// Takes a snapshot: the summary always, the codelist and analytics when asked. `jdk` picks
/// the codelist's state numbering (17 and 25 differ).
pub fn snapshot(
    t: &mut dyn Target,
    jdk: Option<u32>,
    with_list: bool,
    with_analytics: bool,
) -> Result<Snapshot, TargetError> {
    let unreadable = |t: &dyn Target, command: &str, e: String| TargetError::CommandFailed {
        target: t.describe(),
        command: command.into(),
        output: format!("hch cannot read the answer: {e}"),
    };
    let text = t.jcmd("Compiler.codecache")?;
    let cache = cc::parse(&text).map_err(|e| unreadable(t, "Compiler.codecache", e.to_string()))?;
    let list = if with_list {
        let text = t.jcmd("Compiler.codelist")?;
        let list = parse_codelist(&text, jdk)
            .map_err(|e| unreadable(t, "Compiler.codelist", e.to_string()))?;
        Some(list)
    } else {
        None
    };
    let mut notes = Vec::new();
    let analytics = if with_analytics {
        heap_analytics(t, &mut notes)?
    } else {
        None
    };
    Ok(Snapshot {
        cache,
        list,
        analytics,
        notes,
    })
}

/// Parses codelist text with the JDK's state mapping when known.
pub fn parse_codelist(text: &str, jdk: Option<u32>) -> Result<Codelist, hch_codecache::ParseError> {
    match jdk {
        Some(f) => codelist::parse_for(text, f),
        None => codelist::parse(text),
    }
}

/// Runs the aggregate and free-space analytics, and always discards the JVM's snapshot after.
/// A JVM that refuses the command (too old, or a remote one without it) gives `None`.
fn heap_analytics(
    t: &mut dyn Target,
    notes: &mut Vec<String>,
) -> Result<Option<Analytics>, TargetError> {
    let aggregate = t.jcmd("Compiler.CodeHeap_Analytics aggregate");
    let free = aggregate
        .as_ref()
        .ok()
        .map(|_| t.jcmd("Compiler.CodeHeap_Analytics FreeSpace"));
    let discard = t.jcmd(analytics::DISCARD);
    let (Ok(a), Some(Ok(f))) = (aggregate, free) else {
        notes.push(
            "the JVM gave no heap analytics (Compiler.CodeHeap_Analytics): no free-space figures"
                .into(),
        );
        return Ok(None);
    };
    discard?;
    // The analytics only add figures: a text hch cannot read is a note, not a failure.
    match analytics::parse(&format!("{a}\n{f}")) {
        Ok(a) => Ok(Some(a)),
        Err(e) => {
            notes.push(format!("no free-space figures: {e}"));
            Ok(None)
        }
    }
}
