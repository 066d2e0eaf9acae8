//! Applying directives from the CLI: `directives add|replace`, `apply` and `profile --apply`
//! share this, so every way in gets the same preflight, the same words and the same exit codes.

use std::io::Write;

use hch_profile::Dialect;
use hch_target::apply::{self, ApplyError, ApplyMode, HotPlacement, Placement, Plan};
use hch_target::info::JvmInfo;
use hch_target::Target;

use crate::cmd::analyze::DialectArg;
use crate::exit::{coded, Code};

/// A JVM checked for applying: what it is, where it can put hot code, and the dialect to write.
#[derive(Debug)]
pub struct Ready {
    /// What the JVM said about itself.
    pub info: JvmInfo,
    /// Where it can put hot code.
    pub placement: HotPlacement,
    /// The dialect to write for it.
    pub dialect: Dialect,
}

/// Learns what the JVM takes; an explicit dialect it would reject is refused here, before any
/// profile is taken (exit 6).
pub fn ready(t: &mut dyn Target, asked: DialectArg) -> anyhow::Result<Ready> {
    let info = JvmInfo::gather(t)?;
    let placement = apply::probe_hot_option(t, &info)?;
    let fits = placement.dialect();
    let dialect = match asked {
        DialectArg::Auto => fits,
        DialectArg::Hot => Dialect::Hot,
        DialectArg::Stock => Dialect::Stock,
        DialectArg::Dragonwell => Dialect::Dragonwell,
    };
    if dialect != fits && dialect != Dialect::Stock {
        return Err(coded(
            Code::Findings,
            format!(
                "{} ({} {}) does not take the `{}` dialect: {}; use --dialect {} (or leave --dialect out)",
                t.describe(),
                info.vm_name,
                info.version,
                dialect.name(),
                placement.effect(),
                fits.name()
            ),
        ));
    }
    Ok(Ready {
        info,
        placement,
        dialect,
    })
}

/// Checks everything that can fail before the JVM's stack changes, with a stand-in file in the
/// dialect (for `profile --apply`, before the recording starts).
pub fn preflight_stand_in(
    t: &mut dyn Target,
    r: &Ready,
    mode: ApplyMode,
    placement: &Placement,
) -> anyhow::Result<()> {
    let stand_in = hch_profile::Directives {
        dialect: r.dialect,
        patterns: vec!["hch/Probe.probe()V".into()],
        notes: Vec::new(),
    }
    .to_json();
    let plan = Plan {
        text: &stand_in,
        mode,
        placement: placement.clone(),
    };
    apply::preflight(t, &r.info, r.placement, &plan)?;
    Ok(())
}

/// Checks and applies `text`; prints the JVM's answer, the stack sizes and, in one plain line,
/// what the directives will do on this JVM.
pub fn apply_text(
    t: &mut dyn Target,
    r: &Ready,
    text: &str,
    mode: ApplyMode,
    placement: Placement,
) -> anyhow::Result<()> {
    let plan = Plan {
        text,
        mode,
        placement,
    };
    let pre = match apply::preflight(t, &r.info, r.placement, &plan) {
        Err(ApplyError::Empty { target }) => {
            println!("nothing to apply: {target}'s directives are unchanged");
            return Ok(());
        }
        other => other?,
    };
    let outcome = apply::apply(t, &plan, &pre)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", outcome.response.trim_end())?;
    writeln!(
        out,
        "applied to {}: directives on the stack: {} before, {} after (not counting the default)",
        t.describe(),
        outcome.stack_before,
        outcome.stack_after
    )?;
    writeln!(out, "what this does: {}", r.placement.effect())?;
    drop(out);
    eprintln!("hch: note: {}", outcome.note);
    Ok(())
}
