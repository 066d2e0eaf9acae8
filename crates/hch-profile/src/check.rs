//! hch's own check of a directives file, per JDK: syntax of HotSpot's lenient JSON, keys and
//! option types (directivesParser.cpp, compilerDirectives.hpp), method patterns
//! (methodMatcher.cpp) and the size of the directive stack.

use serde::Serialize;

use crate::json::{self, Pos, Value};

/// The JVM the file is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CheckTarget {
    /// The feature release (17, 25 ...). Releases before 25 are checked with JDK 17's option
    /// table, 25 and later with JDK 25's: the two verified on real JVMs.
    pub feature: u32,
    /// The update release (8 for 21.0.8) when known; `None` checks for the feature release's
    /// oldest update. Only JDK-8318811's fix in 21.0.8 depends on it.
    pub update: Option<u32>,
    /// Whether the JVM has the design's hot code segment and its `Hot` option (no stock JDK does).
    pub hot_option: bool,
    /// Whether the JVM is Alibaba Dragonwell with its `AllocInNonProfiledHotCodeHeap` option.
    pub dragonwell: bool,
}

/// A problem found, at a position of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Line, from 1.
    pub line: usize,
    /// Byte within the line, from 1.
    pub byte: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// The verdict for one JVM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The JVM checked for.
    pub target: CheckTarget,
    /// Whether that JVM would load the file.
    pub accepted: bool,
    /// Directives in the file.
    pub directives: usize,
    /// Why it would be rejected (HotSpot stops at the first).
    pub errors: Vec<Problem>,
    /// Accepted but probably not meant (e.g. an `inline` rule the JVM drops, a key prefix).
    pub warnings: Vec<Problem>,
}

/// `-XX:CompilerDirectivesLimit`'s default: the stack holds at most this many directives.
pub const STACK_LIMIT: usize = 50;

/// Option types as HotSpot's directives parser knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Bool,
    Intx,
    Uintx,
    Ccstrlist,
}

/// Options of JDK 17 (compilerDirectives.hpp:38-76), in table order: prefixes bind to the first.
const COMMON: &[(&str, Ty)] = &[
    ("Enable", Ty::Bool),
    ("Exclude", Ty::Bool),
    ("BreakAtExecute", Ty::Bool),
    ("BreakAtCompile", Ty::Bool),
    ("Log", Ty::Bool),
    ("PrintAssembly", Ty::Bool),
    ("PrintInlining", Ty::Bool),
    ("PrintNMethods", Ty::Bool),
    ("BackgroundCompilation", Ty::Bool),
    ("ReplayInline", Ty::Bool),
    ("DumpReplay", Ty::Bool),
    ("DumpInline", Ty::Bool),
    ("CompilerDirectivesIgnoreCompileCommands", Ty::Bool),
    ("DisableIntrinsic", Ty::Ccstrlist),
    ("ControlIntrinsic", Ty::Ccstrlist),
    ("RepeatCompilation", Ty::Intx),
];
const C2: &[(&str, Ty)] = &[
    ("BlockLayoutByFrequency", Ty::Bool),
    ("PrintOptoAssembly", Ty::Bool),
    ("PrintIntrinsics", Ty::Bool),
    ("TraceSpilling", Ty::Bool),
    ("Vectorize", Ty::Bool),
    ("CloneMapDebug", Ty::Bool),
    ("IncrementalInlineForceCleanup", Ty::Bool),
    ("MaxNodeLimit", Ty::Intx),
];
/// JDK 25 adds these (JDK 17: "No such key: 'MemLimit'").
const ADDED_25: &[(&str, Ty)] = &[
    ("MemLimit", Ty::Intx),
    ("MemStat", Ty::Uintx),
    ("PrintCompilation", Ty::Bool),
];
/// JDK 25 removed this.
const REMOVED_25: &[(&str, Ty)] = &[("VectorizeDebug", Ty::Uintx)];

/// The design's option for the hot code segment.
const HOT: (&str, Ty) = ("Hot", Ty::Bool);
/// Dragonwell's option for its non-profiled hot code heap.
const DRAGONWELL_HOT: (&str, Ty) = ("AllocInNonProfiledHotCodeHeap", Ty::Bool);

/// What a key in a directive resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    C1,
    C2,
    Match,
    Inline,
    Flag(&'static str, Ty),
}

impl CheckTarget {
    /// Every key in HotSpot's table order; structural keys come first.
    fn keys(&self) -> Vec<(&'static str, Key)> {
        let mut v = vec![
            ("c1", Key::C1),
            ("c2", Key::C2),
            ("match", Key::Match),
            ("inline", Key::Inline),
        ];
        let mut flags: Vec<(&'static str, Ty)> = COMMON.to_vec();
        if self.feature >= 25 {
            flags.extend_from_slice(ADDED_25);
        }
        flags.extend_from_slice(C2);
        if self.feature < 25 {
            flags.extend_from_slice(REMOVED_25);
        }
        if self.hot_option {
            flags.push(HOT);
        }
        if self.dragonwell {
            flags.push(DRAGONWELL_HOT);
        }
        v.extend(flags.into_iter().map(|(n, t)| (n, Key::Flag(n, t))));
        v
    }

    /// HotSpot's lookup: case-insensitive, the user's key may be a prefix (first in table wins).
    fn lookup(&self, key: &str) -> Option<(&'static str, Key)> {
        let k = key.as_bytes();
        self.keys().into_iter().find(|(name, _)| {
            name.len() >= k.len() && name.as_bytes()[..k.len()].eq_ignore_ascii_case(k)
        })
    }

    /// JDK-8318811: a `//` comment swallows the next character. Fixed in 22 and backported to
    /// 21.0.8; verified on 11.0.13 and 17.0.15 (17.0.19's source still has it), 21.0.8 and 25.
    fn line_comment_bug(&self) -> bool {
        self.feature < 21 || (self.feature == 21 && self.update.is_none_or(|u| u < 8))
    }
}

/// Checks a directives file's text for one JVM.
pub fn check(text: &str, target: CheckTarget) -> Report {
    let mut c = Checker {
        t: target,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let directives = match json::parse(text, target.line_comment_bug()) {
        Ok(v) => c.file(&v),
        Err(e) if target.line_comment_bug() && json::parse(text, false).is_ok() => {
            let jdk = match (target.feature, target.update) {
                (21, Some(u)) => format!("JDK 21.0.{u}"),
                (21, None) => "JDK 21 before 21.0.8".into(),
                (f, _) => format!("JDK {f}"),
            };
            let msg = format!("{jdk} drops the character after a `//` comment (JDK-8318811, fixed in 21.0.8 and 22), which breaks this file there: use `/* */` comments or none");
            c.error(e.pos, msg);
            0
        }
        Err(e) => {
            c.error(e.pos, format!("syntax error: {}", e.message));
            0
        }
    };
    Report {
        target,
        accepted: c.errors.is_empty(),
        directives,
        errors: c.errors,
        warnings: c.warnings,
    }
}

struct Checker {
    t: CheckTarget,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
}

impl Checker {
    fn error(&mut self, p: Pos, message: String) {
        self.errors.push(Problem {
            line: p.line,
            byte: p.byte,
            message,
        });
    }

    fn warn(&mut self, p: Pos, message: String) {
        self.warnings.push(Problem {
            line: p.line,
            byte: p.byte,
            message,
        });
    }

    /// The top level: an array of directive objects, or one directive object.
    fn file(&mut self, v: &Value) -> usize {
        let items: Vec<&Value> = match v {
            Value::Array(_, items) => items.iter().collect(),
            Value::Object(..) => vec![v],
            other => {
                self.error(
                    other.pos(),
                    "expected an array of directives ('[') or one directive ('{')".into(),
                );
                return 0;
            }
        };
        if items.is_empty() {
            self.error(
                v.pos(),
                "no directives in file: the JVM refuses an empty file".into(),
            );
        }
        if items.len() > STACK_LIMIT {
            let msg = format!("{} directives, the stack holds at most {STACK_LIMIT}: put the methods into one directive's match array", items.len());
            self.error(v.pos(), msg);
        }
        for d in &items {
            self.directive(d);
        }
        items.len()
    }

    fn directive(&mut self, v: &Value) {
        let Value::Object(pos, members) = v else {
            self.error(v.pos(), "expected a directive object ('{')".into());
            return;
        };
        let mut has_match = false;
        for (kp, key, val) in members {
            match self.key(*kp, key) {
                Some(Key::Match) => {
                    has_match = true;
                    self.patterns(val, false);
                }
                Some(Key::Inline) => self.patterns(val, true),
                Some(Key::C1 | Key::C2) => self.compiler_block(val),
                Some(Key::Flag(name, ty)) => self.flag(name, ty, val),
                None => {}
            }
        }
        if !has_match {
            self.error(*pos, "directive missing required match".into());
        }
    }

    /// Resolves a key as HotSpot does; warns about prefixes, errors on unknown keys.
    fn key(&mut self, p: Pos, key: &str) -> Option<Key> {
        match self.t.lookup(key) {
            Some((name, k)) => {
                if name != key {
                    self.warn(p, format!("key '{key}' is taken as '{name}' (HotSpot matches key prefixes, ignoring case): write '{name}'"));
                }
                Some(k)
            }
            None => {
                self.error(p, unknown_key_message(key, self.t));
                None
            }
        }
    }

    /// A `c1: {...}` or `c2: {...}` block (or `true`/`false`).
    fn compiler_block(&mut self, v: &Value) {
        let members = match v {
            Value::Bool(..) => return,
            Value::Object(_, m) => m,
            other => {
                return self.error(
                    other.pos(),
                    "c1/c2 take an object of options or true/false".into(),
                )
            }
        };
        for (kp, key, val) in members {
            match self.key(*kp, key) {
                Some(Key::Inline) => self.patterns(val, true),
                Some(Key::Flag(name, ty)) => self.flag(name, ty, val),
                Some(_) => self.error(*kp, format!("'{key}' is not allowed inside c1/c2")),
                None => {}
            }
        }
    }

    fn flag(&mut self, name: &str, ty: Ty, v: &Value) {
        let ok = match (ty, v) {
            (Ty::Bool, Value::Bool(..)) => true,
            (Ty::Intx, Value::Number(_, _, true)) => true,
            (Ty::Uintx, Value::Number(_, n, true)) => *n >= 0.0,
            (Ty::Ccstrlist, Value::Str(..)) => true,
            _ => false,
        };
        if !ok {
            let want = match ty {
                Ty::Bool => "true or false",
                Ty::Intx => "an integer",
                Ty::Uintx => "a non-negative integer",
                Ty::Ccstrlist => "a string",
            };
            self.error(v.pos(), format!("{name} takes {want}"));
        }
    }

    /// `match` or `inline`: one string or an array of strings, each a valid method pattern.
    fn patterns(&mut self, v: &Value, inline: bool) {
        let items: Vec<&Value> = match v {
            Value::Array(_, items) => items.iter().collect(),
            one => vec![one],
        };
        for item in items {
            let Value::Str(p, s) = item else {
                self.error(item.pos(), "expected a method pattern string".into());
                continue;
            };
            let pattern = if inline {
                match s.strip_prefix(['+', '-']) {
                    Some(rest) => rest,
                    None => {
                        let msg = format!("inline pattern '{s}' lacks its leading + or -: the JVM still loads the file but drops this rule");
                        self.warn(*p, msg);
                        continue;
                    }
                }
            } else {
                s.as_str()
            };
            if let Err(e) = check_pattern(pattern) {
                self.error(*p, format!("method pattern '{s}': {e}"));
            }
        }
    }
}

/// The message for an unknown key, with the `Hot` case spelled out.
fn unknown_key_message(key: &str, t: CheckTarget) -> String {
    if key.eq_ignore_ascii_case("Hot") {
        return format!("no such key: '{key}': stock JDK {} has no hot code segment and rejects the whole file; write the file with `--dialect stock`", t.feature);
    }
    if key.eq_ignore_ascii_case(DRAGONWELL_HOT.0) {
        return format!("no such key: '{key}': only Alibaba Dragonwell 21/25 has it; JDK {} rejects the whole file; write the file with `--dialect stock`", t.feature);
    }
    let other = CheckTarget {
        feature: if t.feature >= 25 { 17 } else { 25 },
        ..t
    };
    match other.lookup(key) {
        Some(_) => format!(
            "no such key: '{key}' on JDK {} (only JDK {} has it)",
            t.feature, other.feature
        ),
        None => format!("no such key: '{key}'"),
    }
}

/// HotSpot's method pattern rules (methodMatcher.cpp).
pub fn check_pattern(p: &str) -> Result<(), String> {
    let (head, sig) = match p.find('(') {
        Some(i) => (&p[..i], &p[i..]),
        None => (p, ""),
    };
    if sig.contains('*') {
        return Err("a `*` in the signature is not allowed".into());
    }
    let (class, method) = split_head(head)?;
    for (what, part) in [("class", class), ("method", method)] {
        if part.is_empty() {
            return Err(format!("empty {what} part"));
        }
        let inner = part.strip_prefix('*').unwrap_or(part);
        let inner = inner.strip_suffix('*').unwrap_or(inner);
        if inner.contains('*') {
            return Err(
                "embedded * not allowed (only at the start or end of the class and method parts)"
                    .into(),
            );
        }
    }
    if method.contains(['<', '>']) && method != "<init>" && method != "<clinit>" {
        return Err("`<` and `>` are only allowed in <init> and <clinit>".into());
    }
    if class.contains(['<', '>', '(', ')', ' ']) {
        return Err("characters not allowed in the class part".into());
    }
    Ok(())
}

/// `Class::method`, `Class method` or `pkg/Class.method`.
fn split_head(head: &str) -> Result<(&str, &str), String> {
    if let Some((c, m)) = head.split_once("::") {
        if c.contains('/') {
            return Err(
                "'/' together with '::': use `pkg.Class::method` or `pkg/Class.method`".into(),
            );
        }
        return Ok((c, m));
    }
    if let Some((c, m)) = head.split_once(' ') {
        return Ok((c, m));
    }
    let (c, m) = head
        .rsplit_once('.')
        .ok_or("expected `pkg/Class.method`, `pkg.Class::method` or `Class method`")?;
    if c.contains('/') && c.contains('.') {
        return Err("mixed '/' and '.' package separators".into());
    }
    Ok((c, m))
}
