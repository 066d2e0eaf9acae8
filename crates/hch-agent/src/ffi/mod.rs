//! Everything `unsafe`: the JNI and JVMTI bindings, the library's entry points and the MBean's
//! native methods. Each `extern` function the JVM calls runs its body under `catch_unwind`: no
//! panic crosses into the JVM; one disables the agent with a line on stderr and the JVM runs on.

pub mod classes;
pub mod jni;
pub mod jvmti;
pub mod natives;

use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use jni::{jint, jobject, JavaVm, RawEnv, RawVm, JNI_ERR, JNI_OK};
use jvmti::RawJvmti;

/// Runs an entry point's body; a panic becomes `fallback` and a line on stderr.
fn guarded<T>(what: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(_) => {
            if let Some(a) = crate::agent::get() {
                a.disable(&format!("internal error in {what}"));
            } else {
                eprintln!("hch-agent: disabled after an internal error in {what}; the JVM runs on");
            }
            fallback
        }
    }
}

/// The option string the JVM passed (null is none).
///
/// # Safety
/// `options` is null or a NUL-terminated string valid for the call.
unsafe fn options_text(options: *const c_char) -> String {
    if options.is_null() {
        return String::new();
    }
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(options) }
        .to_string_lossy()
        .into_owned()
}

/// `-agentpath:libhch_agent.so=OPTIONS`: called in the JVM's OnLoad phase.
///
/// # Safety
/// Called by the JVM with its `JavaVM*` and the option string.
#[no_mangle]
pub unsafe extern "system" fn Agent_OnLoad(
    vm: RawVm,
    options: *const c_char,
    _reserved: *mut c_void,
) -> jint {
    guarded("Agent_OnLoad", JNI_OK, || {
        // SAFETY: the JVM passes its JavaVM* and a NUL-terminated option string or null.
        let (vm, text) = unsafe { (JavaVm::from_raw(vm), options_text(options)) };
        crate::agent::on_load(vm, &text)
    })
}

/// The attach mechanism's `load`: called in the live phase on the attach listener thread.
///
/// # Safety
/// Called by the JVM with its `JavaVM*` and the option string.
#[no_mangle]
pub unsafe extern "system" fn Agent_OnAttach(
    vm: RawVm,
    options: *const c_char,
    _reserved: *mut c_void,
) -> jint {
    guarded("Agent_OnAttach", JNI_ERR, || {
        // SAFETY: as for Agent_OnLoad.
        let (vm, text) = unsafe { (JavaVm::from_raw(vm), options_text(options)) };
        crate::agent::on_attach(vm, &text)
    })
}

/// Called as the JVM unloads the library at its exit.
///
/// # Safety
/// Called by the JVM.
#[no_mangle]
pub unsafe extern "system" fn Agent_OnUnload(_vm: RawVm) {
    guarded("Agent_OnUnload", (), crate::agent::on_unload);
}

/// JVMTI VMInit.
pub(crate) unsafe extern "system" fn on_vm_init(_jvmti: RawJvmti, _jni: RawEnv, _thread: jobject) {
    guarded("VMInit", (), crate::agent::on_vm_init);
}

/// JVMTI VMDeath.
pub(crate) unsafe extern "system" fn on_vm_death(_jvmti: RawJvmti, _jni: RawEnv) {
    guarded("VMDeath", (), crate::agent::on_vm_death);
}
