//! A generic, bounded Java serialization reader over a byte slice. Sans-IO: when the bytes end
//! early it answers [`Error::Incomplete`] with how many more are needed at least, and the driver
//! reads more and starts again.

use super::graph::{
    Array, ArrayData, ClassData, ClassDesc, Content, Field, Graph, Node, Object, Value,
};
use super::{sc, tc, BASE_HANDLE, STREAM_HEADER};
use crate::error::{Error, Result};
use crate::mutf8;

/// Bounds for untrusted replies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nesting depth of objects inside objects.
    pub max_depth: usize,
    /// Decoded nodes (objects, strings, arrays, descriptors) per message.
    pub max_nodes: usize,
    /// Classes in one hierarchy.
    pub max_hierarchy: usize,
    /// Bytes in one string, byte array or block data record: a longer announced length is
    /// refused before its bytes are awaited.
    pub max_len: usize,
    /// Elements of all non-byte arrays of one message together: each takes 16 bytes decoded,
    /// up to 16 times its size on the wire.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // MBeanInfo, the largest JMX reply, has a few thousand nodes and nests about 20 deep;
        // the longest strings are diagnostic command outputs of a few MB.
        Limits {
            max_depth: 100,
            max_nodes: 500_000,
            max_hierarchy: 32,
            max_len: 64 << 20,
            max_elements: 4_000_000,
        }
    }
}

/// Reads one serialization stream from the front of a byte slice.
#[derive(Debug)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    graph: Graph,
    /// Wire handle (minus the base) to node index; cleared by TC_RESET.
    handles: Vec<usize>,
    depth: usize,
    /// Array elements decoded so far (byte arrays aside).
    elements: usize,
    limits: Limits,
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `buf`, expecting the stream header next.
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_limits(buf, Limits::default())
    }

    /// A decoder with explicit limits.
    pub fn with_limits(buf: &'a [u8], limits: Limits) -> Self {
        Decoder {
            buf,
            pos: 0,
            graph: Graph::default(),
            handles: Vec::new(),
            depth: 0,
            elements: 0,
            limits,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The graph decoded so far.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Hands over the decoded graph.
    pub fn into_graph(self) -> Graph {
        self.graph
    }

    /// Reads and checks `ac ed 00 05`.
    pub fn read_header(&mut self) -> Result<()> {
        let at = self.pos;
        let h = self.take(4)?;
        if h != STREAM_HEADER {
            return Err(
                self.malformed_at(at, format!("expected stream header aced0005, got {h:02x?}"))
            );
        }
        Ok(())
    }

    /// Reads `n` bytes of block data, spanning block records; extra bytes in the last record
    /// are dropped (JMX methods return no primitives).
    pub fn read_block_bytes(&mut self, n: usize) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(n.min(64));
        while out.len() < n {
            match self.read_content()? {
                Content::Block(b) => out.extend_from_slice(&b),
                Content::Value(_) => {
                    return Err(
                        self.malformed(format!("expected {n} bytes of block data, got an object"))
                    )
                }
            }
        }
        out.truncate(n);
        Ok(out)
    }

    /// Reads one object (or null, or a back-reference); block data here is an error.
    pub fn read_value(&mut self) -> Result<Value> {
        let at = self.pos;
        match self.read_content()? {
            Content::Value(v) => Ok(v),
            Content::Block(_) => {
                Err(self.malformed_at(at, "expected an object, got block data".into()))
            }
        }
    }

    /// Reads the next content item: an object or a block data record.
    pub fn read_content(&mut self) -> Result<Content> {
        let at = self.pos;
        let code = self.u8()?;
        match code {
            tc::BLOCKDATA => {
                let n = self.u8()?;
                Ok(Content::Block(self.take(n.into())?.to_vec()))
            }
            tc::BLOCKDATALONG => {
                let n = self.len_i32()?;
                self.check_len(n, "bytes of block data")?;
                Ok(Content::Block(self.take(n)?.to_vec()))
            }
            tc::RESET => {
                // Resets in a row are read in a loop, never by recursion (no stack to exhaust).
                self.handles.clear();
                while matches!(self.peek(), Ok(tc::RESET)) {
                    self.pos += 1;
                }
                self.nested(|d| d.read_content())
            }
            tc::ENDBLOCKDATA => {
                Err(self.malformed_at(at, "unexpected end of block data (0x78)".into()))
            }
            _ => self
                .nested(|d| d.object_after_code(code, at))
                .map(Content::Value),
        }
    }

    // Runs a nested read one level deeper, enforcing the depth limit.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= self.limits.max_depth {
            return Err(Error::Limit {
                offset: self.pos,
                what: "levels of nesting",
                limit: self.limits.max_depth,
            });
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    // The object whose type code was just read.
    fn object_after_code(&mut self, code: u8, at: usize) -> Result<Value> {
        match code {
            tc::NULL => Ok(Value::Null),
            tc::REFERENCE => self.reference().map(Value::Node),
            tc::STRING => {
                let n = self.u16()?.into();
                self.string_body(n)
            }
            tc::LONGSTRING => {
                let n = self.len_i64()?;
                self.check_len(n, "bytes of string")?;
                self.string_body(n)
            }
            tc::CLASSDESC | tc::PROXYCLASSDESC => self.class_desc_body(code).map(Value::Node),
            tc::CLASS => {
                let desc = self.class_desc()?;
                Ok(Value::Node(self.add_node(Node::Class(desc))?))
            }
            tc::ARRAY => self.array(),
            tc::OBJECT => self.object(),
            tc::ENUM => self.enum_constant(),
            tc::EXCEPTION => Err(self.malformed_at(
                at,
                "the server aborted the stream while writing (TC_EXCEPTION)".into(),
            )),
            other => Err(self.malformed_at(at, format!("unknown type code 0x{other:02x}"))),
        }
    }

    fn string_body(&mut self, n: usize) -> Result<Value> {
        let s = mutf8::decode(self.take(n)?);
        Ok(Value::Node(self.add_node(Node::Str(s))?))
    }

    // A class descriptor where one is expected: new, proxy, null or a back-reference.
    fn class_desc(&mut self) -> Result<Option<usize>> {
        let at = self.pos;
        match self.u8()? {
            tc::NULL => Ok(None),
            tc::REFERENCE => {
                let i = self.reference()?;
                match self.graph.nodes[i] {
                    Node::ClassDesc(_) => Ok(Some(i)),
                    _ => Err(self.malformed_at(
                        at,
                        "a class descriptor reference points to something else".into(),
                    )),
                }
            }
            code @ (tc::CLASSDESC | tc::PROXYCLASSDESC) => self.class_desc_body(code).map(Some),
            other => Err(self.malformed_at(
                at,
                format!("expected a class descriptor, got type code 0x{other:02x}"),
            )),
        }
    }

    fn class_desc_body(&mut self, code: u8) -> Result<usize> {
        let mut desc = ClassDesc {
            name: String::new(),
            suid: 0,
            flags: sc::SERIALIZABLE,
            fields: Vec::new(),
            proxy_interfaces: Vec::new(),
            super_class: None,
        };
        let idx;
        if code == tc::PROXYCLASSDESC {
            idx = self.add_node(Node::Pending)?;
            let n = self.len_i32()?;
            for _ in 0..n {
                let iface = self.utf()?;
                desc.proxy_interfaces.push(iface);
            }
            desc.name = "$Proxy".into();
        } else {
            desc.name = self.utf()?;
            desc.suid = self.i64()?;
            desc.flags = self.u8()?;
            idx = self.add_node(Node::Pending)?;
            let n = self.u16()?;
            for _ in 0..n {
                desc.fields.push(self.field()?);
            }
        }
        self.skip_annotation()?;
        // The superclass chain counts as nesting: a crafted endless chain must hit the limit.
        desc.super_class = self.nested(|d| d.class_desc())?;
        self.graph.nodes[idx] = Node::ClassDesc(desc);
        Ok(idx)
    }

    fn field(&mut self) -> Result<Field> {
        let at = self.pos;
        let code = self.u8()?;
        let name = self.utf()?;
        match code {
            b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {}
            b'L' | b'[' => {
                // The field's type signature, a string object we do not need.
                self.read_value()?;
            }
            other => {
                return Err(self.malformed_at(at, format!("unknown field type code 0x{other:02x}")))
            }
        }
        Ok(Field { code, name })
    }

    // Class annotations (RMI writes the codebase here): read and dropped.
    fn skip_annotation(&mut self) -> Result<()> {
        self.annotation().map(drop)
    }

    // Contents up to and including TC_ENDBLOCKDATA.
    fn annotation(&mut self) -> Result<Vec<Content>> {
        let mut items = Vec::new();
        loop {
            if self.peek()? == tc::ENDBLOCKDATA {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.read_content()?);
        }
    }

    fn array(&mut self) -> Result<Value> {
        let at = self.pos;
        let class = self
            .class_desc()?
            .ok_or_else(|| self.malformed_at(at, "array without a class".into()))?;
        let idx = self.add_node(Node::Pending)?;
        let n = self.len_i32()?;
        let elem = self
            .desc(class)?
            .name
            .as_bytes()
            .get(1)
            .copied()
            .unwrap_or(b'L');
        let data = match elem {
            b'B' => {
                self.check_len(n, "bytes of byte array")?;
                ArrayData::Bytes(self.take(n)?.to_vec())
            }
            b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {
                ArrayData::Values(self.primitives(elem, n)?)
            }
            _ => ArrayData::Values(self.values(n)?),
        };
        self.graph.nodes[idx] = Node::Array(Array { class, data });
        Ok(Value::Node(idx))
    }

    fn primitives(&mut self, code: u8, n: usize) -> Result<Vec<Value>> {
        self.count_elements(n)?;
        let size = prim_size(code);
        // Check the bytes are there before allocating for `n` elements.
        self.need(n.saturating_mul(size))?;
        (0..n).map(|_| self.primitive(code)).collect()
    }

    fn values(&mut self, n: usize) -> Result<Vec<Value>> {
        self.count_elements(n)?;
        // Every element takes at least one byte: bound the allocation by what remains.
        let mut out = Vec::with_capacity(n.min(self.remaining()));
        for _ in 0..n {
            out.push(self.read_value()?);
        }
        Ok(out)
    }

    fn object(&mut self) -> Result<Value> {
        let at = self.pos;
        let class = self
            .class_desc()?
            .ok_or_else(|| self.malformed_at(at, "object without a class".into()))?;
        let idx = self.add_node(Node::Pending)?;
        let mut data = Vec::new();
        for c in self.hierarchy(class, at)? {
            data.push(self.class_data(c)?);
        }
        self.graph.nodes[idx] = Node::Object(Object { class, data });
        Ok(Value::Node(idx))
    }

    // The classes of an object, top-most superclass first; bounded so a cycle cannot loop.
    fn hierarchy(&self, class: usize, at: usize) -> Result<Vec<usize>> {
        let mut chain = vec![class];
        let mut cur = self.desc(class)?.super_class;
        while let Some(c) = cur {
            if chain.len() >= self.limits.max_hierarchy {
                return Err(Error::Limit {
                    offset: at,
                    what: "classes in a hierarchy",
                    limit: self.limits.max_hierarchy,
                });
            }
            chain.push(c);
            cur = self.desc(c)?.super_class;
        }
        chain.reverse();
        Ok(chain)
    }

    fn class_data(&mut self, class: usize) -> Result<ClassData> {
        let desc = self.desc(class)?;
        let (flags, codes): (u8, Vec<u8>) =
            (desc.flags, desc.fields.iter().map(|f| f.code).collect());
        if flags & sc::EXTERNALIZABLE != 0 {
            if flags & sc::BLOCK_DATA == 0 {
                let name = self.desc(class)?.name.clone();
                return Err(self.malformed(format!(
                    "{name} uses the pre-1.2 externalizable format, which cannot be skipped"
                )));
            }
            return Ok(ClassData {
                class,
                fields: Vec::new(),
                annotation: self.annotation()?,
            });
        }
        let mut fields = Vec::with_capacity(codes.len());
        for code in codes {
            fields.push(match code {
                b'L' | b'[' => self.read_value()?,
                _ => self.primitive(code)?,
            });
        }
        let annotation = if flags & sc::WRITE_METHOD != 0 {
            self.annotation()?
        } else {
            Vec::new()
        };
        Ok(ClassData {
            class,
            fields,
            annotation,
        })
    }

    fn enum_constant(&mut self) -> Result<Value> {
        let at = self.pos;
        let class = self
            .class_desc()?
            .ok_or_else(|| self.malformed_at(at, "enum without a class".into()))?;
        let idx = self.add_node(Node::Pending)?;
        let name_v = self.read_value()?;
        let name = self.graph.str(name_v).unwrap_or_default().to_string();
        self.graph.nodes[idx] = Node::Enum { class, name };
        Ok(Value::Node(idx))
    }

    fn primitive(&mut self, code: u8) -> Result<Value> {
        Ok(match code {
            b'B' => Value::Byte(self.u8()? as i8),
            b'Z' => Value::Bool(self.u8()? != 0),
            b'C' => Value::Char(self.u16()?),
            b'S' => Value::Short(self.u16()? as i16),
            b'I' => Value::Int(self.i32()?),
            b'F' => Value::Float(f32::from_bits(self.i32()? as u32)),
            b'J' => Value::Long(self.i64()?),
            b'D' => Value::Double(f64::from_bits(self.i64()? as u64)),
            other => {
                return Err(self.malformed(format!("unknown primitive type code 0x{other:02x}")))
            }
        })
    }

    // A new node that also gets the next wire handle.
    fn add_node(&mut self, node: Node) -> Result<usize> {
        if self.graph.nodes.len() >= self.limits.max_nodes {
            return Err(Error::Limit {
                offset: self.pos,
                what: "objects",
                limit: self.limits.max_nodes,
            });
        }
        self.graph.nodes.push(node);
        let idx = self.graph.nodes.len() - 1;
        self.handles.push(idx);
        Ok(idx)
    }

    fn reference(&mut self) -> Result<usize> {
        let at = self.pos;
        let h = self.i32()? as u32;
        h.checked_sub(BASE_HANDLE)
            .and_then(|i| self.handles.get(i as usize).copied())
            .ok_or_else(|| {
                self.malformed_at(
                    at,
                    format!(
                        "reference to unknown handle 0x{h:x} ({} known)",
                        self.handles.len()
                    ),
                )
            })
    }

    fn desc(&self, i: usize) -> Result<&ClassDesc> {
        self.graph.class_desc(i).ok_or_else(|| {
            self.malformed("a class descriptor is used before it is complete".into())
        })
    }

    fn utf(&mut self) -> Result<String> {
        let n = self.u16()?.into();
        Ok(mutf8::decode(self.take(n)?))
    }

    // An announced length above the cap is refused before its bytes are awaited.
    fn check_len(&self, n: usize, what: &'static str) -> Result<()> {
        if n > self.limits.max_len {
            return Err(Error::TooLong {
                offset: self.pos,
                what,
                claimed: n as u64,
                limit: self.limits.max_len as u64,
            });
        }
        Ok(())
    }

    // Array elements add up over the message: decoded, each is far larger than on the wire.
    fn count_elements(&mut self, n: usize) -> Result<()> {
        let total = self.elements.saturating_add(n);
        if total > self.limits.max_elements {
            return Err(Error::TooLong {
                offset: self.pos,
                what: "array elements in one reply",
                claimed: total as u64,
                limit: self.limits.max_elements as u64,
            });
        }
        self.elements = total;
        Ok(())
    }

    fn len_i32(&mut self) -> Result<usize> {
        let at = self.pos;
        let n = self.i32()?;
        usize::try_from(n).map_err(|_| self.malformed_at(at, format!("negative length {n}")))
    }

    fn len_i64(&mut self) -> Result<usize> {
        let at = self.pos;
        let n = self.i64()?;
        usize::try_from(n).map_err(|_| self.malformed_at(at, format!("bad length {n}")))
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn need(&self, n: usize) -> Result<()> {
        if n > self.remaining() {
            return Err(Error::Incomplete {
                offset: self.buf.len(),
                needed: n - self.remaining(),
            });
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        self.need(n)?;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn peek(&self) -> Result<u8> {
        self.need(1)?;
        Ok(self.buf[self.pos])
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array_n()?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array_n()?))
    }

    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array_n()?))
    }

    fn array_n<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn malformed(&self, what: String) -> Error {
        self.malformed_at(self.pos, what)
    }

    fn malformed_at(&self, offset: usize, what: String) -> Error {
        Error::Malformed { offset, what }
    }
}

fn prim_size(code: u8) -> usize {
    match code {
        b'B' | b'Z' => 1,
        b'C' | b'S' => 2,
        b'I' | b'F' => 4,
        _ => 8,
    }
}
