//! Open MBean values as the JDK serializes them: `CompositeDataSupport` (a `TreeMap` of item
//! names to values) and, built on it, `java.lang.management.MemoryUsage` attributes.

use crate::ser::{Content, Graph, Value};

/// The items of a `CompositeData`, in key order: `(name, value)`.
pub fn composite_items(g: &Graph, v: Value) -> Option<Vec<(String, Value)>> {
    let contents = g.field(v, "contents")?;
    tree_map(g, contents)
}

// java.util.TreeMap's custom data: block data `int size`, then key and value objects in turn.
fn tree_map(g: &Graph, v: Value) -> Option<Vec<(String, Value)>> {
    let ann = g.annotation(v, "java.util.TreeMap")?;
    let values: Vec<Value> = ann
        .iter()
        .filter_map(|c| match c {
            Content::Value(v) => Some(*v),
            Content::Block(_) => None,
        })
        .collect();
    values
        .chunks_exact(2)
        .map(|kv| Some((g.str(kv[0])?.to_string(), kv[1])))
        .collect()
}

/// A `MemoryUsage` in bytes; `max` is `None` when undefined (-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Initial size.
    pub init: i64,
    /// In use.
    pub used: i64,
    /// Committed.
    pub committed: i64,
    /// Limit, if any.
    pub max: Option<i64>,
}

/// Decodes a `MemoryUsage` composite (e.g. a memory pool's `Usage` attribute).
pub fn memory_usage(g: &Graph, v: Value) -> Option<MemoryUsage> {
    let items = composite_items(g, v)?;
    let get = |name: &str| {
        items
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| g.long(*v))
    };
    let max = get("max")?;
    Some(MemoryUsage {
        init: get("init")?,
        used: get("used")?,
        committed: get("committed")?,
        max: (max >= 0).then_some(max),
    })
}
