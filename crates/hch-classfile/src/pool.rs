//! The constant pool (JVMS 4.4), deduplicated: asking twice for one constant gives one index.

use std::collections::HashMap;

/// A constant that `ldc`, `ldc_w` or `ldc2_w` can load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Constant<'a> {
    /// A `CONSTANT_Integer`.
    Int(i32),
    /// A `CONSTANT_Long` (two pool slots, loaded by `ldc2_w`).
    Long(i64),
    /// A `CONSTANT_Double` (two pool slots, loaded by `ldc2_w`).
    Double(f64),
    /// A `CONSTANT_String`.
    Str(&'a str),
}

impl Constant<'_> {
    /// Whether the constant takes two pool slots and two stack words (`ldc2_w`).
    pub fn is_wide(&self) -> bool {
        matches!(self, Constant::Long(_) | Constant::Double(_))
    }
}

/// Entry tags (JVMS table 4.4-B).
const UTF8: u8 = 1;
const INTEGER: u8 = 3;
const LONG: u8 = 5;
const DOUBLE: u8 = 6;
const CLASS: u8 = 7;
const STRING: u8 = 8;
const FIELDREF: u8 = 9;
const METHODREF: u8 = 10;
const NAME_AND_TYPE: u8 = 12;

/// The pool's bytes and the index of each entry already in it.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    bytes: Vec<u8>,
    /// Slots used so far (an entry's index is its first slot, from 1).
    slots: u32,
    index: HashMap<(u8, Vec<u8>), u32>,
    /// The length of the longest string past the 65535 bytes a `CONSTANT_Utf8` holds.
    overflow: Option<usize>,
}

impl Pool {
    /// `constant_pool_count`: one more than the slots used (when it fits in a u16).
    pub(crate) fn count(&self) -> u32 {
        self.slots + 1
    }

    /// The entries, as written after `constant_pool_count`.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The length of the longest string too long for the pool, if any.
    pub(crate) fn longest_overflow(&self) -> Option<usize> {
        self.overflow
    }

    /// Adds an entry once and returns its index; a long or double takes two slots. Past
    /// 65535 slots the index is truncated here and the class is refused when written.
    fn entry(&mut self, tag: u8, body: Vec<u8>) -> u16 {
        let key = (tag, body);
        if let Some(&i) = self.index.get(&key) {
            return i as u16;
        }
        let i = self.slots + 1;
        self.slots += if tag == LONG || tag == DOUBLE { 2 } else { 1 };
        self.bytes.push(tag);
        self.bytes.extend_from_slice(&key.1);
        self.index.insert(key, i);
        i as u16
    }

    /// A `CONSTANT_Utf8` in modified UTF-8 (JVMS 4.4.7).
    pub(crate) fn utf8(&mut self, s: &str) -> u16 {
        let text = modified_utf8(s);
        if text.len() > 65535 {
            self.overflow = self.overflow.max(Some(text.len()));
        }
        let mut body = (text.len() as u16).to_be_bytes().to_vec();
        body.extend_from_slice(&text);
        self.entry(UTF8, body)
    }

    /// A `CONSTANT_Class` by internal name (`java/lang/Object`).
    pub(crate) fn class(&mut self, name: &str) -> u16 {
        let n = self.utf8(name);
        self.entry(CLASS, n.to_be_bytes().to_vec())
    }

    /// A loadable constant: Integer, Long, Double or String.
    pub(crate) fn constant(&mut self, c: Constant<'_>) -> u16 {
        match c {
            Constant::Int(v) => self.entry(INTEGER, v.to_be_bytes().to_vec()),
            Constant::Long(v) => self.entry(LONG, v.to_be_bytes().to_vec()),
            Constant::Double(v) => self.entry(DOUBLE, v.to_bits().to_be_bytes().to_vec()),
            Constant::Str(s) => {
                let u = self.utf8(s);
                self.entry(STRING, u.to_be_bytes().to_vec())
            }
        }
    }

    /// A `CONSTANT_Fieldref`.
    pub(crate) fn field_ref(&mut self, class: &str, name: &str, descriptor: &str) -> u16 {
        self.member_ref(FIELDREF, class, name, descriptor)
    }

    /// A `CONSTANT_Methodref`.
    pub(crate) fn method_ref(&mut self, class: &str, name: &str, descriptor: &str) -> u16 {
        self.member_ref(METHODREF, class, name, descriptor)
    }

    /// A field or method reference with its `CONSTANT_NameAndType`.
    fn member_ref(&mut self, tag: u8, class: &str, name: &str, descriptor: &str) -> u16 {
        let c = self.class(class);
        let nat = [self.utf8(name), self.utf8(descriptor)];
        let nat = self.entry(NAME_AND_TYPE, be_pair(nat));
        self.entry(tag, be_pair([c, nat]))
    }
}

/// Two u16 big-endian.
fn be_pair([a, b]: [u16; 2]) -> Vec<u8> {
    let mut v = a.to_be_bytes().to_vec();
    v.extend_from_slice(&b.to_be_bytes());
    v
}

/// Modified UTF-8: NUL as two bytes, characters beyond the BMP as two 3-byte surrogates.
fn modified_utf8(s: &str) -> Vec<u8> {
    if s.bytes().all(|b| b != 0 && b < 0x80) {
        return s.as_bytes().to_vec();
    }
    let mut out = Vec::with_capacity(s.len() + 8);
    for unit in s.encode_utf16() {
        let u = u32::from(unit);
        match u {
            1..=0x7f => out.push(u as u8),
            0 | 0x80..=0x7ff => out.extend([0xc0 | (u >> 6) as u8, 0x80 | (u & 0x3f) as u8]),
            _ => out.extend([
                0xe0 | (u >> 12) as u8,
                0x80 | ((u >> 6) & 0x3f) as u8,
                0x80 | (u & 0x3f) as u8,
            ]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_shared_and_wide_ones_take_two_slots() {
        let mut p = Pool::default();
        assert_eq!(p.utf8("a"), 1);
        assert_eq!(p.class("a"), 2);
        assert_eq!(p.class("a"), 2);
        assert_eq!(p.constant(Constant::Long(7)), 3);
        assert_eq!(p.constant(Constant::Int(7)), 5);
        assert_eq!(p.constant(Constant::Double(1.5)), 6);
        assert_eq!(p.constant(Constant::Long(7)), 3);
        assert_eq!(p.count(), 8);
        let b = p.bytes();
        assert_eq!(&b[..4], &[UTF8, 0, 1, b'a']);
        assert_eq!(&b[4..7], &[CLASS, 0, 1]);
        assert_eq!(&b[7..16], &[LONG, 0, 0, 0, 0, 0, 0, 0, 7]);
        assert_eq!(&b[16..21], &[INTEGER, 0, 0, 0, 7]);
        assert_eq!(&b[21..30], &[DOUBLE, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn method_ref_layout() {
        let mut p = Pool::default();
        assert_eq!(p.method_ref("A", "f", "()V"), 6);
        // Utf8 A, Class A, Utf8 f, Utf8 ()V, NameAndType, Methodref.
        assert_eq!(
            &p.bytes()[p.bytes().len() - 10..],
            &[12, 0, 3, 0, 4, 10, 0, 2, 0, 5]
        );
        assert_eq!(p.field_ref("A", "f", "()V"), 7);
    }

    #[test]
    fn modified_utf8_nul_and_supplementary() {
        assert_eq!(modified_utf8("a\0"), [b'a', 0xc0, 0x80]);
        assert_eq!(modified_utf8("é"), [0xc3, 0xa9]);
        assert_eq!(modified_utf8("€"), [0xe2, 0x82, 0xac]);
        // U+1F600: surrogates D83D DE00, three bytes each.
        assert_eq!(modified_utf8("😀"), [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]);
    }
}
