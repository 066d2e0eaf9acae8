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
    pub const NULL: u8 = 0x70;
    pub const REFERENCE: u8 = 0x71;
    pub const CLASSDESC: u8 = 0x72;
    pub const OBJECT: u8 = 0x73;
    pub const STRING: u8 = 0x74;
    pub const ARRAY: u8 = 0x75;
    pub const CLASS: u8 = 0x76;
    pub const BLOCKDATA: u8 = 0x77;
    pub const ENDBLOCKDATA: u8 = 0x78;
    pub const RESET: u8 = 0x79;
    pub const BLOCKDATALONG: u8 = 0x7a;
    pub const EXCEPTION: u8 = 0x7b;
    pub const LONGSTRING: u8 = 0x7c;
    pub const PROXYCLASSDESC: u8 = 0x7d;
    pub const ENUM: u8 = 0x7e;
}

/// Class descriptor flags.
pub mod sc {
    pub const WRITE_METHOD: u8 = 0x01;
    pub const SERIALIZABLE: u8 = 0x02;
    pub const EXTERNALIZABLE: u8 = 0x04;
    pub const BLOCK_DATA: u8 = 0x08;
}
