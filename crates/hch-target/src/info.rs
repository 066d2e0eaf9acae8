//! What a JVM can do for hch, from four cheap diagnostic commands: `VM.version`,
//! `VM.flags -all`, `VM.system_properties` and `help`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Target, TargetError};

/// What applying directives does on every stock JDK (17 to 26, and 27 without the hot code
/// heap): HotSpot consults the directive stack only when it starts a compilation.
pub const DIRECTIVES_AFFECT_FUTURE_ONLY: &str = "Directives apply to compilations that start \
from now on: methods compiled already keep their code until the JVM recompiles them (after a \
deoptimization, a tier change or class unloading); nothing is moved or recompiled right away.";

/// A JVM's version, code cache layout and the features hch relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JvmInfo {
    /// The target's description, e.g. `pid 1234`.
    pub target: String,
    /// The feature release: 17, 21, 25…
    pub feature: u32,
    /// The JDK version, e.g. `17.0.15`.
    pub version: String,
    /// The VM's full version, e.g. `17.0.15+6-Debian-1deb12u1`.
    pub vm_version: String,
    /// The VM's name, e.g. `OpenJDK 64-Bit Server VM`.
    pub vm_name: String,
    /// `java.vm.vendor`, e.g. `Eclipse Adoptium`.
    pub vendor: Option<String>,
    /// The code cache flags.
    pub code_cache: CodeCacheFlags,
    /// The hot code heap of JDK 27+ (experimental), if this JVM has the flags.
    pub hot_code_heap: Option<HotCodeHeap>,
    /// Alibaba Dragonwell's directive-driven hot heap: `NonProfiledHotCodeHeapSize` in bytes
    /// (0 = off), when this JVM has the flag.
    pub dragonwell_hot_heap: Option<u64>,
    /// `CompilerDirectivesLimit`: how many directives the stack holds (50 by default).
    pub directives_limit: usize,
    /// Whether JFR has been created in this JVM already (`None`: cannot tell). On JDK 11 to 22
    /// the first creation at run time deoptimizes all compiled code (see
    /// [`JvmInfo::first_jfr_costs_a_storm`]).
    pub jfr_started: Option<bool>,
    /// `-XX:+DebugNonSafepoints`: without it, JFR samples of compiled code are attributed to
    /// the nearest safepoint's frame, which biases a profile.
    pub debug_non_safepoints: bool,
    /// Whether the JVM has the `JFR.*` diagnostic commands.
    pub jfr_available: bool,
    /// What applying Compiler Control directives will do on this JVM, in words.
    pub directives_effect: String,
}

/// Code cache sizes in bytes, from the flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCacheFlags {
    /// `SegmentedCodeCache`: separate heaps for non-nmethods, profiled and non-profiled code.
    pub segmented: bool,
    /// `ReservedCodeCacheSize`.
    pub reserved: u64,
    /// `NonNMethodCodeHeapSize`.
    pub non_nmethods: Option<u64>,
    /// `ProfiledCodeHeapSize`.
    pub profiled: Option<u64>,
    /// `NonProfiledCodeHeapSize`.
    pub non_profiled: Option<u64>,
}

/// The `HotCodeHeap` flags (JDK-8326205).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HotCodeHeap {
    /// `HotCodeHeap`.
    pub enabled: bool,
    /// `HotCodeHeapSize` in bytes.
    pub size: Option<u64>,
}

impl JvmInfo {
    /// Asks the target.
    pub fn gather(t: &mut dyn Target) -> Result<JvmInfo, TargetError> {
        let version = t.jcmd("VM.version")?;
        let flags_text = t.jcmd("VM.flags -all")?;
        let flags = parse_flags(&flags_text);
        let jfr_started = match jfr_started_by_flag(&flags_text) {
            JfrState::Known(started) => Some(started),
            // `-XX:+FlightRecorder` does not create JFR: its thread tells.
            JfrState::Ambiguous => t
                .jcmd("Thread.print")
                .ok()
                .map(|text| text.contains("\"JFR Recorder Thread\"")),
        };
        let properties = parse_properties(&t.jcmd("VM.system_properties")?);
        let help = t.jcmd("help")?;
        let unexpected = |what: &str| TargetError::CommandFailed {
            target: t.describe(),
            command: "VM.version".into(),
            output: format!("{what} not found in: {}", version.trim_end()),
        };
        let (vm_name, vm_version) =
            parse_vm_line(&version).ok_or_else(|| unexpected("the VM line"))?;
        let jdk = version
            .lines()
            .find_map(|l| l.strip_prefix("JDK "))
            .map(str::trim);
        let jdk = jdk.or_else(|| properties.get("java.version").map(String::as_str));
        let jdk = jdk.ok_or_else(|| unexpected("the JDK line"))?.to_string();
        let feature = feature_of(&jdk).ok_or_else(|| unexpected("a feature version"))?;
        let hot_code_heap = hot_code_heap(&flags);
        let dragonwell_hot_heap = flag_u64(&flags, "NonProfiledHotCodeHeapSize");
        let directives_limit = flag_u64(&flags, "CompilerDirectivesLimit").unwrap_or(50) as usize;
        Ok(JvmInfo {
            jfr_started,
            dragonwell_hot_heap,
            directives_limit,
            target: t.describe(),
            feature,
            version: jdk,
            vm_version,
            vm_name,
            vendor: properties.get("java.vm.vendor").cloned(),
            code_cache: code_cache(&flags),
            debug_non_safepoints: flag_bool(&flags, "DebugNonSafepoints"),
            jfr_available: help.lines().any(|l| l.trim() == "JFR.start"),
            directives_effect: directives_effect(hot_code_heap.as_ref()),
            hot_code_heap,
        })
    }
}

impl JvmInfo {
    /// Whether starting JFR now will make the JVM throw away its compiled code: JDK 11 to 22
    /// deoptimize every nmethod on the first redefinition after JFR adds its retransform
    /// capability (measured: every live application method on 11, 17 and 21; one on 25).
    pub fn first_jfr_costs_a_storm(&self) -> bool {
        self.feature < 23 && self.jfr_started == Some(false)
    }
}

/// What `VM.flags -all`'s `FlightRecorder` line says about JFR having been created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JfrState {
    /// Yes or no for sure.
    Known(bool),
    /// `-XX:+FlightRecorder` on the command line, which does not create JFR by itself.
    Ambiguous,
}

/// `bool FlightRecorder = false {product} {default}` means never created; `= true {product}
/// {management}` created (at run time or by `-XX:StartFlightRecording`); `{command line}` is
/// the user's `-XX:+FlightRecorder`, which tells nothing (verified on JDK 11, 17, 21, 25).
fn jfr_started_by_flag(flags: &str) -> JfrState {
    let Some(line) = flags
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("FlightRecorder"))
    else {
        return JfrState::Ambiguous;
    };
    match (line.contains("= true"), line.contains("{command line}")) {
        (true, true) => JfrState::Ambiguous,
        (true, false) => JfrState::Known(true),
        (false, _) => JfrState::Known(false),
    }
}

/// `OpenJDK 64-Bit Server VM version 17.0.15+6-Debian-1deb12u1` → name and version.
fn parse_vm_line(version: &str) -> Option<(String, String)> {
    let line = version.lines().find(|l| l.contains(" version "))?;
    let (name, v) = line.split_once(" version ")?;
    Some((name.trim().to_string(), v.trim().to_string()))
}

pub use hch_attach::procfs::{feature_of, update_of};

/// `VM.flags -all` lines (`    uintx ReservedCodeCacheSize = 251658240 {pd product} {ergonomic}`)
/// as name → value.
pub fn parse_flags(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" = ")?;
            let name = left.split_whitespace().nth(1)?;
            // The value ends where the `{kind} {origin}` annotations start.
            let value = right.rsplitn(3, " {").nth(2).unwrap_or(right).trim();
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// `VM.system_properties` text (the `java.util.Properties` file format: `key=value` lines,
/// `#` comments, `\\`, `\:`, `\=`, `\n`, `\t`, `\uXXXX` escapes) as key -> value.
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with(['#', '!']))
        .filter_map(|l| {
            let (k, v) = split_property(l)?;
            Some((unescape(k), unescape(v)))
        })
        .collect()
}

/// Splits a line at its first unescaped `=` or `:`.
fn split_property(line: &str) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '=' | ':' => return Some((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Undoes the properties escapes.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn flag_bool(flags: &BTreeMap<String, String>, name: &str) -> bool {
    flags.get(name).is_some_and(|v| v == "true")
}

fn flag_u64(flags: &BTreeMap<String, String>, name: &str) -> Option<u64> {
    flags.get(name)?.parse().ok()
}

fn code_cache(flags: &BTreeMap<String, String>) -> CodeCacheFlags {
    let segmented = flag_bool(flags, "SegmentedCodeCache");
    let heap = |name| flag_u64(flags, name).filter(|_| segmented);
    CodeCacheFlags {
        segmented,
        reserved: flag_u64(flags, "ReservedCodeCacheSize").unwrap_or(0),
        non_nmethods: heap("NonNMethodCodeHeapSize"),
        profiled: heap("ProfiledCodeHeapSize"),
        non_profiled: heap("NonProfiledCodeHeapSize"),
    }
}

fn hot_code_heap(flags: &BTreeMap<String, String>) -> Option<HotCodeHeap> {
    flags.contains_key("HotCodeHeap").then(|| HotCodeHeap {
        enabled: flag_bool(flags, "HotCodeHeap"),
        size: flag_u64(flags, "HotCodeHeapSize"),
    })
}

/// What applying directives does on a JVM with (or without) a hot code heap.
fn directives_effect(hot: Option<&HotCodeHeap>) -> String {
    let heap = match hot {
        None => "This JVM has no hot code heap (that arrives, experimental, in JDK 27), so directives cannot move compiled code.",
        Some(h) if !h.enabled => "This JVM has a hot code heap but it is off: with -XX:+UnlockExperimentalVMOptions -XX:+HotCodeHeap the VM groups hot code by itself.",
        Some(_) => "Its hot code heap is filled by the VM's own sampler; directives do not steer what goes there.",
    };
    format!("{DIRECTIVES_AFFECT_FUTURE_ONLY} {heap}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_lines() {
        let text = "[Global flags]\n    ccstr AOTCache                                 =                                           {product} {default}\n     bool DebugNonSafepoints                       = false                                  {diagnostic} {default}\n    uintx ReservedCodeCacheSize                    = 251658240                              {pd product} {ergonomic}\n    ccstr OnError                                  = echo {x} y                              {product} {command line}\n";
        let f = parse_flags(text);
        assert_eq!(f["AOTCache"], "");
        assert_eq!(f["DebugNonSafepoints"], "false");
        assert_eq!(f["ReservedCodeCacheSize"], "251658240");
        assert_eq!(f["OnError"], "echo {x} y");
    }

    #[test]
    fn versions() {
        assert_eq!(feature_of("17.0.15"), Some(17));
        assert_eq!(feature_of("1.8.0_392"), Some(8));
        assert_eq!(feature_of("27-ea"), Some(27));
        assert_eq!(update_of("21.0.8"), Some(8));
        assert_eq!(update_of("17.0.15+6"), Some(15));
        assert_eq!(update_of("1.8.0_392"), Some(392));
        assert_eq!(update_of("25"), None);
        assert_eq!(update_of("27-ea"), None);
        let v = "OpenJDK 64-Bit Server VM version 25.0.3+9-LTS\nJDK 25.0.3\n";
        assert_eq!(
            parse_vm_line(v),
            Some(("OpenJDK 64-Bit Server VM".into(), "25.0.3+9-LTS".into()))
        );
    }

    #[test]
    fn jfr_state_from_the_flag_line() {
        // Captured from VM.flags -all on JDK 17.0.15 before and after JFR.start, and with
        // -XX:+FlightRecorder on the command line.
        let never = "     bool FlightRecorder                           = false                                     {product} {default}\n";
        let after = "     bool FlightRecorder                           = true                                      {product} {management}\n";
        let asked = "     bool FlightRecorder                           = true                                      {product} {command line}\n";
        assert_eq!(jfr_started_by_flag(never), JfrState::Known(false));
        assert_eq!(jfr_started_by_flag(after), JfrState::Known(true));
        assert_eq!(jfr_started_by_flag(asked), JfrState::Ambiguous);
        assert_eq!(jfr_started_by_flag(""), JfrState::Ambiguous);
    }

    #[test]
    fn properties_unescape() {
        let p = parse_properties("#Sat Nov 22 01:47:02 UTC 2026\njava.vm.vendor=Eclipse Adoptium\nfile.separator=/\npath.separator=\\:\n");
        assert_eq!(p["java.vm.vendor"], "Eclipse Adoptium");
        assert_eq!(p["path.separator"], ":");
        let p = parse_properties(
            "hch.agent.status={\"a\"\\:\"b\\\\n\\u00e9\"}\nline.separator=\\n\nx\\=y=z\n",
        );
        assert_eq!(p["hch.agent.status"], "{\"a\":\"b\\n\u{e9}\"}");
        assert_eq!(p["line.separator"], "\n");
        assert_eq!(p["x=y"], "z");
    }

    #[test]
    fn effect_depends_on_the_hot_code_heap() {
        assert!(directives_effect(None).contains("no hot code heap"));
        let off = HotCodeHeap {
            enabled: false,
            size: Some(8 << 20),
        };
        assert!(directives_effect(Some(&off)).contains("it is off"));
        let on = HotCodeHeap {
            enabled: true,
            size: Some(8 << 20),
        };
        assert!(directives_effect(Some(&on)).contains("VM's own sampler"));
    }
}
