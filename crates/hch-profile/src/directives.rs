//! Compiler Control (JEP 165) directives for a hot set: one directive whose `match` array carries
//! every hot method, since the JVM's directive stack holds at most 50 entries.

use std::collections::BTreeSet;
use std::fmt::Write;

use hch_jfr::MethodInfo;
use serde::Serialize;

use crate::hotset::HotSet;

/// Which options the directive carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub enum Dialect {
    /// The design's `c2: { Hot: true }`, for a JVM with a hot code segment. Stock JDKs 17 to 25
    /// reject the whole file ("No such key: 'Hot'").
    #[default]
    Hot,
    /// Only options every JDK 9+ accepts (`c2: { Enable: true }`, which changes nothing): a
    /// baseline, or a file to put other options into.
    Stock,
    /// Alibaba Dragonwell 21/25's directive-driven hot heap:
    /// `c2: { AllocInNonProfiledHotCodeHeap: true }`, acted on when the JVM runs with
    /// `-XX:NonProfiledHotCodeHeapSize=` above 0. Other JVMs reject the key.
    Dragonwell,
}

impl Dialect {
    /// The option block written into the directive.
    fn options(self) -> &'static str {
        match self {
            Dialect::Hot => "c2: { Hot: true }",
            Dialect::Stock => "c2: { Enable: true }",
            Dialect::Dragonwell => "c2: { AllocInNonProfiledHotCodeHeap: true }",
        }
    }

    /// The dialect's name as `--dialect` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Hot => "hot",
            Dialect::Stock => "stock",
            Dialect::Dragonwell => "dragonwell",
        }
    }
}

/// Directives for a hot set, and what could not be expressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directives {
    /// The dialect written.
    pub dialect: Dialect,
    /// Method patterns, hottest first, without duplicates.
    pub patterns: Vec<String>,
    /// Things a reader should know (wildcards used, methods left out, overloads merged).
    pub notes: Vec<String>,
}

/// The pattern for one method, or why there is none. Hidden classes (lambdas) are renamed each
/// run, so their unstable tail becomes a `*` at the end of the class part.
pub fn pattern(m: &MethodInfo) -> Result<String, String> {
    // JFR's `hidden` also marks hidden *methods* of ordinary classes (`Invokers$Holder`), whose
    // names are stable: only the class name tells a hidden class.
    let class = if crate::names::looks_hidden(&m.class) {
        stable_prefix(&m.class)?
    } else {
        m.class.clone()
    };
    if m.name.contains(['*', '(', ')', ' ', '.', '/', ';'])
        || class.contains(['*', '(', ' ', '.', ';']) && !class.ends_with('*')
    {
        return Err(format!(
            "{}.{}: characters HotSpot's method patterns cannot carry",
            m.class, m.name
        ));
    }
    if m.name.contains(['<', '>']) && m.name != "<init>" && m.name != "<clinit>" {
        return Err(format!(
            "{}.{}: `<`/`>` are only allowed in <init> and <clinit>",
            m.class, m.name
        ));
    }
    Ok(format!("{class}.{}{}", m.name, m.descriptor))
}

/// `Foo$$Lambda$14/0x…` → `Foo$$Lambda*`; `Foo/0x…` → `Foo*`.
fn stable_prefix(class: &str) -> Result<String, String> {
    let cut = class
        .find("$$Lambda")
        .map(|i| i + "$$Lambda".len())
        .or_else(|| class.find("/0x"))
        .or_else(|| class.find(".0x"));
    match cut {
        Some(i) if i > 0 => Ok(format!("{}*", &class[..i])),
        _ => Err(format!(
            "{class}: a hidden class without a stable name part"
        )),
    }
}

/// The directives for a hot set: patterns in rank order, duplicates (lambdas) merged.
pub fn for_hot_set(set: &HotSet, dialect: Dialect) -> Directives {
    let mut seen = BTreeSet::new();
    let mut d = Directives {
        dialect,
        patterns: Vec::new(),
        notes: Vec::new(),
    };
    let (mut wild, mut no_desc) = (0usize, 0usize);
    for b in &set.blobs {
        match pattern(&b.method) {
            Ok(p) => {
                wild += usize::from(p.contains('*'));
                no_desc += usize::from(b.method.descriptor.is_empty());
                if seen.insert(p.clone()) {
                    d.patterns.push(p);
                }
            }
            Err(why) => d.notes.push(format!("left out {why}")),
        }
    }
    if wild > 0 {
        d.notes.push(format!("{wild} hidden-class methods (lambdas) matched by a class wildcard such as `Foo$$Lambda*`"));
    }
    if no_desc > 0 {
        d.notes.push(format!("{no_desc} methods without a descriptor in the input: their patterns match every overload"));
    }
    d
}

impl Directives {
    /// The file text: lenient JSON as HotSpot reads it, without `//` comments (JDK 17 mis-parses
    /// them) and with full key names (HotSpot matches key prefixes).
    pub fn to_json(&self) -> String {
        let mut s = String::from("[\n  {\n    match: [\n");
        for (i, p) in self.patterns.iter().enumerate() {
            let comma = if i + 1 < self.patterns.len() { "," } else { "" };
            let _ = writeln!(s, "      {}{comma}", json_string(p));
        }
        let _ = write!(s, "    ],\n    {}\n  }}\n]\n", self.dialect.options());
        s
    }

    /// Whether there is anything to write: HotSpot rejects an empty `match` array.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// A JSON string literal (patterns never need more than quote and backslash escapes).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(class: &str, name: &str, descriptor: &str, hidden: bool) -> MethodInfo {
        MethodInfo {
            class: class.into(),
            name: name.into(),
            descriptor: descriptor.into(),
            hidden,
        }
    }

    #[test]
    fn patterns() {
        assert_eq!(
            pattern(&m("HotLoop$W1", "run", "(J)J", false)).unwrap(),
            "HotLoop$W1.run(J)J"
        );
        assert_eq!(
            pattern(&m("a/B$$Lambda$14/0x0000000800c01234", "run", "()V", true)).unwrap(),
            "a/B$$Lambda*.run()V"
        );
        assert_eq!(
            pattern(&m("a/B$$Lambda/0x0000000800c01234", "run", "()V", true)).unwrap(),
            "a/B$$Lambda*.run()V"
        );
        assert_eq!(
            pattern(&m("a/Gen/0x0000000800c01234", "x", "", true)).unwrap(),
            "a/Gen*.x"
        );
        assert!(pattern(&m("a/B", "<lambda>", "", false)).is_err());
        let holder = m(
            "java/lang/invoke/Invokers$Holder",
            "invokeExact_MT",
            "(Ljava/lang/Object;)V",
            true,
        );
        assert_eq!(
            pattern(&holder).unwrap(),
            "java/lang/invoke/Invokers$Holder.invokeExact_MT(Ljava/lang/Object;)V"
        );
        assert_eq!(
            pattern(&m("a/B", "<init>", "()V", false)).unwrap(),
            "a/B.<init>()V"
        );
    }
}
