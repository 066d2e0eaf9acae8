//! The same-process [`Target`]: diagnostic commands through the platform MBean server's
//! DiagnosticCommand MBean (the operations `hch_jmx::dcmd` names, as over remote JMX), and
//! files placed directly in the agent's private directory, which is the JVM's own filesystem.
//! With it, the library API (`hch_target::jfr::record`, `hch_target::directives`,
//! `hch_target::info`, `hch_profile::apply`) works inside the JVM unchanged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hch_target::jfr::RecordOptions;
use hch_target::{Target, TargetError};

use crate::ffi::jni::{arg, Env, JResult, JavaError, JavaVm, Local};
use crate::files::PrivateDir;

/// The DiagnosticCommand MBean.
const DIAGNOSTIC_COMMAND: &str = "com.sun.management:type=DiagnosticCommand";
const MBEAN_SERVER: &str = "javax/management/MBeanServer";
const INVOKE_SIG: &str = "(Ljavax/management/ObjectName;Ljava/lang/String;[Ljava/lang/Object;[Ljava/lang/String;)Ljava/lang/Object;";

/// This JVM as a target. Each call uses the calling thread's JNI environment, so one value
/// serves whichever attached thread holds it.
#[derive(Debug)]
pub struct InProcess {
    vm: JavaVm,
    dir: Arc<PrivateDir>,
    cancel: Arc<AtomicBool>,
}

impl InProcess {
    /// A target whose files go into `dir`; `cancel` set means the JVM is going away (or the
    /// agent stops), which ends a recording early.
    pub fn new(vm: JavaVm, dir: Arc<PrivateDir>, cancel: Arc<AtomicBool>) -> InProcess {
        InProcess { vm, dir, cancel }
    }

    fn env(&self) -> Result<Env<'static>, TargetError> {
        self.vm.env().ok_or_else(|| TargetError::Unreachable {
            target: self.describe(),
            reason: "this thread is not attached to the JVM".into(),
        })
    }

    fn io(&self, what: &str, e: std::io::Error) -> TargetError {
        TargetError::Io {
            context: format!("{}: {what}", self.describe()),
            source: e,
        }
    }
}

impl Target for InProcess {
    fn jcmd(&mut self, command: &str) -> Result<String, TargetError> {
        let env = self.env()?;
        run_dcmd(env, command).map_err(|e| TargetError::CommandFailed {
            target: self.describe(),
            command: command.into(),
            output: e.0,
        })
    }

    fn describe(&self) -> String {
        format!("this JVM (pid {})", std::process::id())
    }

    fn put_file(&mut self, name: &str, contents: &[u8]) -> Result<String, TargetError> {
        let p = self
            .dir
            .put(name, contents)
            .map_err(|e| self.io(&format!("writing {name}"), e))?;
        Ok(p.to_string_lossy().into_owned())
    }

    fn read_file(&mut self, jvm_path: &str) -> Result<Vec<u8>, TargetError> {
        self.dir
            .read(jvm_path)
            .map_err(|e| self.io(&format!("reading {jvm_path}"), e))
    }

    fn remove_file(&mut self, jvm_path: &str) -> Result<(), TargetError> {
        self.dir
            .remove(jvm_path)
            .map_err(|e| self.io(&format!("removing {jvm_path}"), e))
    }

    fn record(
        &mut self,
        opts: &RecordOptions,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(Duration, Duration),
    ) -> Result<Vec<u8>, TargetError> {
        hch_target::jfr::record(self, opts, cancel, progress)
    }

    fn check_alive(&mut self) -> Result<(), TargetError> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(TargetError::Unreachable {
                target: self.describe(),
                reason: "the JVM is exiting or the agent was stopped".into(),
            });
        }
        Ok(())
    }
}

/// `ManagementFactory.getPlatformMBeanServer()`.
pub fn platform_server<'a>(env: Env<'a>) -> JResult<Local<'a>> {
    env.call_static_object(
        "java/lang/management/ManagementFactory",
        "getPlatformMBeanServer",
        "()Ljavax/management/MBeanServer;",
        &[],
    )?
    .ok_or_else(|| JavaError("no platform MBean server".into()))
}

/// `new ObjectName(name)`.
pub fn object_name<'a>(env: Env<'a>, name: &str) -> JResult<Local<'a>> {
    let s = env.new_string(name)?;
    env.new_object(
        "javax/management/ObjectName",
        "(Ljava/lang/String;)V",
        &[arg::obj(s)],
    )
}

/// Runs a jcmd command line through the DiagnosticCommand MBean and returns its text.
pub fn run_dcmd(env: Env<'_>, line: &str) -> JResult<String> {
    let (op, args) = hch_jmx::dcmd::split_command_line(line)
        .ok_or_else(|| JavaError("empty command line".into()))?;
    let out = env.with_frame(32, |env| {
        let arr = env.string_array(&args)?;
        let params = env.new_array("java/lang/Object", 1)?;
        env.set_element(params, 0, Some(arr))?;
        let sig = env.string_array(&["[Ljava.lang.String;".to_string()])?;
        invoke(env, DIAGNOSTIC_COMMAND, &op, params, sig)
    })??;
    Ok(out.unwrap_or_default())
}

/// `MBeanServer.invoke(name, op, params, signature)`, its result as text (`None` for null).
fn invoke<'a>(
    env: Env<'a>,
    mbean: &str,
    op: &str,
    params: Local<'a>,
    sig: Local<'a>,
) -> JResult<Option<String>> {
    let mbs = platform_server(env)?;
    let name = object_name(env, mbean)?;
    let op = env.new_string(op)?;
    let r = env.call_object(
        mbs,
        MBEAN_SERVER,
        "invoke",
        INVOKE_SIG,
        &[
            arg::obj(name),
            arg::obj(op),
            arg::obj(params),
            arg::obj(sig),
        ],
    )?;
    match r {
        None => Ok(None),
        Some(v) => {
            let text = env.call_object(
                v,
                "java/lang/Object",
                "toString",
                "()Ljava/lang/String;",
                &[],
            )?;
            text.map(|t| env.string(t)).transpose()
        }
    }
}

/// Invokes an operation of an MBean with at most one `String` argument and returns its answer
/// as text: how a second copy of the agent hands a request to the one already running.
pub fn invoke_text(env: Env<'_>, mbean: &str, op: &str, argument: Option<&str>) -> JResult<String> {
    let out = env.with_frame(32, |env| {
        let args: Vec<String> = argument.map(str::to_string).into_iter().collect();
        let params = env.new_array("java/lang/Object", args.len())?;
        for (i, a) in args.iter().enumerate() {
            let s = env.new_string(a)?;
            env.set_element(params, i, Some(s))?;
        }
        let types = vec!["java.lang.String".to_string(); args.len()];
        let sig = env.string_array(&types)?;
        invoke(env, mbean, op, params, sig)
    })??;
    Ok(out.unwrap_or_default())
}

/// Whether an MBean of that name is registered in the platform MBean server.
pub fn is_registered(env: Env<'_>, mbean: &str) -> JResult<bool> {
    env.with_frame(16, |env| {
        let mbs = platform_server(env)?;
        let name = object_name(env, mbean)?;
        env.call_boolean(
            mbs,
            MBEAN_SERVER,
            "isRegistered",
            "(Ljavax/management/ObjectName;)Z",
            &[arg::obj(name)],
        )
    })?
}

/// `System.setProperty(key, value)`.
pub fn set_property(env: Env<'_>, key: &str, value: &str) -> JResult<()> {
    env.with_frame(8, |env| {
        let (k, v) = (env.new_string(key)?, env.new_string(value)?);
        env.call_static_object(
            "java/lang/System",
            "setProperty",
            "(Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;",
            &[arg::obj(k), arg::obj(v)],
        )
        .map(drop)
    })?
}

/// Whether JFR has been set up in this JVM already (by a recording or the JFR API): then a
/// recording does not deoptimize compiled code on JDK 22 and earlier.
pub fn jfr_initialized(env: Env<'_>) -> JResult<bool> {
    env.with_frame(8, |env| {
        env.call_static_boolean("jdk/jfr/FlightRecorder", "isInitialized", "()Z", &[])
    })?
}
