//! Writes the few classes a JMX client sends, exactly as `ObjectOutputStream` would: handles
//! are assigned in the same order, and class descriptors and type strings written before are
//! back-referenced, so the bytes match the JDK's byte for byte.

use std::collections::HashMap;

use super::{sc, tc, BASE_HANDLE, STREAM_HEADER};
use crate::mutf8;

/// A value to pass as an MBean operation parameter or an RMI argument.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Arg {
    /// `null`.
    Null,
    /// A `java.lang.String`.
    Str(String),
    /// A `java.lang.Long` (the MXBean open type of `long`).
    Long(i64),
    /// A `java.lang.Integer`.
    Int(i32),
    /// A `java.lang.Boolean`.
    Bool(bool),
    /// A `String[]`.
    Strings(Vec<String>),
}

// A class the writer knows: name, serialVersionUID, flags, fields (type code, name, type
// string for object fields) in stream order, and superclass.
struct Class {
    name: &'static str,
    suid: i64,
    flags: u8,
    fields: &'static [(u8, &'static str, &'static str)],
    super_class: Option<&'static str>,
}

// serialVersionUIDs verified on JDK 17 and 25 (captured from the JDKs' own serialization during research).
const CLASSES: &[Class] = &[
    Class {
        name: "javax.management.ObjectName",
        suid: 1081892073854801359,
        flags: sc::WRITE_METHOD | sc::SERIALIZABLE,
        fields: &[],
        super_class: None,
    },
    Class {
        name: "java.rmi.MarshalledObject",
        suid: 8988374069173025854,
        flags: sc::SERIALIZABLE,
        fields: &[
            (b'I', "hash", ""),
            (b'[', "locBytes", "[B"),
            (b'[', "objBytes", "[B"),
        ],
        super_class: None,
    },
    Class {
        name: "[Ljava.lang.String;",
        suid: -5921575005990323385,
        flags: sc::SERIALIZABLE,
        fields: &[],
        super_class: None,
    },
    Class {
        name: "[Ljava.lang.Object;",
        suid: -8012369246846506644,
        flags: sc::SERIALIZABLE,
        fields: &[],
        super_class: None,
    },
    Class {
        name: "[B",
        suid: -5984413125824719648,
        flags: sc::SERIALIZABLE,
        fields: &[],
        super_class: None,
    },
    Class {
        name: "java.lang.Number",
        suid: -8742448824652078965,
        flags: sc::SERIALIZABLE,
        fields: &[],
        super_class: None,
    },
    Class {
        name: "java.lang.Long",
        suid: 4290774380558885855,
        flags: sc::SERIALIZABLE,
        fields: &[(b'J', "value", "")],
        super_class: Some("java.lang.Number"),
    },
    Class {
        name: "java.lang.Integer",
        suid: 1360826667806852920,
        flags: sc::SERIALIZABLE,
        fields: &[(b'I', "value", "")],
        super_class: Some("java.lang.Number"),
    },
    Class {
        name: "java.lang.Boolean",
        suid: -3665804199014368530,
        flags: sc::SERIALIZABLE,
        fields: &[(b'Z', "value", "")],
        super_class: None,
    },
];

/// An `ObjectOutputStream` for the classes in [`Arg`] plus ObjectName and MarshalledObject.
#[derive(Debug)]
pub struct Writer {
    buf: Vec<u8>,
    block: Vec<u8>,
    /// RMI's `MarshalOutputStream` writes a (null) codebase annotation after each descriptor.
    rmi: bool,
    next_handle: u32,
    descs: HashMap<&'static str, u32>,
    type_strings: HashMap<&'static str, u32>,
}

impl Writer {
    /// A stream as RMI writes call arguments (class annotations present).
    pub fn rmi() -> Self {
        Self::new(true)
    }

    /// A plain stream, as inside `MarshalledObject.objBytes` (annotations go elsewhere).
    pub fn plain() -> Self {
        Self::new(false)
    }

    fn new(rmi: bool) -> Self {
        Writer {
            buf: STREAM_HEADER.to_vec(),
            block: Vec::new(),
            rmi,
            next_handle: BASE_HANDLE,
            descs: HashMap::new(),
            type_strings: HashMap::new(),
        }
    }

    /// Appends primitive data (goes into block data records).
    pub fn block(&mut self, bytes: &[u8]) {
        self.block.extend_from_slice(bytes);
    }

    /// The finished stream.
    pub fn finish(mut self) -> Vec<u8> {
        self.flush_block();
        self.buf
    }

    // Writes pending primitives as block records of at most 1024 bytes, as Java does.
    fn flush_block(&mut self) {
        let block = std::mem::take(&mut self.block);
        for chunk in block.chunks(1024) {
            if chunk.len() <= 255 {
                self.buf.extend([tc::BLOCKDATA, chunk.len() as u8]);
            } else {
                self.buf.push(tc::BLOCKDATALONG);
                self.buf.extend((chunk.len() as u32).to_be_bytes());
            }
            self.buf.extend_from_slice(chunk);
        }
    }

    fn handle(&mut self) -> u32 {
        let h = self.next_handle;
        self.next_handle += 1;
        h
    }

    fn reference(&mut self, h: u32) {
        self.buf.push(tc::REFERENCE);
        self.buf.extend(h.to_be_bytes());
    }

    fn utf(&mut self, s: &str) {
        let e = mutf8::encode(s);
        self.buf.extend((e.len() as u16).to_be_bytes());
        self.buf.extend(e);
    }

    /// Writes `null`.
    pub fn null(&mut self) {
        self.flush_block();
        self.buf.push(tc::NULL);
    }

    /// Writes a new string object (TC_LONGSTRING past 65535 bytes).
    pub fn string(&mut self, s: &str) {
        self.flush_block();
        self.handle();
        let e = mutf8::encode(s);
        if let Ok(n) = u16::try_from(e.len()) {
            self.buf.push(tc::STRING);
            self.buf.extend(n.to_be_bytes());
        } else {
            self.buf.push(tc::LONGSTRING);
            self.buf.extend((e.len() as u64).to_be_bytes());
        }
        self.buf.extend(e);
    }

    // A field's type string: interned in Java, so written once and referenced after.
    fn type_string(&mut self, s: &'static str) {
        match self.type_strings.get(s) {
            Some(&h) => self.reference(h),
            None => {
                let h = self.next_handle;
                self.string(s);
                self.type_strings.insert(s, h);
            }
        }
    }

    // A class descriptor, new or back-referenced, with its superclasses.
    fn class_desc(&mut self, name: &'static str) {
        if let Some(&h) = self.descs.get(name) {
            return self.reference(h);
        }
        let class = CLASSES
            .iter()
            .find(|c| c.name == name)
            .expect("writer knows its own classes");
        self.buf.push(tc::CLASSDESC);
        let h = self.handle();
        self.descs.insert(class.name, h);
        self.utf(class.name);
        self.buf.extend(class.suid.to_be_bytes());
        self.buf.push(class.flags);
        self.buf.extend((class.fields.len() as u16).to_be_bytes());
        for &(code, field, type_string) in class.fields {
            self.buf.push(code);
            self.utf(field);
            if matches!(code, b'L' | b'[') {
                self.type_string(type_string);
            }
        }
        if self.rmi {
            self.buf.push(tc::NULL);
        }
        self.buf.push(tc::ENDBLOCKDATA);
        match class.super_class {
            Some(s) => self.class_desc(s),
            None => self.buf.push(tc::NULL),
        }
    }

    // TC_OBJECT, its descriptor and its handle: the start of every object.
    fn object_header(&mut self, class: &'static str) {
        self.flush_block();
        self.buf.push(tc::OBJECT);
        self.class_desc(class);
        self.handle();
    }

    fn array_header(&mut self, class: &'static str, len: usize) {
        self.flush_block();
        self.buf.push(tc::ARRAY);
        self.class_desc(class);
        self.handle();
        self.buf.extend((len as u32).to_be_bytes());
    }

    /// Writes a `String[]`.
    pub fn strings(&mut self, items: &[String]) {
        self.array_header("[Ljava.lang.String;", items.len());
        for s in items {
            self.string(s);
        }
    }

    /// Writes a `byte[]`.
    pub fn bytes(&mut self, data: &[u8]) {
        self.array_header("[B", data.len());
        self.buf.extend_from_slice(data);
    }

    /// Writes an `Object[]` of the given arguments.
    pub fn objects(&mut self, items: &[Arg]) {
        self.array_header("[Ljava.lang.Object;", items.len());
        for a in items {
            self.arg(a);
        }
    }

    /// Writes one argument as its Java object.
    pub fn arg(&mut self, a: &Arg) {
        match a {
            Arg::Null => self.null(),
            Arg::Str(s) => self.string(s),
            Arg::Strings(v) => self.strings(v),
            Arg::Long(v) => {
                self.object_header("java.lang.Long");
                self.buf.extend(v.to_be_bytes());
            }
            Arg::Int(v) => {
                self.object_header("java.lang.Integer");
                self.buf.extend(v.to_be_bytes());
            }
            Arg::Bool(v) => {
                self.object_header("java.lang.Boolean");
                self.buf.push(u8::from(*v));
            }
        }
    }

    /// Writes a `javax.management.ObjectName` (its custom data is the name string).
    pub fn object_name(&mut self, name: &str) {
        self.object_header("javax.management.ObjectName");
        self.string(name);
        self.buf.push(tc::ENDBLOCKDATA);
    }

    /// Writes a `java.rmi.MarshalledObject` holding an already serialized stream.
    pub fn marshalled_object(&mut self, obj_bytes: &[u8]) {
        self.object_header("java.rmi.MarshalledObject");
        self.buf.extend(marshalled_hash(obj_bytes).to_be_bytes());
        self.null(); // locBytes: no class annotations
        self.bytes(obj_bytes);
    }
}

/// `MarshalledObject.hash`: Java's `31 * h + b` over the signed bytes.
pub fn marshalled_hash(bytes: &[u8]) -> i32 {
    bytes.iter().fold(0i32, |h, &b| {
        h.wrapping_mul(31).wrapping_add(i32::from(b as i8))
    })
}
