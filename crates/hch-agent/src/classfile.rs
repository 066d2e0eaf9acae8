//! A minimal class file writer (JVMS chapter 4), enough for the MBean's class: a public final
//! class implementing interfaces, a no-argument constructor that calls its superclass's, and
//! `native` methods. No Java compiler is needed at build time, and the bytes are made when the
//! agent registers its MBean.

use std::collections::HashMap;

/// `ACC_PUBLIC`.
pub const ACC_PUBLIC: u16 = 0x0001;
/// `ACC_FINAL`.
pub const ACC_FINAL: u16 = 0x0010;
/// `ACC_SUPER` (always set on classes since Java 1.0.2).
pub const ACC_SUPER: u16 = 0x0020;
/// `ACC_STATIC`.
pub const ACC_STATIC: u16 = 0x0008;
/// `ACC_NATIVE`.
pub const ACC_NATIVE: u16 = 0x0100;

/// Java 8's class file version: no stack map frames needed for straight-line code.
const MAJOR_VERSION: u16 = 52;

/// The constant pool, deduplicated.
#[derive(Debug, Default)]
struct Pool {
    bytes: Vec<u8>,
    count: u16,
    index: HashMap<(u8, Vec<u8>), u16>,
}

impl Pool {
    /// Adds an entry (tag and body) once; returns its index.
    fn entry(&mut self, tag: u8, body: Vec<u8>) -> u16 {
        if let Some(&i) = self.index.get(&(tag, body.clone())) {
            return i;
        }
        self.count += 1;
        self.bytes.push(tag);
        self.bytes.extend_from_slice(&body);
        self.index.insert((tag, body), self.count);
        self.count
    }

    /// A `CONSTANT_Utf8` (the names here are ASCII, the same in modified UTF-8).
    fn utf8(&mut self, s: &str) -> u16 {
        let mut body = (s.len() as u16).to_be_bytes().to_vec();
        body.extend_from_slice(s.as_bytes());
        self.entry(1, body)
    }

    /// A `CONSTANT_Class` by internal name (`java/lang/Object`).
    fn class(&mut self, name: &str) -> u16 {
        let n = self.utf8(name);
        self.entry(7, n.to_be_bytes().to_vec())
    }

    /// A `CONSTANT_Methodref`.
    fn method_ref(&mut self, class: &str, name: &str, descriptor: &str) -> u16 {
        let c = self.class(class);
        let (n, d) = (self.utf8(name), self.utf8(descriptor));
        let mut nat = n.to_be_bytes().to_vec();
        nat.extend_from_slice(&d.to_be_bytes());
        let nat = self.entry(12, nat);
        let mut body = c.to_be_bytes().to_vec();
        body.extend_from_slice(&nat.to_be_bytes());
        self.entry(10, body)
    }
}

/// A class to write.
#[derive(Debug, Clone)]
pub struct ClassSpec<'a> {
    /// Internal name, e.g. `hch/agent/HotCodeHelper`.
    pub name: &'a str,
    /// Internal name of the superclass.
    pub super_class: &'a str,
    /// Internal names of the interfaces it implements.
    pub interfaces: &'a [&'a str],
    /// Its `native` methods: name and descriptor.
    pub natives: &'a [(&'a str, &'a str)],
    /// Its `static native` methods: name and descriptor.
    pub static_natives: &'a [(&'a str, &'a str)],
}

/// The class file bytes: the class, a public no-argument constructor, the public native
/// methods.
pub fn write(spec: &ClassSpec<'_>) -> Vec<u8> {
    let mut pool = Pool::default();
    let this = pool.class(spec.name);
    let sup = pool.class(spec.super_class);
    let interfaces: Vec<u16> = spec.interfaces.iter().map(|i| pool.class(i)).collect();
    let init = pool.utf8("<init>");
    let void = pool.utf8("()V");
    let code_attr = pool.utf8("Code");
    let super_init = pool.method_ref(spec.super_class, "<init>", "()V");
    let natives: Vec<(u16, u16, u16)> = spec
        .natives
        .iter()
        .map(|(n, d)| (ACC_PUBLIC | ACC_NATIVE, n, d))
        .chain(
            spec.static_natives
                .iter()
                .map(|(n, d)| (ACC_PUBLIC | ACC_STATIC | ACC_NATIVE, n, d)),
        )
        .map(|(f, n, d)| (f, pool.utf8(n), pool.utf8(d)))
        .collect();

    let mut out = Vec::new();
    out.extend_from_slice(&0xCAFE_BABEu32.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&MAJOR_VERSION.to_be_bytes());
    out.extend_from_slice(&(pool.count + 1).to_be_bytes());
    out.extend_from_slice(&pool.bytes);
    for v in [ACC_PUBLIC | ACC_FINAL | ACC_SUPER, this, sup] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&(interfaces.len() as u16).to_be_bytes());
    for i in interfaces {
        out.extend_from_slice(&i.to_be_bytes());
    }
    out.extend_from_slice(&0u16.to_be_bytes()); // fields
    out.extend_from_slice(&(natives.len() as u16 + 1).to_be_bytes());
    constructor(&mut out, init, void, code_attr, super_init);
    for (flags, name, desc) in natives {
        for v in [flags, name, desc, 0] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out.extend_from_slice(&0u16.to_be_bytes()); // class attributes
    out
}

/// `public <init>() { super(); }`: aload_0, invokespecial, return.
fn constructor(out: &mut Vec<u8>, name: u16, desc: u16, code_attr: u16, super_init: u16) {
    let [hi, lo] = super_init.to_be_bytes();
    let code = [0x2a, 0xb7, hi, lo, 0xb1];
    for v in [ACC_PUBLIC, name, desc, 1] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&code_attr.to_be_bytes());
    // max_stack, max_locals, code_length, code, exception table length, attributes count.
    let length = 2 + 2 + 4 + code.len() as u32 + 2 + 2;
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(code.len() as u32).to_be_bytes());
    out.extend_from_slice(&code);
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_a_small_class() {
        let bytes = write(&ClassSpec {
            name: "a/B",
            super_class: "java/lang/Object",
            interfaces: &["java/lang/Runnable"],
            natives: &[("run", "()V")],
            static_natives: &[],
        });
        assert_eq!(&bytes[..8], &[0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52]);
        // Pool: a/B, Class, Object, Class, Runnable, Class, <init>, ()V, Code, NameAndType,
        // Methodref, run (()V is shared): 12 entries, count 13.
        assert_eq!(u16::from_be_bytes([bytes[8], bytes[9]]), 13);
        // Ends with: one native method without attributes, then no class attributes.
        assert_eq!(&bytes[bytes.len() - 10..], &[1, 1, 0, 12, 0, 8, 0, 0, 0, 0]);
    }
}
