//! Hand-written JNI bindings: only the functions the agent calls, each by its slot in the
//! function table of `jni.h` (the same in JDK 9 to 25), wrapped in safe methods that turn a
//! pending Java exception into a [`JavaError`].
//!
//! Invariants the safe surface relies on: an [`Env`] exists only on the thread it belongs to
//! (it is neither `Send` nor `Sync`), and a [`Local`] only inside the local frame that made it
//! (its lifetime is the frame's, see [`Env::with_frame`]).

use std::ffi::{c_char, c_void, CString};
use std::marker::PhantomData;
use std::ptr;

#[allow(non_camel_case_types)]
pub type jint = i32;
#[allow(non_camel_case_types)]
pub type jobject = *mut c_void;
/// A method id (opaque, valid while its class is loaded).
#[allow(non_camel_case_types)]
pub type jmethodID = *mut c_void;

/// `JNIEnv*`: a pointer to the thread's pointer to the function table.
pub type RawEnv = *mut *const *const c_void;
/// `JavaVM*`.
pub type RawVm = *mut *const *const c_void;

pub const JNI_OK: jint = 0;
pub const JNI_ERR: jint = -1;
const JNI_EDETACHED: jint = -2;
const JNI_VERSION_1_8: jint = 0x0001_0008;

/// One argument of a Java call.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types, dead_code)]
pub union jvalue {
    z: u8,
    i: i32,
    j: i64,
    d: f64,
    l: jobject,
}

/// The `JNINativeMethod` of `RegisterNatives`.
#[repr(C)]
pub struct NativeMethod {
    pub name: *const c_char,
    pub signature: *const c_char,
    pub fn_ptr: *mut c_void,
}

/// Slots of `struct JNINativeInterface_` (jni.h), counting the four reserved ones.
mod slot {
    pub const DEFINE_CLASS: usize = 5;
    pub const FIND_CLASS: usize = 6;
    pub const TO_REFLECTED_METHOD: usize = 9;
    pub const THROW_NEW: usize = 14;
    pub const EXCEPTION_OCCURRED: usize = 15;
    pub const EXCEPTION_CLEAR: usize = 17;
    pub const PUSH_LOCAL_FRAME: usize = 19;
    pub const POP_LOCAL_FRAME: usize = 20;
    pub const NEW_OBJECT_A: usize = 30;
    pub const IS_INSTANCE_OF: usize = 32;
    pub const GET_METHOD_ID: usize = 33;
    pub const CALL_OBJECT_METHOD_A: usize = 36;
    pub const CALL_BOOLEAN_METHOD_A: usize = 39;
    pub const CALL_LONG_METHOD_A: usize = 54;
    pub const CALL_VOID_METHOD_A: usize = 63;
    pub const GET_STATIC_METHOD_ID: usize = 113;
    pub const CALL_STATIC_OBJECT_METHOD_A: usize = 116;
    pub const CALL_STATIC_BOOLEAN_METHOD_A: usize = 119;
    pub const CALL_STATIC_INT_METHOD_A: usize = 131;
    pub const CALL_STATIC_LONG_METHOD_A: usize = 134;
    pub const CALL_STATIC_VOID_METHOD_A: usize = 143;
    pub const NEW_STRING: usize = 163;
    pub const GET_STRING_LENGTH: usize = 164;
    pub const GET_ARRAY_LENGTH: usize = 171;
    pub const NEW_OBJECT_ARRAY: usize = 172;
    pub const GET_OBJECT_ARRAY_ELEMENT: usize = 173;
    pub const SET_OBJECT_ARRAY_ELEMENT: usize = 174;
    pub const REGISTER_NATIVES: usize = 215;
    pub const GET_STRING_REGION: usize = 220;
    pub const EXCEPTION_CHECK: usize = 228;
    // struct JNIInvokeInterface_
    pub const VM_DETACH: usize = 5;
    pub const VM_GET_ENV: usize = 6;
    pub const VM_ATTACH_DAEMON: usize = 7;
}

/// A Java exception (or a JNI failure) in words: the throwable's `toString()` and its causes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JavaError(pub String);

/// The result of a JNI call.
pub type JResult<T> = Result<T, JavaError>;

/// Reads function `slot` of a table as the function type `F`.
///
/// # Safety
/// `table` must point to a JNI (or JVMTI) function table with at least `slot + 1` entries,
/// and `F` must be the C signature of that entry.
pub(crate) unsafe fn function<F: Copy>(table: *const *const c_void, slot: usize) -> F {
    // SAFETY: the caller guarantees the table and the slot's signature; fn pointers and
    // `*const c_void` have the same size on every platform HotSpot runs on.
    unsafe {
        let f = *table.add(slot);
        std::mem::transmute_copy::<*const c_void, F>(&f)
    }
}

/// The JVM, usable from any thread (the JNI spec makes `JavaVM*` process-wide).
#[derive(Debug, Clone, Copy)]
pub struct JavaVm(RawVm);

// SAFETY: a JavaVM pointer is valid for the JVM's life and its functions may be called from
// any thread (JNI spec, "Invocation API").
unsafe impl Send for JavaVm {}
// SAFETY: as above; the pointer is never written through.
unsafe impl Sync for JavaVm {}

impl JavaVm {
    /// Wraps the pointer the JVM handed to `Agent_OnLoad`/`Agent_OnAttach`.
    ///
    /// # Safety
    /// `raw` must be the JVM's own `JavaVM*`.
    pub unsafe fn from_raw(raw: RawVm) -> JavaVm {
        JavaVm(raw)
    }

    pub fn raw(self) -> RawVm {
        self.0
    }

    /// The calling thread's JNI environment, if the thread is attached to the JVM.
    pub fn env(&self) -> Option<Env<'static>> {
        let mut env: *mut c_void = ptr::null_mut();
        // SAFETY: `self.0` is the JVM's JavaVM*; GetEnv has this signature in every JDK.
        let rc = unsafe {
            let get_env: unsafe extern "system" fn(RawVm, *mut *mut c_void, jint) -> jint =
                function(*self.0, slot::VM_GET_ENV);
            get_env(self.0, &mut env, JNI_VERSION_1_8)
        };
        if rc == JNI_EDETACHED || rc != JNI_OK || env.is_null() {
            return None;
        }
        // SAFETY: GetEnv returned the current thread's JNIEnv.
        Some(unsafe { Env::from_raw(env.cast()) })
    }

    /// Detaches the calling thread (attached by [`JavaVm::attach_daemon`]) before it ends; its
    /// local references go with it.
    pub fn detach(&self) {
        // SAFETY: DetachCurrentThread(JavaVM*) -> jint; called by a thread with no Java frames.
        unsafe {
            let f: unsafe extern "system" fn(RawVm) -> jint = function(*self.0, slot::VM_DETACH);
            f(self.0);
        }
    }

    /// Attaches the calling thread as a daemon (it never holds up the JVM's exit) named
    /// `name`, or returns its environment if it is attached already.
    pub fn attach_daemon(&self, name: &str) -> JResult<Env<'static>> {
        if let Some(env) = self.env() {
            return Ok(env);
        }
        #[repr(C)]
        struct AttachArgs {
            version: jint,
            name: *const c_char,
            group: jobject,
        }
        let cname = CString::new(name).map_err(|_| JavaError("a thread name with NUL".into()))?;
        let mut args = AttachArgs {
            version: JNI_VERSION_1_8,
            name: cname.as_ptr(),
            group: ptr::null_mut(),
        };
        let mut env: *mut c_void = ptr::null_mut();
        // SAFETY: the JVM's JavaVM*; AttachCurrentThreadAsDaemon takes a JavaVMAttachArgs,
        // whose name the JVM copies before returning.
        let rc = unsafe {
            let attach: unsafe extern "system" fn(RawVm, *mut *mut c_void, *mut c_void) -> jint =
                function(*self.0, slot::VM_ATTACH_DAEMON);
            attach(self.0, &mut env, (&mut args as *mut AttachArgs).cast())
        };
        if rc != JNI_OK || env.is_null() {
            return Err(JavaError(format!(
                "AttachCurrentThreadAsDaemon failed ({rc})"
            )));
        }
        // SAFETY: the thread is attached now and this is its JNIEnv.
        Ok(unsafe { Env::from_raw(env.cast()) })
    }
}

/// A thread's JNI environment. Not `Send`: it belongs to its thread.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    raw: RawEnv,
    _frame: PhantomData<&'a ()>,
    _thread: PhantomData<*const ()>,
}

/// A local reference, valid in the frame that made it. Never null.
#[derive(Debug, Clone, Copy)]
pub struct Local<'a> {
    raw: jobject,
    _frame: PhantomData<&'a ()>,
}

impl<'a> Local<'a> {
    /// Wraps a reference the JVM passed to a native method (valid for the call).
    ///
    /// # Safety
    /// `raw` must be a live local or global reference for the current frame, or null.
    pub unsafe fn from_raw(raw: jobject) -> Option<Local<'a>> {
        (!raw.is_null()).then_some(Local {
            raw,
            _frame: PhantomData,
        })
    }

    pub fn raw(self) -> jobject {
        self.raw
    }
}

/// A method id with the class it belongs to checked at lookup.
#[derive(Debug, Clone, Copy)]
pub struct Method(jmethodID);

impl Method {
    /// Wraps a method id JVMTI returned (valid while its class is loaded).
    ///
    /// # Safety
    /// `id` must be a jmethodID of a loaded class.
    pub unsafe fn from_raw(id: jmethodID) -> Method {
        Method(id)
    }
}

/// What a static call returns, by the JNI function that makes it.
#[derive(Debug, Clone, Copy)]
pub enum Ret {
    /// `CallStaticVoidMethodA`.
    Void,
    /// `CallStaticIntMethodA`.
    Int,
    /// `CallStaticLongMethodA`.
    Long,
    /// `CallStaticBooleanMethodA`.
    Boolean,
    /// `CallStaticObjectMethodA`.
    Object,
}

/// A static call's result.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// Nothing.
    Void,
    /// An `int` or a `boolean` (0/1).
    Int(i32),
    /// A `long`.
    Long(i64),
    /// An object (`None` for null).
    Object(Option<Local<'a>>),
}

/// Arguments of Java calls.
pub mod arg {
    use super::{jvalue, Local};

    pub fn obj(o: Local<'_>) -> jvalue {
        jvalue { l: o.raw() }
    }
    pub fn long(v: i64) -> jvalue {
        jvalue { j: v }
    }
    pub fn int(v: i32) -> jvalue {
        jvalue { i: v }
    }
    pub fn boolean(v: bool) -> jvalue {
        jvalue { z: u8::from(v) }
    }
    pub fn double(v: f64) -> jvalue {
        jvalue { d: v }
    }
}

impl<'a> Env<'a> {
    /// Wraps a thread's JNIEnv.
    ///
    /// # Safety
    /// `raw` must be the current thread's `JNIEnv*`, used only on this thread.
    pub unsafe fn from_raw(raw: RawEnv) -> Env<'a> {
        Env {
            raw,
            _frame: PhantomData,
            _thread: PhantomData,
        }
    }

    /// The function at `slot`, typed by the caller.
    ///
    /// # Safety
    /// `F` must be the C signature of that slot in `JNINativeInterface_`.
    unsafe fn f<F: Copy>(&self, slot: usize) -> F {
        // SAFETY: `raw` is a live JNIEnv (see `from_raw`) and the caller names the signature.
        unsafe { function(*self.raw, slot) }
    }

    fn local(&self, raw: jobject) -> Option<Local<'a>> {
        (!raw.is_null()).then_some(Local {
            raw,
            _frame: PhantomData,
        })
    }

    /// Runs `f` in a new local frame of `capacity` references and frees them all afterwards.
    pub fn with_frame<R>(&self, capacity: i32, f: impl for<'g> FnOnce(Env<'g>) -> R) -> JResult<R> {
        // SAFETY: PushLocalFrame(JNIEnv*, jint) -> jint.
        let rc = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jint) -> jint>(slot::PUSH_LOCAL_FRAME)(
                self.raw, capacity,
            )
        };
        if rc != JNI_OK {
            return Err(self.take_exception("PushLocalFrame"));
        }
        let inner = Env {
            raw: self.raw,
            _frame: PhantomData,
            _thread: PhantomData,
        };
        let r = f(inner);
        // SAFETY: PopLocalFrame(JNIEnv*, jobject) -> jobject; pops the frame pushed above
        // (the closure cannot keep a reference of it: its lifetime ends here).
        unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject) -> jobject>(slot::POP_LOCAL_FRAME)(
                self.raw,
                ptr::null_mut(),
            );
        }
        Ok(r)
    }

    /// Whether an exception is pending.
    fn exception_pending(&self) -> bool {
        // SAFETY: ExceptionCheck(JNIEnv*) -> jboolean.
        unsafe {
            self.f::<unsafe extern "system" fn(RawEnv) -> u8>(slot::EXCEPTION_CHECK)(self.raw) != 0
        }
    }

    /// Clears the pending exception and describes it (`toString()` and up to three causes);
    /// `what` names the call when there is no exception to describe.
    fn take_exception(&self, what: &str) -> JavaError {
        if !self.exception_pending() {
            return JavaError(format!("{what} failed"));
        }
        // SAFETY: ExceptionOccurred(JNIEnv*) -> jthrowable; ExceptionClear(JNIEnv*).
        let thrown = unsafe {
            let t = self
                .f::<unsafe extern "system" fn(RawEnv) -> jobject>(slot::EXCEPTION_OCCURRED)(
                self.raw,
            );
            self.f::<unsafe extern "system" fn(RawEnv)>(slot::EXCEPTION_CLEAR)(self.raw);
            t
        };
        let text = self
            .local(thrown)
            .map(|t| self.describe_throwable(t))
            .unwrap_or_else(|| format!("{what}: an exception"));
        JavaError(text)
    }

    /// `toString()` of a throwable and of its causes, joined by `; caused by `.
    fn describe_throwable(&self, t: Local<'a>) -> String {
        let mut parts = Vec::new();
        let mut next = Some(t);
        while let Some(t) = next.take() {
            if parts.len() == 4 {
                break;
            }
            match self.call_object(
                t,
                "java/lang/Object",
                "toString",
                "()Ljava/lang/String;",
                &[],
            ) {
                Ok(Some(s)) => parts.push(self.string(s).unwrap_or_default()),
                _ => break,
            }
            next = self
                .call_object(
                    t,
                    "java/lang/Throwable",
                    "getCause",
                    "()Ljava/lang/Throwable;",
                    &[],
                )
                .ok()
                .flatten()
                .filter(|c| !self.same(*c, t));
        }
        parts.join("; caused by ")
    }

    fn same(&self, a: Local<'a>, b: Local<'a>) -> bool {
        a.raw == b.raw
    }

    /// Turns a pending exception into an error.
    fn check(&self, what: &str) -> JResult<()> {
        if self.exception_pending() {
            Err(self.take_exception(what))
        } else {
            Ok(())
        }
    }

    /// A class by its internal name, e.g. `java/lang/String`.
    pub fn find_class(&self, name: &str) -> JResult<Local<'a>> {
        let c = cstring(name)?;
        // SAFETY: FindClass(JNIEnv*, const char*) -> jclass.
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, *const c_char) -> jobject>(slot::FIND_CLASS)(
                self.raw,
                c.as_ptr(),
            )
        };
        self.check(name)?;
        self.local(raw)
            .ok_or_else(|| JavaError(format!("class {name} not found")))
    }

    /// Defines a class from its bytes in the bootstrap loader.
    pub fn define_class(&self, name: &str, bytes: &[u8]) -> JResult<Local<'a>> {
        let c = cstring(name)?;
        let len = jint::try_from(bytes.len()).map_err(|_| JavaError("class too large".into()))?;
        // SAFETY: DefineClass(JNIEnv*, const char*, jobject loader, const jbyte*, jsize) ->
        // jclass; a null loader is the bootstrap loader; the JVM copies the bytes.
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(
                RawEnv,
                *const c_char,
                jobject,
                *const i8,
                jint,
            ) -> jobject>(slot::DEFINE_CLASS)(
                self.raw,
                c.as_ptr(),
                ptr::null_mut(),
                bytes.as_ptr().cast(),
                len,
            )
        };
        self.check(name)?;
        self.local(raw)
            .ok_or_else(|| JavaError(format!("DefineClass {name} failed")))
    }

    /// Binds the native methods of a class to Rust functions.
    pub fn register_natives(&self, class: Local<'a>, methods: &[NativeMethod]) -> JResult<()> {
        let n = jint::try_from(methods.len()).map_err(|_| JavaError("too many natives".into()))?;
        // SAFETY: RegisterNatives(JNIEnv*, jclass, const JNINativeMethod*, jint) -> jint;
        // each entry names a method of the class and a function with its signature (the
        // caller's table, checked by the JVM against the class).
        let rc = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, *const NativeMethod, jint) -> jint>(
                slot::REGISTER_NATIVES,
            )(self.raw, class.raw, methods.as_ptr(), n)
        };
        self.check("RegisterNatives")?;
        if rc != JNI_OK {
            return Err(JavaError(format!("RegisterNatives failed ({rc})")));
        }
        Ok(())
    }

    fn method_id(
        &self,
        class: Local<'a>,
        name: &str,
        sig: &str,
        is_static: bool,
    ) -> JResult<Method> {
        let (n, s) = (cstring(name)?, cstring(sig)?);
        let slot = if is_static {
            slot::GET_STATIC_METHOD_ID
        } else {
            slot::GET_METHOD_ID
        };
        // SAFETY: Get(Static)MethodID(JNIEnv*, jclass, const char*, const char*) -> jmethodID.
        let id = unsafe {
            self.f::<unsafe extern "system" fn(
                RawEnv,
                jobject,
                *const c_char,
                *const c_char,
            ) -> jmethodID>(slot)(self.raw, class.raw, n.as_ptr(), s.as_ptr())
        };
        self.check(name)?;
        if id.is_null() {
            return Err(JavaError(format!("no method {name}{sig}")));
        }
        Ok(Method(id))
    }

    /// `new Class(args)` with the constructor of signature `sig`.
    pub fn new_object(&self, class: &str, sig: &str, args: &[jvalue]) -> JResult<Local<'a>> {
        let c = self.find_class(class)?;
        let ctor = self.method_id(c, "<init>", sig, false)?;
        // SAFETY: NewObjectA(JNIEnv*, jclass, jmethodID, const jvalue*) -> jobject; the
        // arguments match `sig` (the caller's contract, as in Java source).
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jmethodID, *const jvalue) -> jobject>(
                slot::NEW_OBJECT_A,
            )(self.raw, c.raw, ctor.0, args.as_ptr())
        };
        self.check(class)?;
        self.local(raw)
            .ok_or_else(|| JavaError(format!("new {class} failed")))
    }

    /// Calls an instance method returning an object (`None` for null).
    pub fn call_object(
        &self,
        obj: Local<'a>,
        class: &str,
        name: &str,
        sig: &str,
        args: &[jvalue],
    ) -> JResult<Option<Local<'a>>> {
        let c = self.find_class(class)?;
        let m = self.method_id(c, name, sig, false)?;
        // SAFETY: CallObjectMethodA(JNIEnv*, jobject, jmethodID, const jvalue*) -> jobject;
        // the method was looked up in `class` and the arguments match `sig`.
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jmethodID, *const jvalue) -> jobject>(
                slot::CALL_OBJECT_METHOD_A,
            )(self.raw, obj.raw, m.0, args.as_ptr())
        };
        self.check(name)?;
        Ok(self.local(raw))
    }

    /// Calls an instance method returning a boolean.
    pub fn call_boolean(
        &self,
        obj: Local<'a>,
        class: &str,
        name: &str,
        sig: &str,
        args: &[jvalue],
    ) -> JResult<bool> {
        let c = self.find_class(class)?;
        let m = self.method_id(c, name, sig, false)?;
        // SAFETY: CallBooleanMethodA(JNIEnv*, jobject, jmethodID, const jvalue*) -> jboolean.
        let z = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jmethodID, *const jvalue) -> u8>(
                slot::CALL_BOOLEAN_METHOD_A,
            )(self.raw, obj.raw, m.0, args.as_ptr())
        };
        self.check(name)?;
        Ok(z != 0)
    }

    /// Calls an instance method returning nothing.
    pub fn call_void(
        &self,
        obj: Local<'a>,
        class: &str,
        name: &str,
        sig: &str,
        args: &[jvalue],
    ) -> JResult<()> {
        let c = self.find_class(class)?;
        let m = self.method_id(c, name, sig, false)?;
        // SAFETY: CallVoidMethodA(JNIEnv*, jobject, jmethodID, const jvalue*).
        unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jmethodID, *const jvalue)>(
                slot::CALL_VOID_METHOD_A,
            )(self.raw, obj.raw, m.0, args.as_ptr());
        }
        self.check(name)
    }

    /// Calls a static method returning an object (`None` for null).
    pub fn call_static_object(
        &self,
        class: &str,
        name: &str,
        sig: &str,
        args: &[jvalue],
    ) -> JResult<Option<Local<'a>>> {
        let c = self.find_class(class)?;
        let m = self.method_id(c, name, sig, true)?;
        // SAFETY: CallStaticObjectMethodA(JNIEnv*, jclass, jmethodID, const jvalue*) -> jobject.
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jmethodID, *const jvalue) -> jobject>(
                slot::CALL_STATIC_OBJECT_METHOD_A,
            )(self.raw, c.raw, m.0, args.as_ptr())
        };
        self.check(name)?;
        Ok(self.local(raw))
    }

    /// Calls a static method returning a boolean.
    pub fn call_static_boolean(
        &self,
        class: &str,
        name: &str,
        sig: &str,
        args: &[jvalue],
    ) -> JResult<bool> {
        let c = self.find_class(class)?;
        let m = self.method_id(c, name, sig, true)?;
        // SAFETY: CallStaticBooleanMethodA(JNIEnv*, jclass, jmethodID, const jvalue*) -> jboolean.
        let z = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jmethodID, *const jvalue) -> u8>(
                slot::CALL_STATIC_BOOLEAN_METHOD_A,
            )(self.raw, c.raw, m.0, args.as_ptr())
        };
        self.check(name)?;
        Ok(z != 0)
    }

    /// A static method of a class already in hand.
    pub fn static_method(&self, class: Local<'a>, name: &str, sig: &str) -> JResult<Method> {
        self.method_id(class, name, sig, true)
    }

    /// Calls a static method found with [`Env::static_method`]; `ret` names its return type.
    pub fn call_static(
        &self,
        class: Local<'a>,
        m: Method,
        ret: Ret,
        args: &[jvalue],
        what: &str,
    ) -> JResult<Value<'a>> {
        type F<R> = unsafe extern "system" fn(RawEnv, jobject, jmethodID, *const jvalue) -> R;
        let (c, a) = (class.raw, args.as_ptr());
        // SAFETY: CallStatic<Type>MethodA(JNIEnv*, jclass, jmethodID, const jvalue*); the
        // method belongs to `class`, and the caller matches `ret` and `args` to its descriptor.
        let v = unsafe {
            match ret {
                Ret::Void => {
                    self.f::<F<()>>(slot::CALL_STATIC_VOID_METHOD_A)(self.raw, c, m.0, a);
                    Value::Void
                }
                Ret::Int => Value::Int(self.f::<F<jint>>(slot::CALL_STATIC_INT_METHOD_A)(
                    self.raw, c, m.0, a,
                )),
                Ret::Boolean => Value::Int(i32::from(self
                    .f::<F<u8>>(slot::CALL_STATIC_BOOLEAN_METHOD_A)(
                    self.raw, c, m.0, a
                ))),
                Ret::Long => Value::Long(self.f::<F<i64>>(slot::CALL_STATIC_LONG_METHOD_A)(
                    self.raw, c, m.0, a,
                )),
                Ret::Object => Value::Object(self.local(
                    self.f::<F<jobject>>(slot::CALL_STATIC_OBJECT_METHOD_A)(self.raw, c, m.0, a),
                )),
            }
        };
        self.check(what)?;
        Ok(v)
    }

    /// The `java.lang.reflect.Method` (or `Constructor`) of a method id.
    pub fn reflected(&self, class: Local<'a>, m: Method, is_static: bool) -> JResult<Local<'a>> {
        // SAFETY: ToReflectedMethod(JNIEnv*, jclass, jmethodID, jboolean) -> jobject; the
        // method belongs to `class` (JVMTI listed it among the class's methods).
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jmethodID, u8) -> jobject>(
                slot::TO_REFLECTED_METHOD,
            )(self.raw, class.raw, m.0, u8::from(is_static))
        };
        self.check("ToReflectedMethod")?;
        self.local(raw)
            .ok_or_else(|| JavaError("ToReflectedMethod failed".into()))
    }

    /// `((Number) obj).longValue()`: unboxes an Integer or a Long.
    pub fn number(&self, obj: Local<'a>) -> JResult<i64> {
        let c = self.find_class("java/lang/Number")?;
        let m = self.method_id(c, "longValue", "()J", false)?;
        // SAFETY: CallLongMethodA(JNIEnv*, jobject, jmethodID, const jvalue*) -> jlong; no
        // arguments.
        let v = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jmethodID, *const jvalue) -> i64>(
                slot::CALL_LONG_METHOD_A,
            )(self.raw, obj.raw, m.0, ptr::null())
        };
        self.check("Number.longValue")?;
        Ok(v)
    }

    /// The length of any array.
    pub fn array_length(&self, array: Local<'a>) -> JResult<usize> {
        // SAFETY: GetArrayLength(JNIEnv*, jarray) -> jsize.
        let len = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject) -> jint>(slot::GET_ARRAY_LENGTH)(
                self.raw, array.raw,
            )
        };
        self.check("GetArrayLength")?;
        Ok(usize::try_from(len).unwrap_or(0))
    }

    /// Wraps a local reference JVMTI returned to this thread.
    ///
    /// # Safety
    /// `raw` must be a live local reference of this thread's current frame, or null.
    pub unsafe fn wrap(&self, raw: jobject) -> Option<Local<'a>> {
        self.local(raw)
    }

    /// Whether `obj` is an instance of `class`.
    pub fn is_instance_of(&self, obj: Local<'a>, class: &str) -> JResult<bool> {
        let c = self.find_class(class)?;
        // SAFETY: IsInstanceOf(JNIEnv*, jobject, jclass) -> jboolean.
        let z = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jobject) -> u8>(
                slot::IS_INSTANCE_OF,
            )(self.raw, obj.raw, c.raw)
        };
        Ok(z != 0)
    }

    /// A Java string from Rust text (through UTF-16, so any text survives).
    pub fn new_string(&self, s: &str) -> JResult<Local<'a>> {
        let units: Vec<u16> = s.encode_utf16().collect();
        let len = jint::try_from(units.len()).map_err(|_| JavaError("string too long".into()))?;
        // SAFETY: NewString(JNIEnv*, const jchar*, jsize) -> jstring; the JVM copies.
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, *const u16, jint) -> jobject>(
                slot::NEW_STRING,
            )(self.raw, units.as_ptr(), len)
        };
        self.check("NewString")?;
        self.local(raw)
            .ok_or_else(|| JavaError("NewString failed".into()))
    }

    /// The text of a `java.lang.String`.
    pub fn string(&self, s: Local<'a>) -> JResult<String> {
        // SAFETY: GetStringLength(JNIEnv*, jstring) -> jsize.
        let len = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject) -> jint>(slot::GET_STRING_LENGTH)(
                self.raw, s.raw,
            )
        };
        self.check("GetStringLength")?;
        let mut buf = vec![0u16; usize::try_from(len).unwrap_or(0)];
        // SAFETY: GetStringRegion(JNIEnv*, jstring, jsize start, jsize len, jchar* buf) copies
        // exactly `len` units into a buffer of that size.
        unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jint, jint, *mut u16)>(
                slot::GET_STRING_REGION,
            )(self.raw, s.raw, 0, len, buf.as_mut_ptr());
        }
        self.check("GetStringRegion")?;
        Ok(String::from_utf16_lossy(&buf))
    }

    /// A new `class[]` of `len` nulls.
    pub fn new_array(&self, class: &str, len: usize) -> JResult<Local<'a>> {
        let c = self.find_class(class)?;
        let n = jint::try_from(len).map_err(|_| JavaError("array too long".into()))?;
        // SAFETY: NewObjectArray(JNIEnv*, jsize, jclass, jobject init) -> jobjectArray.
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jint, jobject, jobject) -> jobject>(
                slot::NEW_OBJECT_ARRAY,
            )(self.raw, n, c.raw, ptr::null_mut())
        };
        self.check("NewObjectArray")?;
        self.local(raw)
            .ok_or_else(|| JavaError("NewObjectArray failed".into()))
    }

    /// Stores an element of an object array.
    pub fn set_element(&self, array: Local<'a>, i: usize, v: Option<Local<'a>>) -> JResult<()> {
        let i = jint::try_from(i).map_err(|_| JavaError("index too large".into()))?;
        // SAFETY: SetObjectArrayElement(JNIEnv*, jobjectArray, jsize, jobject); an index out
        // of bounds raises an exception, which `check` reports.
        unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jint, jobject)>(
                slot::SET_OBJECT_ARRAY_ELEMENT,
            )(self.raw, array.raw, i, v.map_or(ptr::null_mut(), |v| v.raw));
        }
        self.check("SetObjectArrayElement")
    }

    /// The elements of an object array (`None` for null elements).
    pub fn elements(&self, array: Local<'a>) -> JResult<Vec<Option<Local<'a>>>> {
        // SAFETY: GetArrayLength(JNIEnv*, jarray) -> jsize.
        let len = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject) -> jint>(slot::GET_ARRAY_LENGTH)(
                self.raw, array.raw,
            )
        };
        self.check("GetArrayLength")?;
        let mut out = Vec::new();
        for i in 0..len.max(0) {
            // SAFETY: GetObjectArrayElement(JNIEnv*, jobjectArray, jsize) -> jobject, i < len.
            let raw = unsafe {
                self.f::<unsafe extern "system" fn(RawEnv, jobject, jint) -> jobject>(
                    slot::GET_OBJECT_ARRAY_ELEMENT,
                )(self.raw, array.raw, i)
            };
            self.check("GetObjectArrayElement")?;
            out.push(self.local(raw));
        }
        Ok(out)
    }

    /// One element of an object array (`None` for null); an index out of bounds is an error.
    pub fn element(&self, array: Local<'a>, i: usize) -> JResult<Option<Local<'a>>> {
        let i = jint::try_from(i).map_err(|_| JavaError("index too large".into()))?;
        // SAFETY: GetObjectArrayElement(JNIEnv*, jobjectArray, jsize) -> jobject; a bad index
        // raises an exception, which `check` reports.
        let raw = unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, jint) -> jobject>(
                slot::GET_OBJECT_ARRAY_ELEMENT,
            )(self.raw, array.raw, i)
        };
        self.check("GetObjectArrayElement")?;
        Ok(self.local(raw))
    }

    /// A `String[]` of the given texts.
    pub fn string_array(&self, items: &[String]) -> JResult<Local<'a>> {
        let a = self.new_array("java/lang/String", items.len())?;
        for (i, s) in items.iter().enumerate() {
            let s = self.new_string(s)?;
            self.set_element(a, i, Some(s))?;
        }
        Ok(a)
    }

    /// Makes the current native method throw `class(message)` when it returns.
    pub fn throw_new(&self, class: &str, message: &str) {
        let Ok(c) = self.find_class(class) else {
            return;
        };
        let Ok(m) = cstring(&message.replace('\0', " ")) else {
            return;
        };
        // SAFETY: ThrowNew(JNIEnv*, jclass, const char*) -> jint; the message is copied (it is
        // ASCII-safe MUTF-8 only if ASCII: non-ASCII bytes are replaced below).
        unsafe {
            self.f::<unsafe extern "system" fn(RawEnv, jobject, *const c_char) -> jint>(
                slot::THROW_NEW,
            )(self.raw, c.raw, m.as_ptr());
        }
    }
}

/// A NUL-terminated copy, ASCII only (non-ASCII bytes become `?`, which keeps it valid
/// modified UTF-8 for the JVM).
fn cstring(s: &str) -> JResult<CString> {
    let ascii: String = s
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect();
    CString::new(ascii).map_err(|_| JavaError(format!("{s:?} contains NUL")))
}
