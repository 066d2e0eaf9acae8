//! The MBean's native methods: each turns the raw JNI arguments into safe handles and calls
//! its handler in `crate::mbean` under `catch_unwind`; an error becomes a Java exception for
//! the caller, a panic an `IllegalStateException` (and a disabled agent).

use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use super::jni::{jobject, Env, Local, NativeMethod, RawEnv};
use crate::mbean::{self, Thrown};

/// Runs a handler for a native method called with `raw`.
fn native(
    raw: RawEnv,
    f: impl for<'a> FnOnce(Env<'a>) -> Result<Option<Local<'a>>, Thrown>,
) -> jobject {
    // SAFETY: the JVM passes the calling thread's JNIEnv to every native method.
    let env = unsafe { Env::from_raw(raw) };
    match catch_unwind(AssertUnwindSafe(|| f(env))) {
        Ok(Ok(v)) => v.map_or(ptr::null_mut(), Local::raw),
        Ok(Err(t)) => {
            env.throw_new(t.class, &t.message);
            ptr::null_mut()
        }
        Err(_) => {
            if let Some(a) = crate::agent::get() {
                a.disable("internal error in an MBean method");
            }
            env.throw_new(
                "java/lang/IllegalStateException",
                "hch agent: internal error; the agent is disabled",
            );
            ptr::null_mut()
        }
    }
}

/// A reference argument of a native method.
fn arg<'a>(raw: jobject) -> Option<Local<'a>> {
    // SAFETY: the JVM passes live local references (or null) as native method arguments,
    // valid for the call.
    unsafe { Local::from_raw(raw) }
}

extern "system" fn get_attribute(env: RawEnv, _this: jobject, name: jobject) -> jobject {
    native(env, |e| mbean::get_attribute(e, arg(name)))
}

extern "system" fn set_attribute(env: RawEnv, _this: jobject, _attr: jobject) {
    native(env, |e| mbean::set_attribute(e).map(|()| None));
}

extern "system" fn get_attributes(env: RawEnv, _this: jobject, names: jobject) -> jobject {
    native(env, |e| mbean::get_attributes(e, arg(names)))
}

extern "system" fn set_attributes(env: RawEnv, _this: jobject, _list: jobject) -> jobject {
    native(env, mbean::set_attributes)
}

extern "system" fn invoke(
    env: RawEnv,
    _this: jobject,
    action: jobject,
    params: jobject,
    _sig: jobject,
) -> jobject {
    native(env, |e| mbean::invoke(e, arg(action), arg(params)))
}

extern "system" fn get_mbean_info(env: RawEnv, _this: jobject) -> jobject {
    native(env, mbean::mbean_info)
}

/// The `RegisterNatives` table, in the order of [`mbean::NATIVES`], with the names it points
/// into (keep them alive while the table is used).
pub fn table() -> (Vec<CString>, Vec<NativeMethod>) {
    let fns: [*mut c_void; 6] = [
        get_attribute as *mut c_void,
        set_attribute as *mut c_void,
        get_attributes as *mut c_void,
        set_attributes as *mut c_void,
        invoke as *mut c_void,
        get_mbean_info as *mut c_void,
    ];
    let names: Vec<CString> = mbean::NATIVES
        .iter()
        .flat_map(|(n, s)| [*n, *s])
        .map(|t| CString::new(t).unwrap_or_default())
        .collect();
    let table = names
        .chunks(2)
        .zip(fns)
        .map(|(ns, f)| NativeMethod {
            name: ns[0].as_ptr(),
            signature: ns[1].as_ptr(),
            fn_ptr: f,
        })
        .collect();
    (names, table)
}
