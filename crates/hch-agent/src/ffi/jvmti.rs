//! Hand-written JVMTI bindings: the environment, the VMInit and VMDeath events, and
//! `GetCapabilities` so that the agent can show it holds none. Slots are those of
//! `struct jvmtiInterface_1_` in `jvmti.h` (function N of the spec sits at index N - 1).

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;

use super::jni::{function, jint, jmethodID, jobject, JavaVm, RawEnv, RawVm, JNI_OK};

/// `jvmtiEnv*`.
pub type RawJvmti = *mut *const *const c_void;

const JVMTI_VERSION_1_2: jint = 0x3001_0200;
const JVMTI_ENABLE: jint = 1;
const EVENT_VM_INIT: jint = 50;
const EVENT_VM_DEATH: jint = 51;

mod slot {
    pub const SET_EVENT_NOTIFICATION_MODE: usize = 2 - 1;
    pub const DEALLOCATE: usize = 47 - 1;
    pub const GET_CLASS_SIGNATURE: usize = 48 - 1;
    pub const GET_CLASS_STATUS: usize = 49 - 1;
    pub const GET_CLASS_METHODS: usize = 52 - 1;
    pub const GET_METHOD_NAME: usize = 64 - 1;
    pub const GET_METHOD_MODIFIERS: usize = 66 - 1;
    pub const GET_LOADED_CLASSES: usize = 78 - 1;
    pub const GET_CAPABILITIES: usize = 89 - 1;
    pub const SET_EVENT_CALLBACKS: usize = 122 - 1;
    pub const ADD_CAPABILITIES: usize = 142 - 1;
    pub const GET_SYSTEM_PROPERTY: usize = 131 - 1;
}

/// The bits of `jvmtiCapabilities`, in declaration order (jvmti.h, JDK 25).
pub const CAPABILITY_NAMES: [&str; 45] = [
    "can_tag_objects",
    "can_generate_field_modification_events",
    "can_generate_field_access_events",
    "can_get_bytecodes",
    "can_get_synthetic_attribute",
    "can_get_owned_monitor_info",
    "can_get_current_contended_monitor",
    "can_get_monitor_info",
    "can_pop_frame",
    "can_redefine_classes",
    "can_signal_thread",
    "can_get_source_file_name",
    "can_get_line_numbers",
    "can_get_source_debug_extension",
    "can_access_local_variables",
    "can_maintain_original_method_order",
    "can_generate_single_step_events",
    "can_generate_exception_events",
    "can_generate_frame_pop_events",
    "can_generate_breakpoint_events",
    "can_suspend",
    "can_redefine_any_class",
    "can_get_current_thread_cpu_time",
    "can_get_thread_cpu_time",
    "can_generate_method_entry_events",
    "can_generate_method_exit_events",
    "can_generate_all_class_hook_events",
    "can_generate_compiled_method_load_events",
    "can_generate_monitor_events",
    "can_generate_vm_object_alloc_events",
    "can_generate_native_method_bind_events",
    "can_generate_garbage_collection_events",
    "can_generate_object_free_events",
    "can_force_early_return",
    "can_get_owned_monitor_stack_depth_info",
    "can_get_constant_pool",
    "can_set_native_method_prefix",
    "can_retransform_classes",
    "can_retransform_any_class",
    "can_generate_resource_exhaustion_heap_events",
    "can_generate_resource_exhaustion_threads_events",
    "can_generate_early_vmstart",
    "can_generate_early_class_hook_events",
    "can_generate_sampled_object_alloc_events",
    "can_support_virtual_threads",
];

/// `void (JNICALL *)(jvmtiEnv*, JNIEnv*, jthread)`.
pub type VmInitFn = unsafe extern "system" fn(RawJvmti, RawEnv, jobject);
/// `void (JNICALL *)(jvmtiEnv*, JNIEnv*)`.
pub type VmDeathFn = unsafe extern "system" fn(RawJvmti, RawEnv);

/// The first two slots of `jvmtiEventCallbacks`; the JVM takes a shorter table by its size.
#[repr(C)]
struct Callbacks {
    vm_init: Option<VmInitFn>,
    vm_death: Option<VmDeathFn>,
}

/// A JVMTI environment; its functions may be called from any thread.
#[derive(Debug, Clone, Copy)]
pub struct Jvmti(RawJvmti);

// SAFETY: a jvmtiEnv is valid until disposed (never, here) and JVMTI functions may be called
// from any thread (JVMTI spec, "Function Access").
unsafe impl Send for Jvmti {}
// SAFETY: as above.
unsafe impl Sync for Jvmti {}

impl Jvmti {
    /// A new environment from the JVM.
    pub fn new(vm: JavaVm) -> Result<Jvmti, String> {
        let raw: RawVm = vm.raw();
        let mut env: *mut c_void = ptr::null_mut();
        // SAFETY: GetEnv(JavaVM*, void**, jint) of the invocation interface (slot 6).
        let rc = unsafe {
            let get_env: unsafe extern "system" fn(RawVm, *mut *mut c_void, jint) -> jint =
                function(*raw, 6);
            get_env(raw, &mut env, JVMTI_VERSION_1_2)
        };
        if rc != JNI_OK || env.is_null() {
            return Err(format!("no JVMTI 1.2 environment (GetEnv returned {rc})"));
        }
        Ok(Jvmti(env.cast()))
    }

    /// Sets the VMInit and VMDeath callbacks and enables the events given.
    pub fn set_events(
        &self,
        vm_init: Option<VmInitFn>,
        vm_death: Option<VmDeathFn>,
    ) -> Result<(), String> {
        let cb = Callbacks { vm_init, vm_death };
        let size = std::mem::size_of::<Callbacks>() as jint;
        // SAFETY: SetEventCallbacks(jvmtiEnv*, const jvmtiEventCallbacks*, jint size); the
        // JVM copies `size` bytes and zeroes the rest of its table.
        let rc = unsafe {
            let f: unsafe extern "system" fn(RawJvmti, *const Callbacks, jint) -> jint =
                function(*self.0, slot::SET_EVENT_CALLBACKS);
            f(self.0, &cb, size)
        };
        if rc != 0 {
            return Err(format!("SetEventCallbacks failed (JVMTI error {rc})"));
        }
        for (on, event) in [
            (vm_init.is_some(), EVENT_VM_INIT),
            (vm_death.is_some(), EVENT_VM_DEATH),
        ] {
            if on {
                self.enable(event)?;
            }
        }
        Ok(())
    }

    fn enable(&self, event: jint) -> Result<(), String> {
        // SAFETY: SetEventNotificationMode(jvmtiEnv*, jvmtiEventMode, jvmtiEvent, jthread, ...);
        // VMInit and VMDeath need no capability and no thread.
        let rc = unsafe {
            let f: unsafe extern "C" fn(RawJvmti, jint, jint, jobject, ...) -> jint =
                function(*self.0, slot::SET_EVENT_NOTIFICATION_MODE);
            f(self.0, JVMTI_ENABLE, event, ptr::null_mut())
        };
        if rc != 0 {
            return Err(format!("enabling JVMTI event {event} failed (error {rc})"));
        }
        Ok(())
    }

    /// The names of the capabilities this environment holds.
    pub fn capabilities(&self) -> Result<Vec<&'static str>, String> {
        let mut caps = [0u32; 4];
        // SAFETY: GetCapabilities(jvmtiEnv*, jvmtiCapabilities*) writes the 128-bit struct.
        let rc = unsafe {
            let f: unsafe extern "system" fn(RawJvmti, *mut [u32; 4]) -> jint =
                function(*self.0, slot::GET_CAPABILITIES);
            f(self.0, &mut caps)
        };
        if rc != 0 {
            return Err(format!("GetCapabilities failed (JVMTI error {rc})"));
        }
        // Bit-fields are allocated from the low bit of each 32-bit unit (the x86-64 and
        // AArch64 ABIs).
        Ok(CAPABILITY_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| caps[i / 32] >> (i % 32) & 1 == 1)
            .map(|(_, n)| *n)
            .collect())
    }

    /// `AddCapabilities` with none: takes nothing, but in the OnLoad phase it makes HotSpot
    /// record every compiled method's dependencies from the start (as JDK 23+ always does).
    pub fn add_no_capabilities(&self) -> Result<(), String> {
        let none = [0u32; 4];
        // SAFETY: AddCapabilities(jvmtiEnv*, const jvmtiCapabilities*) reads the 128-bit struct.
        let rc = unsafe {
            let f: unsafe extern "system" fn(RawJvmti, *const [u32; 4]) -> jint =
                function(*self.0, slot::ADD_CAPABILITIES);
            f(self.0, &none)
        };
        if rc != 0 {
            return Err(format!("AddCapabilities failed (JVMTI error {rc})"));
        }
        Ok(())
    }

    /// A system property of the VM (`java.specification.version`...).
    pub fn system_property(&self, name: &str) -> Option<String> {
        let key = CString::new(name).ok()?;
        let mut value: *mut c_char = ptr::null_mut();
        // SAFETY: GetSystemProperty(jvmtiEnv*, const char*, char**) allocates the value with
        // the JVMTI allocator; Deallocate(jvmtiEnv*, unsigned char*) frees it.
        unsafe {
            let get: unsafe extern "system" fn(RawJvmti, *const c_char, *mut *mut c_char) -> jint =
                function(*self.0, slot::GET_SYSTEM_PROPERTY);
            if get(self.0, key.as_ptr(), &mut value) != 0 || value.is_null() {
                return None;
            }
            let text = CStr::from_ptr(value).to_string_lossy().into_owned();
            let free: unsafe extern "system" fn(RawJvmti, *mut u8) -> jint =
                function(*self.0, slot::DEALLOCATE);
            free(self.0, value.cast());
            Some(text)
        }
    }

    /// Frees memory JVMTI allocated.
    ///
    /// # Safety
    /// `p` must come from this environment's allocator, or be null.
    unsafe fn free<T>(&self, p: *mut T) {
        if p.is_null() {
            return;
        }
        // SAFETY: Deallocate(jvmtiEnv*, unsigned char*) frees JVMTI-allocated memory.
        unsafe {
            let free: unsafe extern "system" fn(RawJvmti, *mut u8) -> jint =
                function(*self.0, slot::DEALLOCATE);
            free(self.0, p.cast());
        }
    }

    /// A JVMTI-allocated array of `n` items, copied and freed.
    ///
    /// # Safety
    /// `arr` must be null or hold `n` items from this environment's allocator.
    unsafe fn take_array<T: Copy>(&self, arr: *mut T, n: jint) -> Vec<T> {
        let len = usize::try_from(n).unwrap_or(0);
        if arr.is_null() {
            return Vec::new();
        }
        // SAFETY: the caller's contract; freed once copied.
        unsafe {
            let v = std::slice::from_raw_parts(arr, len).to_vec();
            self.free(arr);
            v
        }
    }

    /// A JVMTI-allocated C string, copied and freed.
    ///
    /// # Safety
    /// `p` must be null or a NUL-terminated string from this environment's allocator.
    unsafe fn take_string(&self, p: *mut c_char) -> Option<String> {
        if p.is_null() {
            return None;
        }
        // SAFETY: the caller's contract.
        let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
        // SAFETY: as above.
        unsafe { self.free(p) };
        Some(s)
    }

    /// Every loaded class, as local references of the calling thread (call it inside a local
    /// frame large enough for them).
    pub fn loaded_classes(&self) -> Result<Vec<jobject>, String> {
        let mut n: jint = 0;
        let mut arr: *mut jobject = ptr::null_mut();
        // SAFETY: GetLoadedClasses(jvmtiEnv*, jint*, jclass**) allocates the array; its
        // entries are local references of this thread.
        let rc = unsafe {
            let f: unsafe extern "system" fn(RawJvmti, *mut jint, *mut *mut jobject) -> jint =
                function(*self.0, slot::GET_LOADED_CLASSES);
            f(self.0, &mut n, &mut arr)
        };
        if rc != 0 {
            return Err(format!("GetLoadedClasses failed (JVMTI error {rc})"));
        }
        // SAFETY: the JVM wrote `n` entries at `arr` with its allocator.
        Ok(unsafe { self.take_array(arr, n) })
    }

    /// A class's JVM signature (`Ljava/lang/String;`) if it is prepared (so its methods can be
    /// listed), else `None`.
    pub fn prepared_class_signature(&self, class: jobject) -> Option<String> {
        const PREPARED: jint = 2;
        let mut status: jint = 0;
        let mut sig: *mut c_char = ptr::null_mut();
        // SAFETY: GetClassStatus(jvmtiEnv*, jclass, jint*) and GetClassSignature(jvmtiEnv*,
        // jclass, char**, char**) on a live class reference; the strings are JVMTI-allocated.
        unsafe {
            let st: unsafe extern "system" fn(RawJvmti, jobject, *mut jint) -> jint =
                function(*self.0, slot::GET_CLASS_STATUS);
            if st(self.0, class, &mut status) != 0 || status & PREPARED == 0 {
                return None;
            }
            let f: unsafe extern "system" fn(
                RawJvmti,
                jobject,
                *mut *mut c_char,
                *mut *mut c_char,
            ) -> jint = function(*self.0, slot::GET_CLASS_SIGNATURE);
            if f(self.0, class, &mut sig, ptr::null_mut()) != 0 {
                return None;
            }
            self.take_string(sig)
        }
    }

    /// A prepared class's methods: id, name, descriptor and whether it is static.
    pub fn class_methods(
        &self,
        class: jobject,
    ) -> Result<Vec<(jmethodID, String, String, bool)>, String> {
        const ACC_STATIC: jint = 0x0008;
        let mut n: jint = 0;
        let mut arr: *mut jmethodID = ptr::null_mut();
        // SAFETY: GetClassMethods(jvmtiEnv*, jclass, jint*, jmethodID**) allocates the array.
        let rc = unsafe {
            let f: unsafe extern "system" fn(
                RawJvmti,
                jobject,
                *mut jint,
                *mut *mut jmethodID,
            ) -> jint = function(*self.0, slot::GET_CLASS_METHODS);
            f(self.0, class, &mut n, &mut arr)
        };
        if rc != 0 {
            return Err(format!("GetClassMethods failed (JVMTI error {rc})"));
        }
        // SAFETY: the JVM wrote `n` ids at `arr` with its allocator.
        let ids = unsafe { self.take_array(arr, n) };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (mut name, mut sig): (*mut c_char, *mut c_char) =
                (ptr::null_mut(), ptr::null_mut());
            let mut mods: jint = 0;
            // SAFETY: GetMethodName(jvmtiEnv*, jmethodID, char**, char**, char**) and
            // GetMethodModifiers(jvmtiEnv*, jmethodID, jint*) on an id of a loaded class.
            let ok = unsafe {
                let f: unsafe extern "system" fn(
                    RawJvmti,
                    jmethodID,
                    *mut *mut c_char,
                    *mut *mut c_char,
                    *mut *mut c_char,
                ) -> jint = function(*self.0, slot::GET_METHOD_NAME);
                let m: unsafe extern "system" fn(RawJvmti, jmethodID, *mut jint) -> jint =
                    function(*self.0, slot::GET_METHOD_MODIFIERS);
                f(self.0, id, &mut name, &mut sig, ptr::null_mut()) == 0
                    && m(self.0, id, &mut mods) == 0
            };
            // SAFETY: JVMTI-allocated strings (or null), taken once.
            let (name, sig) = unsafe { (self.take_string(name), self.take_string(sig)) };
            if let (true, Some(name), Some(sig)) = (ok, name, sig) {
                out.push((id, name, sig, mods & ACC_STATIC != 0));
            }
        }
        Ok(out)
    }
}
