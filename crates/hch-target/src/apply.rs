//! Check and apply: the one way directives reach a JVM, used by `hch directives add|replace`,
//! `hch profile --apply` and the agent.
//!
//! Everything that can fail is checked before the JVM's directive stack changes:
//! [`preflight`] judges the file with hch's rules for *this* JVM (its release and where it can
//! put hot code), counts room on the stack (`CompilerDirectivesLimit`) and knows where the
//! file will come from. [`apply`] then adds; a replace first adds the new file on top as a
//! trial (the JVM's own parser and file access decide), pops it, and only then clears and adds
//! for real. If that last add still fails, the error says what the stack holds now and how to
//! restore what it held.

use hch_profile::{check, CheckTarget, Dialect, Report};
use serde::Serialize;

use crate::directives::{self, count_in_print, count_in_response, DirectivesOutcome};
use crate::info::JvmInfo;
use crate::{Target, TargetError};

/// How the file joins the JVM's directive stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyMode {
    /// Push the file's directives on top of the stack (`Compiler.directives_add`).
    Add,
    /// Replace the whole stack with the file's directives (repeated profiles do not pile up;
    /// the design's `Compiler.replace_directives`, which no JDK has).
    Replace,
}

/// Where the JVM reads the file from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// hch places it where the JVM can read it (a local JVM's `/tmp`) and removes it after.
    Placed,
    /// The file already lies at this path on the JVM's host (a remote JVM): hch checks its
    /// local copy and the JVM reads the path.
    RemotePath(String),
}

/// What is to be applied.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The directives text (for a remote path, hch's local copy of the same file).
    pub text: &'a str,
    /// Add or replace.
    pub mode: ApplyMode,
    /// Where the JVM reads it from.
    pub placement: Placement,
}

/// Where a JVM can put hot code, and so which dialect it accepts and acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HotPlacement {
    /// Alibaba Dragonwell with `-XX:NonProfiledHotCodeHeapSize` above 0: directives with
    /// `AllocInNonProfiledHotCodeHeap` place C2 code in its hot heap.
    Dragonwell {
        /// The hot heap's size in bytes.
        size: u64,
    },
    /// Dragonwell with its hot heap off (`NonProfiledHotCodeHeapSize=0`).
    DragonwellOff,
    /// A JVM that accepts the design's `Hot` option (found by a trial add).
    DesignHot,
    /// JDK 27's experimental hot code heap: the VM picks hot code by its own sampling and
    /// takes no directives for it.
    VmSampled {
        /// Whether `-XX:+HotCodeHeap` is on.
        enabled: bool,
    },
    /// A stock JVM: no hot code heap at all.
    None,
}

impl HotPlacement {
    /// From the flags alone (the design's `Hot` needs [`probe_hot_option`]).
    pub fn of(info: &JvmInfo) -> HotPlacement {
        match (info.dragonwell_hot_heap, &info.hot_code_heap) {
            (Some(0), _) => HotPlacement::DragonwellOff,
            (Some(size), _) => HotPlacement::Dragonwell { size },
            (None, Some(h)) => HotPlacement::VmSampled { enabled: h.enabled },
            (None, None) => HotPlacement::None,
        }
    }

    /// The dialect this JVM accepts and acts on.
    pub fn dialect(self) -> Dialect {
        match self {
            HotPlacement::Dragonwell { .. } | HotPlacement::DragonwellOff => Dialect::Dragonwell,
            HotPlacement::DesignHot => Dialect::Hot,
            HotPlacement::VmSampled { .. } | HotPlacement::None => Dialect::Stock,
        }
    }

    /// What applying hot-set directives does on this JVM, in one plain line.
    pub fn effect(self) -> String {
        match self {
            HotPlacement::Dragonwell { size } => format!(
                "this Dragonwell JVM places the C2 code of these methods in its {} MiB hot heap as they are compiled from now on (code compiled before stays where it is)",
                size >> 20
            ),
            HotPlacement::DragonwellOff => "this Dragonwell JVM accepts the directives but its hot heap is off: start it with -XX:NonProfiledHotCodeHeapSize=<size> (and -XX:+SegmentedCodeCache) for them to place code".into(),
            HotPlacement::DesignHot => "this JVM places the C2 code of these methods in its hot code segment as they are compiled from now on".into(),
            HotPlacement::VmSampled { enabled: true } => "this JVM's hot code heap is filled by the VM's own sampler: directives do not steer it, so no code moves; `hch codecache` shows which hot methods sit in 'hot nmethods'".into(),
            HotPlacement::VmSampled { enabled: false } => "this JVM has a hot code heap, off: directives do not steer it; -XX:+UnlockExperimentalVMOptions -XX:+HotCodeHeap lets the VM group hot code by itself".into(),
            HotPlacement::None => "this stock JVM has no hot code segment, so no code moves: the directives only mark the hot set (stock options change nothing); `hch sparseness` shows how scattered the hot code is".into(),
        }
    }

    /// hch's check rules for this JVM.
    pub fn check_target(self, info: &JvmInfo) -> CheckTarget {
        CheckTarget {
            feature: info.feature,
            update: crate::info::update_of(&info.version),
            hot_option: self == HotPlacement::DesignHot,
            dragonwell: matches!(
                self,
                HotPlacement::Dragonwell { .. } | HotPlacement::DragonwellOff
            ),
        }
    }
}

/// A JVM with a hot code heap flag may be a build that takes the design's `Hot` option: a
/// trial add of one `Hot` directive tells, and is popped again at once.
pub fn probe_hot_option(t: &mut dyn Target, info: &JvmInfo) -> Result<HotPlacement, TargetError> {
    let flags = HotPlacement::of(info);
    if !matches!(flags, HotPlacement::VmSampled { .. }) {
        return Ok(flags);
    }
    let probe = "[{ match: \"hch/Probe.probe\", c2: { Hot: true } }]\n";
    let before = count_in_print(&directives::print(t)?);
    if before >= info.directives_limit {
        return Ok(flags);
    }
    let path = t.put_file("probe.json", probe.as_bytes())?;
    let answer = t.jcmd(&format!("Compiler.directives_add {path}"));
    let _ = t.remove_file(&path);
    let added = answer.ok().and_then(|a| count_in_response(&a)).unwrap_or(0);
    pop_to(t, before, info.directives_limit)?;
    Ok(if added > 0 {
        HotPlacement::DesignHot
    } else {
        flags
    })
}

/// Removes directives from the top until the stack is back to `size` (at most `limit` pops,
/// so a JVM that does not shrink cannot keep hch here).
fn pop_to(t: &mut dyn Target, size: usize, limit: usize) -> Result<(), TargetError> {
    for _ in 0..=limit {
        if count_in_print(&directives::print(t)?) <= size {
            break;
        }
        t.jcmd("Compiler.directives_remove")?;
    }
    Ok(())
}

/// Why directives were not applied. The JVM's stack is as it was unless said otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// hch's rules for this JVM reject the file.
    #[error("{target} ({version}) would reject these directives, so they were not sent: {}", problems(.report))]
    Rejected {
        /// The target.
        target: String,
        /// Its JDK version.
        version: String,
        /// hch's report.
        report: Box<Report>,
        /// The dialect this JVM takes.
        fits: Dialect,
    },
    /// The file holds no directive.
    #[error("no directives to apply: {target}'s directives are unchanged")]
    Empty {
        /// The target.
        target: String,
    },
    /// The stack has no room.
    #[error("{target}'s directive stack holds {held} of {limit} directives and the file has {adding}: {hint}")]
    NoRoom {
        /// The target.
        target: String,
        /// Directives on the stack now.
        held: usize,
        /// `CompilerDirectivesLimit`.
        limit: usize,
        /// Directives in the file.
        adding: usize,
        /// What to do.
        hint: String,
    },
    /// The JVM cannot be given the file (a remote JVM without `--remote-path`).
    #[error("{0}")]
    Placement(String),
    /// The JVM itself refused the file; its stack is unchanged.
    #[error(
        "{target} refused the directives, its stack is unchanged ({held} directives): {answer}"
    )]
    RefusedByJvm {
        /// The target.
        target: String,
        /// Directives on the stack, as before.
        held: usize,
        /// The JVM's words and hch's reading of them.
        answer: String,
    },
    /// The final add failed after the stack was cleared.
    #[error("{target}: the stack was cleared but adding failed ({answer}); it now holds {now} directives instead of the {held} it held:\n{before}\nrestore them by adding the files they came from again (`hch directives add {target} FILE`)")]
    AfterClear {
        /// The target.
        target: String,
        /// Directives on the stack before.
        held: usize,
        /// Directives on the stack now.
        now: usize,
        /// The stack as it printed before, for the record.
        before: String,
        /// What the JVM said.
        answer: String,
    },
    /// Talking to the JVM failed.
    #[error(transparent)]
    Target(#[from] TargetError),
}

fn problems(r: &Report) -> String {
    let v: Vec<String> = r
        .errors
        .iter()
        .map(|p| format!("line {}: {}", p.line, p.message))
        .collect();
    v.join("; ")
}

/// What the preflight found: the checks passed, and what applying will do.
#[derive(Debug, Clone, Serialize)]
pub struct Preflight {
    /// Where this JVM can put hot code.
    pub placement: HotPlacement,
    /// hch's report on the file for this JVM.
    pub report: Report,
    /// Directives on the stack now.
    pub held: usize,
    /// `CompilerDirectivesLimit`.
    pub limit: usize,
    /// Whether a replace can first try the file on top of the stack (room for both).
    pub trial: bool,
}

/// Checks that `plan` can be applied to this JVM, without changing anything.
pub fn preflight(
    t: &mut dyn Target,
    info: &JvmInfo,
    placement: HotPlacement,
    plan: &Plan<'_>,
) -> Result<Preflight, ApplyError> {
    check_placement(t, &plan.placement)?;
    let report = check(plan.text, placement.check_target(info));
    if !report.accepted {
        return Err(ApplyError::Rejected {
            target: t.describe(),
            version: info.version.clone(),
            report: Box::new(report),
            fits: placement.dialect(),
        });
    }
    if report.directives == 0 {
        return Err(ApplyError::Empty {
            target: t.describe(),
        });
    }
    let held = count_in_print(&directives::print(t)?);
    let (limit, adding) = (info.directives_limit, report.directives);
    let after = match plan.mode {
        ApplyMode::Add => held + adding,
        ApplyMode::Replace => adding,
    };
    if after > limit {
        let hint = match plan.mode {
            ApplyMode::Add => "replace instead of add (`hch directives replace`), or remove some first".to_string(),
            ApplyMode::Replace => format!("cut the hot set (one directive holds every method; a file of {adding} directives is not hch's) or raise -XX:CompilerDirectivesLimit"),
        };
        return Err(ApplyError::NoRoom {
            target: t.describe(),
            held,
            limit,
            adding,
            hint,
        });
    }
    let trial = plan.mode == ApplyMode::Replace && held + adding <= limit;
    Ok(Preflight {
        placement,
        report,
        held,
        limit,
        trial,
    })
}

/// A remote JVM reads files from its own host: without a path there, nothing can be applied.
fn check_placement(t: &mut dyn Target, p: &Placement) -> Result<(), ApplyError> {
    if *p == Placement::Placed && !t.can_place_files() && !t.takes_directives_text() {
        return Err(ApplyError::Placement(format!(
            "{} reads directives files from its own host: copy the file there and give its path with --remote-path PATH (or run the hch agent in that JVM)",
            t.describe()
        )));
    }
    Ok(())
}

/// Applies a plan that passed [`preflight`]. A replace tries the file on top of the stack
/// first (when there is room), so a file the JVM refuses or cannot read leaves the stack as
/// it was.
pub fn apply(
    t: &mut dyn Target,
    plan: &Plan<'_>,
    pre: &Preflight,
) -> Result<DirectivesOutcome, ApplyError> {
    match plan.mode {
        ApplyMode::Add => add(t, plan, pre.held, pre.limit),
        ApplyMode::Replace => {
            let before = directives::print(t)?;
            if pre.trial {
                add(t, plan, pre.held, pre.limit)?;
                pop_to(t, pre.held, pre.limit)?;
            }
            directives::clear(t)?;
            match add(t, plan, 0, pre.limit) {
                Ok(o) => Ok(DirectivesOutcome {
                    stack_before: pre.held,
                    ..o
                }),
                Err(e) => Err(ApplyError::AfterClear {
                    target: t.describe(),
                    held: pre.held,
                    now: count_in_print(&directives::print(t)?),
                    before: before.trim_end().to_string(),
                    answer: crate::with_causes(&e),
                }),
            }
        }
    }
}

/// One add, from wherever the plan says, confirmed by the stack itself. A failed add that
/// left part of the file on the stack (JDK 17 keeps the directives before a bad one) is popped
/// back to `held`.
fn add(
    t: &mut dyn Target,
    plan: &Plan<'_>,
    held: usize,
    limit: usize,
) -> Result<DirectivesOutcome, ApplyError> {
    let result = match &plan.placement {
        Placement::Placed => directives::add_on(t, plan.text, held),
        Placement::RemotePath(path) => directives::add_path(t, path, held),
    };
    match result {
        Ok(o) => Ok(o),
        Err(TargetError::CommandFailed { output, .. }) => {
            pop_to(t, held, limit)?;
            Err(ApplyError::RefusedByJvm {
                target: t.describe(),
                held,
                answer: output,
            })
        }
        Err(other) => Err(ApplyError::Target(other)),
    }
}
