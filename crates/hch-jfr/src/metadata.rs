//! The metadata event: a string table and an element tree that declares every type of a chunk.

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::error::{Problem, RawError, RawResult};
use crate::input::{Cursor, JfrStr};

/// How deep the metadata element tree may nest (real files: 4).
const MAX_ELEMENT_DEPTH: usize = 16;

/// One field of a type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDef {
    /// Field name.
    pub name: String,
    /// Type id of the field's type.
    pub type_id: u64,
    /// Stored as a constant pool key.
    pub constant_pool: bool,
    /// An array (`dimension="1"`).
    pub array: bool,
}

/// One type (`class` element) of a chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassDef {
    /// Type id, valid in this chunk only.
    pub id: u64,
    /// Fully qualified name, e.g. `jdk.ExecutionSample`.
    pub name: String,
    /// `jdk.jfr.Event` for event types.
    pub super_type: Option<String>,
    /// A type that stands for its single field.
    pub simple_type: bool,
    /// Fields in wire order.
    pub fields: Vec<FieldDef>,
}

/// The types of one chunk.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// All types, in declaration order.
    pub classes: Vec<ClassDef>,
    by_id: FxHashMap<u64, usize>,
    by_name: FxHashMap<String, usize>,
}

impl Metadata {
    /// A type by id.
    pub fn class(&self, id: u64) -> Option<&ClassDef> {
        self.by_id.get(&id).map(|&i| &self.classes[i])
    }

    /// The position of a type in [`Metadata::classes`].
    pub(crate) fn index_of(&self, id: u64) -> Option<u32> {
        self.by_id.get(&id).map(|&i| i as u32)
    }

    /// A type by name.
    pub fn class_by_name(&self, name: &str) -> Option<&ClassDef> {
        self.by_name.get(name).map(|&i| &self.classes[i])
    }

    /// The types that values of the `roots` types may refer to, all the way down (through
    /// constants and nested values), the roots included.
    pub(crate) fn reachable(
        &self,
        roots: impl IntoIterator<Item = u64>,
    ) -> rustc_hash::FxHashSet<u64> {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut todo: Vec<u64> = roots.into_iter().collect();
        while let Some(id) = todo.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(c) = self.class(id) {
                todo.extend(c.fields.iter().map(|f| f.type_id));
            }
        }
        seen
    }

    /// Parses the metadata event starting at `pos` (its size field).
    pub(crate) fn parse(chunk: &[u8], pos: usize) -> RawResult<Metadata> {
        let mut c = Cursor::new(chunk, pos);
        let size = c.varint()? as usize;
        let end = pos
            .checked_add(size)
            .filter(|&e| e <= chunk.len() && size > 0)
            .ok_or_else(|| {
                RawError::new(
                    pos as u64,
                    Problem::RecordSize {
                        size: size as u64,
                        remaining: (chunk.len() - pos) as u64,
                    },
                )
            })?;
        let mut c = Cursor::new(&chunk[..end], c.pos());
        if c.varint()? != 0 {
            return Err(RawError::new(pos as u64, Problem::NoMetadata(pos as u64)));
        }
        c.varint()?; // start time
        c.varint()?; // duration
        c.varint()?; // metadata id
        let strings = read_string_table(&mut c)?;
        let root = read_element(&mut c, &strings, 0)?;
        build(&root).map_err(|m| RawError::new(pos as u64, Problem::Metadata(m)))
    }
}

fn read_string_table(c: &mut Cursor<'_>) -> RawResult<Vec<String>> {
    let n = c.length(1)?;
    let mut v = Vec::with_capacity(n.min(65536));
    for _ in 0..n {
        v.push(match c.string()? {
            JfrStr::Text(s) => s.into_owned(),
            _ => String::new(),
        });
    }
    Ok(v)
}

/// A raw element: name, attributes, children.
#[derive(Debug)]
struct Element<'s> {
    name: &'s str,
    attrs: Vec<(&'s str, &'s str)>,
    children: Vec<Element<'s>>,
}

impl Element<'_> {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

fn read_element<'s>(
    c: &mut Cursor<'_>,
    strings: &'s [String],
    depth: usize,
) -> RawResult<Element<'s>> {
    if depth > MAX_ELEMENT_DEPTH {
        return Err(RawError::new(
            c.pos() as u64,
            Problem::TooDeep(MAX_ELEMENT_DEPTH),
        ));
    }
    let lookup = |c: &mut Cursor<'_>| -> RawResult<&'s str> {
        let at = c.pos();
        let i = c.varint()?;
        strings.get(i as usize).map(String::as_str).ok_or_else(|| {
            RawError::new(
                at as u64,
                Problem::Metadata(format!("string index {i} out of range")),
            )
        })
    };
    let name = lookup(c)?;
    let n_attrs = c.length(2)?;
    let mut attrs = Vec::with_capacity(n_attrs.min(64));
    for _ in 0..n_attrs {
        attrs.push((lookup(c)?, lookup(c)?));
    }
    let n_children = c.length(3)?;
    let mut children = Vec::with_capacity(n_children.min(1024));
    for _ in 0..n_children {
        children.push(read_element(c, strings, depth + 1)?);
    }
    Ok(Element {
        name,
        attrs,
        children,
    })
}

/// Turns the element tree into types.
fn build(root: &Element<'_>) -> Result<Metadata, String> {
    let mut md = Metadata::default();
    let meta = root
        .children
        .iter()
        .find(|e| e.name == "metadata")
        .ok_or("no <metadata> element")?;
    for class in meta.children.iter().filter(|e| e.name == "class") {
        let id = parse_id(class.attr("id"))?;
        let name = class
            .attr("name")
            .ok_or("class without a name")?
            .to_string();
        let fields = class
            .children
            .iter()
            .filter(|e| e.name == "field")
            .map(|f| {
                Ok(FieldDef {
                    name: f.attr("name").unwrap_or("").to_string(),
                    type_id: parse_id(f.attr("class"))?,
                    constant_pool: f.attr("constantPool") == Some("true"),
                    array: f.attr("dimension").is_some_and(|d| d != "0"),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let def = ClassDef {
            id,
            name: name.clone(),
            super_type: class.attr("superType").map(str::to_string),
            simple_type: class.attr("simpleType") == Some("true"),
            fields,
        };
        let i = md.classes.len();
        md.classes.push(def);
        md.by_id.insert(id, i);
        md.by_name.entry(name).or_insert(i);
    }
    Ok(md)
}

fn parse_id(s: Option<&str>) -> Result<u64, String> {
    let s = s.ok_or("missing type id")?;
    s.parse()
        .map_err(|_| format!("type id {s:?} is not a number"))
}
