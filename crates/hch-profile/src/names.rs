//! Frame names as async-profiler prints them: dotted or slashed classes, and the `-a` suffixes.

use hch_jfr::{FrameKind, MethodInfo};

/// How to print a frame name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NameStyle {
    /// `java.util.Random` instead of `java/util/Random` (async-profiler's flat output).
    pub dotted: bool,
    /// Append the frame type suffix (`_[j]`, `_[i]`, `_[0]`, `_[1]`), async-profiler's `-a`.
    pub annotate: bool,
}

/// The `-a` suffix of a frame kind. Kernel frames always carry `_[k]` (async-profiler appends it
/// to the symbol itself); native and C++ frames never have one.
pub fn suffix(kind: FrameKind, annotate: bool) -> &'static str {
    match kind {
        FrameKind::Kernel => "_[k]",
        _ if !annotate => "",
        FrameKind::JitCompiled => "_[j]",
        FrameKind::Inlined => "_[i]",
        FrameKind::Interpreted => "_[0]",
        FrameKind::C1Compiled => "_[1]",
        _ => "",
    }
}

/// The kind a suffix stands for, and the name without it.
pub fn strip_suffix(name: &str) -> (&str, Option<FrameKind>) {
    let kinds = [
        ("_[j]", FrameKind::JitCompiled),
        ("_[i]", FrameKind::Inlined),
        ("_[0]", FrameKind::Interpreted),
        ("_[1]", FrameKind::C1Compiled),
        ("_[k]", FrameKind::Kernel),
    ];
    for (s, k) in kinds {
        if let Some(base) = name.strip_suffix(s) {
            return (base, Some(k));
        }
    }
    (name, None)
}

/// `Class.method` (class dotted or slashed as asked) or the bare symbol of a native frame.
pub fn method_name(m: &MethodInfo, dotted: bool) -> String {
    if m.class.is_empty() {
        return m.name.clone();
    }
    let class = if dotted {
        m.class.replace('/', ".")
    } else {
        m.class.clone()
    };
    format!("{class}.{}", m.name)
}

/// A frame's full printed name in a style. Native, C++ and kernel frames of async-profiler
/// recordings carry their library as the "class" and no descriptor: async-profiler prints the
/// bare symbol (or the library when the symbol is unknown).
pub fn frame_name(m: &MethodInfo, kind: FrameKind, style: NameStyle) -> String {
    let native = matches!(kind, FrameKind::Native | FrameKind::Cpp | FrameKind::Kernel);
    let mut s = if native && m.descriptor.is_empty() && !m.name.is_empty() {
        m.name.clone()
    } else {
        method_name(m, style.dotted)
    };
    s.push_str(suffix(kind, style.annotate));
    s
}

/// Whether a class name is one HotSpot generates per run (lambdas, hidden classes).
pub fn looks_hidden(class: &str) -> bool {
    class.contains("$$Lambda") || class.contains("/0x") || class.contains(".0x")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_symbols_print_bare_as_async_profiler() {
        let m = |class: &str, name: &str, descriptor: &str| MethodInfo {
            class: class.into(),
            name: name.into(),
            descriptor: descriptor.into(),
            hidden: false,
        };
        let style = NameStyle {
            dotted: true,
            annotate: true,
        };
        let lib = m("libpthread-2.17.so", "pthread_cond_wait", "");
        assert_eq!(
            frame_name(&lib, FrameKind::Native, style),
            "pthread_cond_wait"
        );
        let jni = m("java/lang/Thread", "sleep0", "(J)V");
        assert_eq!(
            frame_name(&jni, FrameKind::Native, style),
            "java.lang.Thread.sleep0"
        );
    }

    #[test]
    fn suffixes_as_async_profiler() {
        assert_eq!(suffix(FrameKind::Kernel, false), "_[k]");
        assert_eq!(suffix(FrameKind::JitCompiled, false), "");
        assert_eq!(suffix(FrameKind::Native, true), "");
        assert_eq!(
            strip_suffix("a.b_[1]"),
            ("a.b", Some(FrameKind::C1Compiled))
        );
        assert_eq!(strip_suffix("itable stub"), ("itable stub", None));
    }
}
