//! hch-classfile: writes class files (JVMS chapter 4) with a small bytecode assembler, so that
//! hch can make the classes it loads into a JVM (an MBean with `native` methods, a generated
//! workload) without a Java compiler.
//!
//! ```
//! use hch_classfile::{op, ClassFile, Constant, ACC_PUBLIC, ACC_STATIC};
//!
//! let mut class = ClassFile::new(ACC_PUBLIC, "demo/Hello", "java/lang/Object");
//! let mut code = class.method(ACC_PUBLIC | ACC_STATIC, "main", "([Ljava/lang/String;)V");
//! code.getstatic("java/lang/System", "out", "Ljava/io/PrintStream;")
//!     .ldc(Constant::Str("hello"))
//!     .invokevirtual("java/io/PrintStream", "println", "(Ljava/lang/String;)V")
//!     .op(op::RETURN);
//! code.finish(2, 1).unwrap();
//! let bytes = class.to_bytes().unwrap();
//! assert_eq!(&bytes[..4], &[0xCA, 0xFE, 0xBA, 0xBE]);
//! ```
//!
//! # Design constraints
//! - Class file version 49 (Java 5): the JVM verifies it by type inference, so code with
//!   branches needs no `StackMapTable`. JDK 11 to 25 load it.
//! - The caller gives `max_stack` and `max_locals`; the verifier rejects a class whose figures
//!   are too small, so a mistake shows the first time the class is loaded.
//! - Emitting never fails: a mistake (an unbound label, a branch out of reach) is kept and
//!   reported by [`Code::finish`], a class past a limit of the format by
//!   [`ClassFile::to_bytes`], each [`Error`] naming the method or class.
//! - No exception tables, no attributes but `Code`: enough for straight-line and looping code.

#![deny(missing_docs)]

mod code;
pub mod op;
mod pool;

pub use code::{Code, Label};
pub use pool::Constant;

use pool::Pool;

/// `ACC_PUBLIC`.
pub const ACC_PUBLIC: u16 = 0x0001;
/// `ACC_PRIVATE`.
pub const ACC_PRIVATE: u16 = 0x0002;
/// `ACC_STATIC`.
pub const ACC_STATIC: u16 = 0x0008;
/// `ACC_FINAL`.
pub const ACC_FINAL: u16 = 0x0010;
/// `ACC_SUPER` on a class (set by [`ClassFile::new`] whatever the caller gives).
pub const ACC_SUPER: u16 = 0x0020;
/// `ACC_NATIVE`.
pub const ACC_NATIVE: u16 = 0x0100;

/// The class file major version written: Java 5, the last without stack map frames.
pub const MAJOR_VERSION: u16 = 49;

/// A class file limit (a u16 count or length) was passed, or a method's code is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A branch names a label that was never bound.
    #[error("{method}: label {label} is used but never bound")]
    UnboundLabel {
        /// `Class.name(descriptor)`.
        method: String,
        /// The label's number, in the order the labels were made.
        label: usize,
    },
    /// A label was bound at two places.
    #[error("{method}: label {label} is bound twice (at {first} and {second})")]
    LabelBoundTwice {
        /// `Class.name(descriptor)`.
        method: String,
        /// The label's number.
        label: usize,
        /// The first code offset.
        first: u32,
        /// The second code offset.
        second: u32,
    },
    /// A branch's target is out of the reach of a 16-bit offset.
    #[error("{method}: the branch at {at} to {target} is out of 16-bit reach")]
    BranchTooFar {
        /// `Class.name(descriptor)`.
        method: String,
        /// The branch's code offset.
        at: u32,
        /// The target's code offset.
        target: u32,
    },
    /// An emitter was given an opcode of another kind (`branch` a non-branch, `local` an
    /// opcode that takes no local variable index).
    #[error("{method}: opcode {opcode:#04x} at {at} is not {expected}")]
    WrongOpcode {
        /// `Class.name(descriptor)`.
        method: String,
        /// The opcode.
        opcode: u8,
        /// Its code offset.
        at: u32,
        /// What the emitter takes.
        expected: &'static str,
    },
    /// A method's bytecode is empty or longer than 65535 bytes.
    #[error("{method}: {len} bytes of bytecode (1 to 65535 allowed)")]
    CodeLength {
        /// `Class.name(descriptor)`.
        method: String,
        /// The length.
        len: usize,
    },
    /// A count of the class (pool slots, fields, methods) or a string's length is past its u16.
    #[error("{class}: {what} is {count}, more than a class file holds ({max})")]
    TooMany {
        /// The class's internal name.
        class: String,
        /// What was counted.
        what: &'static str,
        /// The count.
        count: usize,
        /// The most allowed.
        max: usize,
    },
}

/// A class being written: its constant pool, fields and methods so far.
#[derive(Debug)]
pub struct ClassFile {
    name: String,
    access: u16,
    this_class: u16,
    super_class: u16,
    pool: Pool,
    interfaces: Vec<u16>,
    fields: Vec<u8>,
    field_count: usize,
    methods: Vec<u8>,
    method_count: usize,
}

impl ClassFile {
    /// A class by internal names (`a/b/C`, `java/lang/Object`), with `access` flags
    /// (`ACC_SUPER` is added).
    pub fn new(access: u16, name: &str, super_class: &str) -> ClassFile {
        let mut pool = Pool::default();
        let this_class = pool.class(name);
        let super_class = pool.class(super_class);
        ClassFile {
            name: name.to_string(),
            access: access | ACC_SUPER,
            this_class,
            super_class,
            pool,
            interfaces: Vec::new(),
            fields: Vec::new(),
            field_count: 0,
            methods: Vec::new(),
            method_count: 0,
        }
    }

    /// The internal name, e.g. `hchdemo/Main`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Declares that the class implements an interface (internal name).
    pub fn interface(&mut self, name: &str) -> &mut Self {
        let i = self.pool.class(name);
        self.interfaces.push(i);
        self
    }

    /// Adds a field without attributes (no `ConstantValue`: a static starts at zero or null).
    pub fn field(&mut self, access: u16, name: &str, descriptor: &str) -> &mut Self {
        let (n, d) = (self.pool.utf8(name), self.pool.utf8(descriptor));
        put_u16s(&mut self.fields, &[access, n, d, 0]);
        self.field_count += 1;
        self
    }

    /// Adds a `native` method (`ACC_NATIVE` is added to `access`): static or not.
    pub fn native_method(&mut self, access: u16, name: &str, descriptor: &str) -> &mut Self {
        let (n, d) = (self.pool.utf8(name), self.pool.utf8(descriptor));
        put_u16s(&mut self.methods, &[access | ACC_NATIVE, n, d, 0]);
        self.method_count += 1;
        self
    }

    /// Starts a method with code; it joins the class when [`Code::finish`] succeeds.
    pub fn method(&mut self, access: u16, name: &str, descriptor: &str) -> Code<'_> {
        Code::new(self, access, name, descriptor)
    }

    /// Appends a finished method: header and its `Code` attribute.
    fn add_method(&mut self, header: [u16; 3], max: [u16; 2], code: &[u8]) {
        let code_attr = self.pool.utf8("Code");
        put_u16s(
            &mut self.methods,
            &[header[0], header[1], header[2], 1, code_attr],
        );
        // max_stack, max_locals, code_length, code, exception table length, attributes count.
        let length = 2 + 2 + 4 + code.len() as u32 + 2 + 2;
        self.methods.extend_from_slice(&length.to_be_bytes());
        put_u16s(&mut self.methods, &max);
        self.methods
            .extend_from_slice(&(code.len() as u32).to_be_bytes());
        self.methods.extend_from_slice(code);
        put_u16s(&mut self.methods, &[0, 0]);
        self.method_count += 1;
    }

    /// The class file's bytes, or the first limit of the format it passes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        self.check_limits()?;
        let mut out = Vec::with_capacity(10 + self.pool.bytes().len() + self.methods.len());
        out.extend_from_slice(&0xCAFE_BABEu32.to_be_bytes());
        put_u16s(&mut out, &[0, MAJOR_VERSION, self.pool.count() as u16]);
        out.extend_from_slice(self.pool.bytes());
        put_u16s(
            &mut out,
            &[
                self.access,
                self.this_class,
                self.super_class,
                self.interfaces.len() as u16,
            ],
        );
        put_u16s(&mut out, &self.interfaces);
        put_u16s(&mut out, &[self.field_count as u16]);
        out.extend_from_slice(&self.fields);
        put_u16s(&mut out, &[self.method_count as u16]);
        out.extend_from_slice(&self.methods);
        put_u16s(&mut out, &[0]); // class attributes
        Ok(out)
    }

    /// The u16 counts and lengths the format has.
    fn check_limits(&self) -> Result<(), Error> {
        let too_many = |what, count: usize, max: usize| Error::TooMany {
            class: self.name.clone(),
            what,
            count,
            max,
        };
        if let Some(len) = self.pool.longest_overflow() {
            return Err(too_many("a string's length in modified UTF-8", len, 65535));
        }
        let checks = [
            ("the constant pool count", self.pool.count() as usize),
            ("the field count", self.field_count),
            ("the method count", self.method_count),
            ("the interface count", self.interfaces.len()),
        ];
        match checks.into_iter().find(|&(_, n)| n > 65535) {
            Some((what, n)) => Err(too_many(what, n, 65535)),
            None => Ok(()),
        }
    }
}

/// Appends u16s big-endian.
fn put_u16s(out: &mut Vec<u8>, values: &[u16]) {
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

#[cfg(test)]
mod tests;
