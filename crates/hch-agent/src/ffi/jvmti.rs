//! Hand-written JVMTI bindings: the environment, the VMInit and VMDeath events, and
//! `GetCapabilities` so that the agent can show it holds none. Slots are those of
//! `struct jvmtiInterface_1_` in `jvmti.h` (function N of the spec sits at index N - 1).

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;

use super::jni::{function, jint, jobject, JavaVm, RawEnv, RawVm, JNI_OK};

/// `jvmtiEnv*`.
pub type RawJvmti = *mut *const *const c_void;

const JVMTI_VERSION_1_2: jint = 0x3001_0200;
const JVMTI_ENABLE: jint = 1;
const EVENT_VM_INIT: jint = 50;
const EVENT_VM_DEATH: jint = 51;

mod slot {
    pub const SET_EVENT_NOTIFICATION_MODE: usize = 2 - 1;
    pub const DEALLOCATE: usize = 47 - 1;
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
}
