//! HotSpot's WhiteBox testing API, bound from inside the JVM: a diagnostic feature of product
//! builds, on when the JVM runs with `-XX:+UnlockDiagnosticVMOptions -XX:+WhiteBoxAPI`. hch
//! writes the declaring class itself ([`class_bytes`]) and defines it in the boot loader,
//! which is where the JVM binds WhiteBox natives; no JDK test library is needed.
//!
//! The class declares every native any JDK from 11 on registers (`whitebox_natives.txt`), so
//! that binding prints no warning on the JVM's output; hch calls only the few below.

use crate::ffi::jni::{arg, jvalue, Env, Local, Method, Ret, Value};
use hch_classfile::{ClassFile, ACC_FINAL, ACC_PUBLIC, ACC_STATIC};

/// The JVM flags that enable the API.
pub const FLAGS: &str = "-XX:+UnlockDiagnosticVMOptions -XX:+WhiteBoxAPI";
/// Class names the JVM binds WhiteBox natives for: JDK 17+ (and late 17 updates) take the
/// first, JDK 11 and early 17 the second.
const CLASS_NAMES: [&str; 2] = ["jdk/test/whitebox/WhiteBox", "sun/hotspot/WhiteBox"];
/// Every WhiteBox native of JDK 11 to 27: `name descriptor` per line.
const NATIVES: &str = include_str!("whitebox_natives.txt");

/// The argument type of the natives that take a method.
const EXEC: &str = "Ljava/lang/reflect/Executable;";

/// One code blob as WhiteBox describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Its name (`WB::DummyBlob`, a method's name...).
    pub name: String,
    /// Its size in bytes, header included.
    pub size: u64,
    /// The code heap's blob type.
    pub blob_type: i32,
    /// Its address.
    pub address: u64,
}

/// A method's current nmethod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NMethod {
    /// The blob.
    pub blob: Blob,
    /// Compilation level (1 to 4).
    pub level: i32,
    /// Compile id.
    pub compile_id: i64,
    /// Entry point.
    pub entry: u64,
    /// Bytes of instructions from the entry point.
    pub insts: u64,
}

/// The bound API, for the calling thread's frame.
#[derive(Debug, Clone, Copy)]
pub struct WhiteBox<'a> {
    env: Env<'a>,
    class: Local<'a>,
}

impl<'a> WhiteBox<'a> {
    /// Binds the API, defining the class if this JVM has none yet. An error says why and
    /// names the flags when the JVM runs without them.
    pub fn bind(env: Env<'a>) -> Result<WhiteBox<'a>, String> {
        let mut why = Vec::new();
        for name in CLASS_NAMES {
            match Self::bind_as(env, name) {
                Ok(wb) => return Ok(wb),
                Err(e) => why.push(format!("{name}: {e}")),
            }
        }
        Err(format!(
            "this JVM does not offer the WhiteBox API (start it with {FLAGS}): {}",
            why.join("; ")
        ))
    }

    fn bind_as(env: Env<'a>, name: &str) -> Result<WhiteBox<'a>, String> {
        let class = match env.find_class(name) {
            Ok(c) => c,
            Err(_) => env
                .define_class(name, &class_bytes(name)?)
                .map_err(|e| e.to_string())?,
        };
        let wb = WhiteBox { env, class };
        wb.call("registerNatives", "()V", Ret::Void, &[])?;
        // An unbound native (WhiteBoxAPI off) throws UnsatisfiedLinkError here.
        wb.probe_flag()?;
        Ok(wb)
    }

    /// The same API for a nested local frame.
    pub fn in_frame<'g>(&self, env: Env<'g>) -> WhiteBox<'g>
    where
        'a: 'g,
    {
        WhiteBox {
            env,
            class: self.class,
        }
    }

    /// `getBooleanVMFlag("WhiteBoxAPI")`: a call every version binds.
    fn probe_flag(&self) -> Result<(), String> {
        let s = self
            .env
            .new_string("WhiteBoxAPI")
            .map_err(|e| e.to_string())?;
        self.call(
            "getBooleanVMFlag",
            "(Ljava/lang/String;)Ljava/lang/Boolean;",
            Ret::Object,
            &[arg::obj(s)],
        )
        .map(|_| ())
    }

    fn method(&self, name: &str, sig: &str) -> Result<Method, String> {
        self.env
            .static_method(self.class, name, sig)
            .map_err(|e| e.to_string())
    }

    fn call(&self, name: &str, sig: &str, ret: Ret, args: &[jvalue]) -> Result<Value<'a>, String> {
        let m = self.method(name, sig)?;
        self.env
            .call_static(self.class, m, ret, args, name)
            .map_err(|e| format!("WhiteBox.{name}: {e}"))
    }

    /// Makes a method's compiled code not entrant (its callers go to the interpreter).
    pub fn deoptimize(&self, m: Local<'a>) -> Result<i32, String> {
        let sig = format!("({EXEC}Z)I");
        match self.call(
            "deoptimizeMethod0",
            &sig,
            Ret::Int,
            &[arg::obj(m), arg::boolean(false)],
        )? {
            Value::Int(n) => Ok(n),
            _ => Ok(0),
        }
    }

    /// Queues a compilation at `level` (bci -1: a normal, not OSR, compilation).
    pub fn enqueue(&self, m: Local<'a>, level: i32) -> Result<bool, String> {
        let sig = format!("({EXEC}II)Z");
        let v = self.call(
            "enqueueMethodForCompilation0",
            &sig,
            Ret::Boolean,
            &[arg::obj(m), arg::int(level), arg::int(-1)],
        )?;
        Ok(matches!(v, Value::Int(1)))
    }

    /// The method's current nmethod, if it has one.
    pub fn nmethod(&self, m: Local<'a>) -> Result<Option<NMethod>, String> {
        let sig = format!("({EXEC}Z)[Ljava/lang/Object;");
        let Value::Object(Some(arr)) = self.call(
            "getNMethod0",
            &sig,
            Ret::Object,
            &[arg::obj(m), arg::boolean(false)],
        )?
        else {
            return Ok(None);
        };
        let items = self.env.elements(arr).map_err(|e| e.to_string())?;
        if items.len() < 5 {
            return Err(format!(
                "getNMethod0 returned {} items, expected 5",
                items.len()
            ));
        }
        let blob = match items[0] {
            Some(b) => self.blob(b)?,
            None => return Ok(None),
        };
        let num = |i: usize| -> Result<i64, String> {
            let o = items[i].ok_or_else(|| format!("getNMethod0 item {i} is null"))?;
            self.env.number(o).map_err(|e| e.to_string())
        };
        let insts = match items[2] {
            Some(a) => self.env.array_length(a).map_err(|e| e.to_string())? as u64,
            None => 0,
        };
        Ok(Some(NMethod {
            blob,
            level: num(1)? as i32,
            compile_id: num(3)?,
            entry: num(4)? as u64,
            insts,
        }))
    }

    /// `{name, size, blobType, address}`.
    fn blob(&self, o: Local<'a>) -> Result<Blob, String> {
        let f = self.env.elements(o).map_err(|e| e.to_string())?;
        if f.len() < 4 {
            return Err(format!(
                "a code blob description has {} fields, expected 4",
                f.len()
            ));
        }
        let num = |i: usize| -> Result<i64, String> {
            let o = f[i].ok_or_else(|| format!("code blob field {i} is null"))?;
            self.env.number(o).map_err(|e| e.to_string())
        };
        let name = match f[0] {
            Some(s) => self.env.string(s).map_err(|e| e.to_string())?,
            None => String::new(),
        };
        Ok(Blob {
            name,
            size: num(1)? as u64,
            blob_type: num(2)? as i32,
            address: num(3)? as u64,
        })
    }

    /// Every blob of a code heap.
    pub fn heap_entries(&self, blob_type: i32) -> Result<Vec<Blob>, String> {
        let v = self.call(
            "getCodeHeapEntries",
            "(I)[Ljava/lang/Object;",
            Ret::Object,
            &[arg::int(blob_type)],
        )?;
        let Value::Object(Some(arr)) = v else {
            return Ok(Vec::new());
        };
        let n = self.env.array_length(arr).map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(n.min(1 << 20));
        for i in 0..n {
            // Each entry's references go with its own frame: a heap may hold 100,000 blobs.
            let b = self.env.with_frame(8, |env| {
                let wb = self.in_frame(env);
                match env.element(arr, i).map_err(|e| e.to_string())? {
                    Some(o) => wb.blob(o).map(Some),
                    None => Ok(None),
                }
            });
            if let Some(b) = b.map_err(|e| e.to_string())?? {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// A dummy blob of `size` bytes in a code heap; its address (0 if there was no room).
    pub fn allocate(&self, size: u64, blob_type: i32) -> Result<u64, String> {
        let size = i32::try_from(size).map_err(|_| format!("blob size {size} too large"))?;
        match self.call(
            "allocateCodeBlob",
            "(II)J",
            Ret::Long,
            &[arg::int(size), arg::int(blob_type)],
        )? {
            Value::Long(a) => Ok(a as u64),
            _ => Ok(0),
        }
    }

    /// Frees a blob [`WhiteBox::allocate`] made.
    pub fn free(&self, address: u64) -> Result<(), String> {
        self.call(
            "freeCodeBlob",
            "(J)V",
            Ret::Void,
            &[arg::long(address as i64)],
        )
        .map(|_| ())
    }

    /// A full GC: since JDK 20 it also unloads not-entrant nmethods.
    pub fn full_gc(&self) -> Result<(), String> {
        self.call("fullGC", "()V", Ret::Void, &[]).map(|_| ())
    }

    /// The sweeper of JDK 19 and earlier; `Ok(false)` where there is none.
    pub fn sweep(&self) -> Result<bool, String> {
        match self.call("forceNMethodSweep", "()V", Ret::Void, &[]) {
            Ok(_) => Ok(true),
            Err(e) if e.contains("NoSuchMethod") || e.contains("UnsatisfiedLink") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The JNI environment.
    pub fn env(&self) -> Env<'a> {
        self.env
    }
}

/// The declaring class: every WhiteBox native as `public static native`.
pub fn class_bytes(name: &str) -> Result<Vec<u8>, String> {
    let mut natives: Vec<(&str, &str)> = NATIVES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .collect();
    natives.push(("registerNatives", "()V"));
    natives.sort_unstable();
    natives.dedup();
    let mut c = ClassFile::new(ACC_PUBLIC | ACC_FINAL, name, "java/lang/Object");
    for (n, d) in natives {
        c.native_method(ACC_PUBLIC | ACC_STATIC, n, d);
    }
    c.to_bytes().map_err(|e| e.to_string())
}
