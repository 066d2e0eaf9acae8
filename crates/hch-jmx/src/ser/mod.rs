//! The subset of Java Object Serialization (spec chapter 6) that JMX over RMI needs: a generic,
//! bounded reader into a [`Graph`] and a writer for the handful of classes a client sends.

pub mod graph;
pub mod read;
pub mod write;

pub use graph::{
    Array, ArrayData, ClassData, ClassDesc, Content, Field, Graph, Node, Object, Value,
};
pub use read::{Decoder, Limits};
pub use write::{Arg, Writer};

/// Stream magic and version, `ac ed 00 05`.
pub const STREAM_HEADER: [u8; 4] = [0xac, 0xed, 0x00, 0x05];
/// The first wire handle.
pub const BASE_HANDLE: u32 = 0x7e_0000;

/// Type codes (`java.io.ObjectStreamConstants`).
pub mod tc {
    /// `null`.
    pub const NULL: u8 = 0x70;
    /// A back-reference to a handle.
    pub const REFERENCE: u8 = 0x71;
    /// A new class descriptor.
    pub const CLASSDESC: u8 = 0x72;
    /// A new object.
    pub const OBJECT: u8 = 0x73;
    /// A string of up to 65535 bytes.
    pub const STRING: u8 = 0x74;
    /// A new array.
    pub const ARRAY: u8 = 0x75;
    /// A `java.lang.Class`.
    pub const CLASS: u8 = 0x76;
    /// Block data of up to 255 bytes.
    pub const BLOCKDATA: u8 = 0x77;
    /// End of custom data or of an annotation.
    pub const ENDBLOCKDATA: u8 = 0x78;
    /// Forget all handles.
    pub const RESET: u8 = 0x79;
    /// Block data with a 4-byte length.
    pub const BLOCKDATALONG: u8 = 0x7a;
    /// The writer failed mid-stream.
    pub const EXCEPTION: u8 = 0x7b;
    /// A string with an 8-byte length.
    pub const LONGSTRING: u8 = 0x7c;
    /// A dynamic proxy class descriptor.
    pub const PROXYCLASSDESC: u8 = 0x7d;
    /// An enum constant.
    pub const ENUM: u8 = 0x7e;
}

/// Class descriptor flags.
pub mod sc {
    /// The class has `writeObject`: custom data follows its fields.
    pub const WRITE_METHOD: u8 = 0x01;
    /// `Serializable`.
    pub const SERIALIZABLE: u8 = 0x02;
    /// `Externalizable`.
    pub const EXTERNALIZABLE: u8 = 0x04;
    /// Externalizable data written in block-data mode (protocol 2).
    pub const BLOCK_DATA: u8 = 0x08;
}
