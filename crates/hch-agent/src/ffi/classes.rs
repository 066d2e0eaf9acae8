//! The loaded classes' methods, as JNI handles: what the WhiteBox API needs to name a method
//! (`java.lang.reflect.Executable`). JVMTI lists classes and methods; nothing here needs a
//! capability.

use std::collections::HashSet;

use super::jni::{Env, Local, Method};
use super::jvmti::Jvmti;

/// A method of a loaded class.
#[derive(Debug, Clone)]
pub struct FoundMethod<'a> {
    /// Its class (a local reference of the caller's frame).
    pub class: Local<'a>,
    /// Internal class name, `pkg/Cls`.
    pub class_name: String,
    /// Its id.
    pub method: Method,
    /// Name, e.g. `hashCode` or `<init>`.
    pub name: String,
    /// Descriptor, e.g. `()I`.
    pub descriptor: String,
    /// Whether it is static.
    pub is_static: bool,
}

/// The methods of every loaded, prepared class whose internal name is in `wanted` (all
/// loaders: one name may be loaded more than once). Class references stay in the caller's
/// local frame, which must be large enough for every loaded class.
pub fn methods_of<'a>(
    jvmti: &Jvmti,
    env: Env<'a>,
    wanted: &HashSet<String>,
) -> Result<Vec<FoundMethod<'a>>, String> {
    let mut out = Vec::new();
    for raw in jvmti.loaded_classes()? {
        // SAFETY: GetLoadedClasses returned live local references of this thread's frame.
        let Some(class) = (unsafe { env.wrap(raw) }) else {
            continue;
        };
        let Some(sig) = jvmti.prepared_class_signature(raw) else {
            continue;
        };
        let Some(name) = sig.strip_prefix('L').and_then(|s| s.strip_suffix(';')) else {
            continue;
        };
        if !wanted.contains(name) {
            continue;
        }
        for (id, m, d, is_static) in jvmti.class_methods(raw)? {
            out.push(FoundMethod {
                class,
                class_name: name.to_string(),
                // SAFETY: JVMTI listed this id among the methods of a loaded class.
                method: unsafe { Method::from_raw(id) },
                name: m,
                descriptor: d,
                is_static,
            });
        }
    }
    Ok(out)
}
