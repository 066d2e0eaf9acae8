//! The decoded object graph. Objects refer to each other by index, so back-references and
//! cycles (a Throwable whose cause is itself) cost nothing and cannot loop.

/// A field or array element: a primitive, `null`, or a node of the [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `boolean`.
    Bool(bool),
    /// `byte`.
    Byte(i8),
    /// `char` (one UTF-16 unit).
    Char(u16),
    /// `short`.
    Short(i16),
    /// `int`.
    Int(i32),
    /// `long`.
    Long(i64),
    /// `float`.
    Float(f32),
    /// `double`.
    Double(f64),
    /// An object, string, array, class or enum: index into [`Graph::nodes`].
    Node(usize),
}

/// One decoded entity.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A string.
    Str(String),
    /// A class descriptor.
    ClassDesc(ClassDesc),
    /// An object.
    Object(Object),
    /// An array.
    Array(Array),
    /// A `java.lang.Class` (its descriptor node).
    Class(Option<usize>),
    /// An enum constant.
    Enum {
        /// The enum's descriptor node.
        class: usize,
        /// The constant's name.
        name: String,
    },
    /// Being decoded (only seen while a reference points into an unfinished object).
    Pending,
}

/// A class descriptor (or a dynamic proxy's, named `$Proxy`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassDesc {
    /// Binary class name, e.g. `java.lang.Long` or `[B`.
    pub name: String,
    /// serialVersionUID.
    pub suid: i64,
    /// `SC_*` flags.
    pub flags: u8,
    /// Serialized fields in stream order.
    pub fields: Vec<Field>,
    /// The interfaces of a dynamic proxy class.
    pub proxy_interfaces: Vec<String>,
    /// The superclass descriptor node.
    pub super_class: Option<usize>,
}

/// A serialized field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Type code: `B C D F I J S Z L [`.
    pub code: u8,
    /// Field name.
    pub name: String,
}

/// Something inside a class annotation or custom `writeObject` data.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Raw block data.
    Block(Vec<u8>),
    /// An object.
    Value(Value),
}

/// An object's data, one [`ClassData`] per class of its hierarchy, superclass first.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The object's class descriptor node.
    pub class: usize,
    /// Per class, top-most superclass first.
    pub data: Vec<ClassData>,
}

/// The part of an object written by one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassData {
    /// The class descriptor node.
    pub class: usize,
    /// Field values in descriptor order.
    pub fields: Vec<Value>,
    /// Custom data written by `writeObject`/`writeExternal`.
    pub annotation: Vec<Content>,
}

/// An array.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// The array's class descriptor node.
    pub class: usize,
    /// Its elements.
    pub data: ArrayData,
}

/// Array elements; `byte[]` is kept as bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    /// A `byte[]`.
    Bytes(Vec<u8>),
    /// Any other array.
    Values(Vec<Value>),
}

/// Every node decoded from one stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// The nodes, in the order they were met.
    pub nodes: Vec<Node>,
}

impl Graph {
    /// The node a value points to.
    pub fn node(&self, v: Value) -> Option<&Node> {
        match v {
            Value::Node(i) => self.nodes.get(i),
            _ => None,
        }
    }

    /// A string value.
    pub fn str(&self, v: Value) -> Option<&str> {
        match self.node(v)? {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An object value.
    pub fn object(&self, v: Value) -> Option<&Object> {
        match self.node(v)? {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }

    /// A class descriptor by node index.
    pub fn class_desc(&self, i: usize) -> Option<&ClassDesc> {
        match self.nodes.get(i)? {
            Node::ClassDesc(d) => Some(d),
            _ => None,
        }
    }

    /// The class name of an object or array, for messages and dispatch.
    pub fn class_name(&self, v: Value) -> Option<&str> {
        let class = match self.node(v)? {
            Node::Object(o) => o.class,
            Node::Array(a) => a.class,
            _ => return None,
        };
        self.class_desc(class).map(|d| d.name.as_str())
    }

    /// The elements of a `byte[]`.
    pub fn bytes(&self, v: Value) -> Option<&[u8]> {
        match self.node(v)? {
            Node::Array(Array {
                data: ArrayData::Bytes(b),
                ..
            }) => Some(b),
            _ => None,
        }
    }

    /// The elements of an array of anything but bytes.
    pub fn array(&self, v: Value) -> Option<&[Value]> {
        match self.node(v)? {
            Node::Array(Array {
                data: ArrayData::Values(e),
                ..
            }) => Some(e),
            _ => None,
        }
    }

    /// A field of an object by name, searching its classes from the most derived up.
    pub fn field(&self, v: Value, name: &str) -> Option<Value> {
        let obj = self.object(v)?;
        obj.data.iter().rev().find_map(|cd| {
            let desc = self.class_desc(cd.class)?;
            let i = desc.fields.iter().position(|f| f.name == name)?;
            cd.fields.get(i).copied()
        })
    }

    /// The custom data a given class of the object wrote.
    pub fn annotation(&self, v: Value, class: &str) -> Option<&[Content]> {
        let obj = self.object(v)?;
        obj.data.iter().find_map(|cd| {
            (self.class_desc(cd.class)?.name == class).then_some(cd.annotation.as_slice())
        })
    }

    /// A boxed `Long`, `Integer`, `Short` or `Byte` (or a primitive) as i64.
    pub fn long(&self, v: Value) -> Option<i64> {
        match v {
            Value::Long(x) => Some(x),
            Value::Int(x) => Some(x.into()),
            Value::Short(x) => Some(x.into()),
            Value::Byte(x) => Some(x.into()),
            // One level of boxing only: a crafted object whose `value` is itself must not loop.
            Value::Node(_) => match self.field(v, "value")? {
                Value::Node(_) => None,
                inner => self.long(inner),
            },
            _ => None,
        }
    }

    /// A boxed `Boolean` (or a primitive).
    pub fn bool(&self, v: Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(b),
            Value::Node(_) => match self.field(v, "value")? {
                Value::Node(_) => None,
                inner => self.bool(inner),
            },
            _ => None,
        }
    }

    /// A short description of a value for error messages, e.g. `java.lang.Long` or `"text"`.
    pub fn describe(&self, v: Value) -> String {
        match self.node(v) {
            None => format!("{v:?}"),
            Some(Node::Str(s)) => format!("string {:?}", s.chars().take(80).collect::<String>()),
            Some(_) => self.class_name(v).unwrap_or("a class or enum").to_string(),
        }
    }
}
