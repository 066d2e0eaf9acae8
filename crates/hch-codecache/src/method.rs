//! Method names as HotSpot prints them, converted to the JVM internal form.

use serde::Serialize;

/// A method in JVM internal form: `java/lang/String`, `hashCode`, `()I`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MethodRef {
    /// The holder class, internal form (`/` between packages, `+` before a hidden class suffix).
    pub class: String,
    /// The method name, e.g. `park` or `<init>`.
    pub name: String,
    /// The descriptor, e.g. `(ZJ)V`; empty when the output did not print one.
    pub descriptor: String,
}

impl MethodRef {
    /// Splits `pkg.Class.method(desc)ret` (codelist style) into class, name and descriptor.
    /// Returns `None` when there is no `.` before the name.
    pub fn from_dotted(text: &str) -> Option<MethodRef> {
        let (head, descriptor) = match text.find('(') {
            Some(i) => (&text[..i], &text[i..]),
            None => (text, ""),
        };
        let dot = head.rfind('.')?;
        let (class, name) = (&head[..dot], &head[dot + 1..]);
        if class.is_empty() || name.is_empty() {
            return None;
        }
        Some(MethodRef {
            class: internal_class(class),
            name: name.to_string(),
            descriptor: descriptor.to_string(),
        })
    }

    /// Splits `pkg.Class::method` (PrintCompilation style, no descriptor).
    pub fn from_colons(text: &str) -> Option<MethodRef> {
        let (class, name) = text.split_once("::")?;
        if class.is_empty() || name.is_empty() {
            return None;
        }
        Some(MethodRef {
            class: internal_class(class),
            name: name.to_string(),
            descriptor: String::new(),
        })
    }

    /// Parses a Compiler Control `match` pattern naming one method: `pkg/Cls.name(desc)`,
    /// `pkg.Cls.name` or `pkg.Cls::name` (no descriptor matches every overload). `None` for
    /// patterns with wildcards and for text that names no method.
    pub fn from_pattern(p: &str) -> Option<MethodRef> {
        let p = p.trim();
        if p.is_empty() || p.contains('*') {
            return None;
        }
        let (head, descriptor) = p.find('(').map_or((p, ""), |i| (&p[..i], &p[i..]));
        let (class, name) = head.split_once("::").or_else(|| head.rsplit_once('.'))?;
        if class.is_empty() || name.is_empty() || name.contains(['/', ' ']) {
            return None;
        }
        Some(MethodRef {
            class: class.replace('.', "/"),
            name: name.to_string(),
            descriptor: descriptor.to_string(),
        })
    }

    /// The pattern form [`MethodRef::from_pattern`] reads: `pkg/Cls.name(desc)`.
    pub fn pattern(&self) -> String {
        format!("{}.{}{}", self.class, self.name, self.descriptor)
    }

    /// The short form used in messages: `Unsafe.park` (simple class name, no package).
    pub fn short(&self) -> String {
        let simple = self.class.rsplit('/').next().unwrap_or(&self.class);
        format!("{simple}.{}", self.name)
    }

    /// The dotted form HotSpot prints in codelist: `jdk.internal.misc.Unsafe.park(ZJ)V`.
    pub fn dotted(&self) -> String {
        format!(
            "{}.{}{}",
            external_class(&self.class),
            self.name,
            self.descriptor
        )
    }
}

impl std::fmt::Display for MethodRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.dotted())
    }
}

/// `java.lang.invoke.LambdaForm$MH/0x1234` -> `java/lang/invoke/LambdaForm$MH+0x1234`
/// (HotSpot prints a hidden class's `+` as `/` in external names).
pub fn internal_class(external: &str) -> String {
    swap_separators(external, b'.', b'/', b'/', b'+')
}

/// Replaces two ASCII bytes in one pass (the hot path of codelist parsing).
fn swap_separators(text: &str, a: u8, a_to: u8, b: u8, b_to: u8) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for c in &mut bytes {
        if *c == a {
            *c = a_to;
        } else if *c == b {
            *c = b_to;
        }
    }
    // ASCII for ASCII keeps the text valid UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The inverse of [`internal_class`].
pub fn external_class(internal: &str) -> String {
    swap_separators(internal, b'/', b'.', b'+', b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_codelist_names() {
        let m = MethodRef::from_dotted("jdk.internal.misc.Unsafe.park(ZJ)V").unwrap();
        assert_eq!(
            (m.class.as_str(), m.name.as_str(), m.descriptor.as_str()),
            ("jdk/internal/misc/Unsafe", "park", "(ZJ)V")
        );
        assert_eq!(m.short(), "Unsafe.park");
        assert_eq!(m.dotted(), "jdk.internal.misc.Unsafe.park(ZJ)V");
        let h = MethodRef::from_dotted("java.lang.invoke.LambdaForm$MH/0x00007fdcd4001000.invoke(Ljava/lang/Object;)Ljava/lang/Object;").unwrap();
        assert_eq!(h.class, "java/lang/invoke/LambdaForm$MH+0x00007fdcd4001000");
        assert_eq!(h.descriptor, "(Ljava/lang/Object;)Ljava/lang/Object;");
        assert_eq!(MethodRef::from_dotted("noDot()V"), None);
        assert_eq!(MethodRef::from_dotted(".x()V"), None);
    }

    #[test]
    fn splits_printcompilation_names() {
        let m = MethodRef::from_colons("jdk.internal.misc.Unsafe::park").unwrap();
        assert_eq!(m.class, "jdk/internal/misc/Unsafe");
        assert_eq!(m.name, "park");
        assert_eq!(MethodRef::from_colons("x"), None);
    }
}

#[cfg(test)]
mod pattern_tests {
    use super::MethodRef;

    #[test]
    fn patterns_name_one_method_or_none() {
        let m = MethodRef::from_pattern("hchdemo/Gen.m1(I)I").unwrap();
        assert_eq!(
            (m.class.as_str(), m.name.as_str(), m.descriptor.as_str()),
            ("hchdemo/Gen", "m1", "(I)I")
        );
        assert_eq!(m.pattern(), "hchdemo/Gen.m1(I)I");
        let m = MethodRef::from_pattern("java.lang.String::hashCode").unwrap();
        assert_eq!(
            (m.class.as_str(), m.descriptor.as_str()),
            ("java/lang/String", "")
        );
        let m = MethodRef::from_pattern("java.lang.String.hashCode").unwrap();
        assert_eq!(m.name, "hashCode");
        assert!(MethodRef::from_pattern("java/lang/*.foo").is_none());
        assert!(MethodRef::from_pattern("nodot").is_none());
    }
}
