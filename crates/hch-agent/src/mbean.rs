//! The MBean `hch:type=HotCodeHelper` in the platform MBean server, for JConsole, JMC, any
//! `javax.management` client and hch over JMX.
//!
//! Its class is written at run time (`hch-classfile`): `hch.agent.HotCodeHelper`
//! implements `javax.management.DynamicMBean` with `native` methods bound to the Rust functions
//! in `ffi::natives`, which call the handlers here. Every attribute is read-only and of an open
//! type (`String`, `long`, `int`, `double`, `String[]`), so remote clients need no class of ours.
//! Who may invoke operations is the JMX agent's business (`jmxremote.access`: a `readonly`
//! role is refused before the MBean is called).

use crate::ffi::jni::{arg, Env, JResult, JavaError, Local};
use crate::inproc::{object_name, platform_server};
use crate::status::{self, Status, MBEAN_NAME};
use hch_classfile::{op, ClassFile, ACC_FINAL, ACC_PUBLIC};

/// The class's internal name.
pub const CLASS_NAME: &str = "hch/agent/HotCodeHelper";

/// The `DynamicMBean` methods, in the order of `ffi::natives::table`.
pub const NATIVES: [(&str, &str); 6] = [
    ("getAttribute", "(Ljava/lang/String;)Ljava/lang/Object;"),
    ("setAttribute", "(Ljavax/management/Attribute;)V"),
    (
        "getAttributes",
        "([Ljava/lang/String;)Ljavax/management/AttributeList;",
    ),
    (
        "setAttributes",
        "(Ljavax/management/AttributeList;)Ljavax/management/AttributeList;",
    ),
    (
        "invoke",
        "(Ljava/lang/String;[Ljava/lang/Object;[Ljava/lang/String;)Ljava/lang/Object;",
    ),
    ("getMBeanInfo", "()Ljavax/management/MBeanInfo;"),
];

/// An exception for the JMX caller: class and message.
#[derive(Debug)]
pub struct Thrown {
    pub class: &'static str,
    pub message: String,
}

impl From<JavaError> for Thrown {
    fn from(e: JavaError) -> Thrown {
        Thrown {
            class: "java/lang/IllegalStateException",
            message: e.0,
        }
    }
}

/// Attributes: name, Java type, description.
const ATTRIBUTES: [(&str, &str, &str); 14] = [
    (
        "State",
        "java.lang.String",
        "waiting, recording, analyzing, stopped, or disabled with the reason",
    ),
    (
        "Options",
        "java.lang.String",
        "The options in force (key=value,...)",
    ),
    (
        "NextCycle",
        "java.lang.String",
        "When the next cycle starts (UTC), empty if none is planned",
    ),
    ("Cycles", "long", "Cycles completed"),
    (
        "LastProfileTime",
        "java.lang.String",
        "When the last cycle ended (UTC), empty before the first",
    ),
    (
        "LastProfileSamples",
        "long",
        "Samples in the last cycle's recording",
    ),
    ("HotSetSize", "int", "Code blobs in the last hot set"),
    (
        "Coverage",
        "double",
        "Percent of the compiled samples the last hot set covers",
    ),
    ("LastAction", "java.lang.String", "What the last cycle did"),
    (
        "DirectivesInForce",
        "java.lang.String",
        "The directives file the agent put on the JVM's stack, empty if none",
    ),
    (
        "Errors",
        "[Ljava.lang.String;",
        "The last errors, oldest first",
    ),
    (
        "Capabilities",
        "[Ljava.lang.String;",
        "JVMTI capabilities the agent holds (none)",
    ),
    (
        "Status",
        "java.lang.String",
        "All of the above as JSON (what hch agent status reads)",
    ),
    (
        "Relayout",
        "java.lang.String",
        "The last re-layout request's state as JSON (what hch compact polls), empty if none",
    ),
];

/// An operation: name, its one `String` parameter (name, description) if any, description.
type Operation = (
    &'static str,
    Option<(&'static str, &'static str)>,
    &'static str,
);

const OPERATIONS: [Operation; 7] = [
    (
        "profileNow",
        None,
        "Starts a cycle now: record, analyze, reconcile",
    ),
    (
        "applyDirectives",
        Some(("text", "A Compiler Control directives file's text")),
        "Adds these directives on top of the JVM's stack (as hch directives add)",
    ),
    (
        "clearOwn",
        None,
        "Removes the agent's own directive (only when it is on top of the stack)",
    ),
    (
        "setOptions",
        Some((
            "options",
            "key=value,... as for -agentpath; keys not given keep their value",
        )),
        "Changes the options given; starts a stopped agent again",
    ),
    ("stop", None, "Stops profiling; directives in force stay"),
    (
        "relayout",
        Some((
            "request",
            "id=ID,layout=compact|sparse,time=60s on the first line, then one method per line (pkg/Cls.name(desc)), hottest first",
        )),
        "Recompiles these methods in order through WhiteBox so that their code lies together (hch compact); answers at once, the Relayout attribute follows",
    ),
    (
        "relayoutCancel",
        None,
        "Stops the running re-layout before its next method",
    ),
];

/// The class file of the MBean: a public final class implementing `DynamicMBean`, with a
/// public no-argument constructor and the operations as native methods.
pub fn class_bytes() -> JResult<Vec<u8>> {
    let mut c = ClassFile::new(ACC_PUBLIC | ACC_FINAL, CLASS_NAME, "java/lang/Object");
    c.interface("javax/management/DynamicMBean");
    let mut init = c.method(ACC_PUBLIC, "<init>", "()V");
    init.local(op::ALOAD, 0)
        .invokespecial("java/lang/Object", "<init>", "()V")
        .op(op::RETURN);
    let built = init.finish(1, 1).and_then(|()| {
        for (name, desc) in NATIVES {
            c.native_method(ACC_PUBLIC, name, desc);
        }
        c.to_bytes()
    });
    built.map_err(|e| JavaError(format!("the MBean's class: {e}")))
}

/// Defines the class (once per JVM), binds its natives to this library copy and registers an
/// instance, unless an MBean of that name is registered already.
pub fn register(env: Env<'_>) -> JResult<()> {
    env.with_frame(32, |env| {
        let mbs = platform_server(env)?;
        let name = object_name(env, MBEAN_NAME)?;
        let sig = "(Ljavax/management/ObjectName;)Z";
        if env.call_boolean(
            mbs,
            "javax/management/MBeanServer",
            "isRegistered",
            sig,
            &[arg::obj(name)],
        )? {
            return Ok(());
        }
        let class = match env.find_class(CLASS_NAME) {
            Ok(c) => c,
            Err(_) => env.define_class(CLASS_NAME, &class_bytes()?)?,
        };
        let (_names, table) = crate::ffi::natives::table();
        env.register_natives(class, &table)?;
        let bean = env.new_object(CLASS_NAME, "()V", &[])?;
        let sig =
            "(Ljava/lang/Object;Ljavax/management/ObjectName;)Ljavax/management/ObjectInstance;";
        env.call_object(
            mbs,
            "javax/management/MBeanServer",
            "registerMBean",
            sig,
            &[arg::obj(bean), arg::obj(name)],
        )?;
        Ok(())
    })?
}

fn status() -> Result<Status, Thrown> {
    crate::agent::get()
        .map(|a| a.status())
        .ok_or_else(|| Thrown {
            class: "java/lang/IllegalStateException",
            message: "the hch agent of this MBean is not set up".into(),
        })
}

/// `getAttribute(name)`.
pub fn get_attribute<'a>(
    env: Env<'a>,
    name: Option<Local<'a>>,
) -> Result<Option<Local<'a>>, Thrown> {
    let name = name.map(|n| env.string(n)).transpose()?.unwrap_or_default();
    let st = status()?;
    Ok(Some(value(env, &st, &name)?))
}

/// The value of one attribute, boxed.
fn value<'a>(env: Env<'a>, st: &Status, name: &str) -> Result<Local<'a>, Thrown> {
    let text = |s: &str| env.new_string(s).map_err(Thrown::from);
    let time = |ms: Option<u64>| ms.map(status::show_time).unwrap_or_default();
    let last = st.last.clone().unwrap_or_default();
    match name {
        "State" => text(&st.state),
        "Options" => text(&st.options),
        "NextCycle" => text(&time(st.next_cycle_ms)),
        "Cycles" => boxed(
            env,
            "java/lang/Long",
            "(J)Ljava/lang/Long;",
            arg::long(st.cycles as i64),
        ),
        "LastProfileTime" => text(&time(st.last.as_ref().map(|c| c.time_ms))),
        "LastProfileSamples" => boxed(
            env,
            "java/lang/Long",
            "(J)Ljava/lang/Long;",
            arg::long(last.samples as i64),
        ),
        "HotSetSize" => boxed(
            env,
            "java/lang/Integer",
            "(I)Ljava/lang/Integer;",
            arg::int(last.hot_set as i32),
        ),
        "Coverage" => boxed(
            env,
            "java/lang/Double",
            "(D)Ljava/lang/Double;",
            arg::double(last.coverage),
        ),
        "LastAction" => text(&last.action),
        "DirectivesInForce" => text(
            &st.directives
                .as_ref()
                .map(|d| d.text.clone())
                .unwrap_or_default(),
        ),
        "Errors" => Ok(env.string_array(&st.errors)?),
        "Capabilities" => Ok(env.string_array(&st.capabilities)?),
        "Status" => text(&serde_json::to_string(st).unwrap_or_default()),
        "Relayout" => text(&crate::compact::last_state()),
        _ => Err(Thrown {
            class: "javax/management/AttributeNotFoundException",
            message: format!("no attribute {name}"),
        }),
    }
}

fn boxed<'a>(
    env: Env<'a>,
    class: &str,
    sig: &str,
    v: crate::ffi::jni::jvalue,
) -> Result<Local<'a>, Thrown> {
    env.call_static_object(class, "valueOf", sig, &[v])?
        .ok_or_else(|| JavaError("valueOf returned null".into()).into())
}

/// `setAttribute`: every attribute is read-only.
pub fn set_attribute(_env: Env<'_>) -> Result<(), Thrown> {
    Err(Thrown {
        class: "javax/management/AttributeNotFoundException",
        message: "the attributes are read-only: use setOptions".into(),
    })
}

/// `getAttributes(names)`: those that exist, as an `AttributeList`.
pub fn get_attributes<'a>(
    env: Env<'a>,
    names: Option<Local<'a>>,
) -> Result<Option<Local<'a>>, Thrown> {
    let list = env.new_object("javax/management/AttributeList", "()V", &[])?;
    let st = status()?;
    let names = match names {
        Some(n) => env.elements(n)?,
        None => Vec::new(),
    };
    for n in names.into_iter().flatten() {
        let name = env.string(n)?;
        if let Ok(v) = value(env, &st, &name) {
            let a = env.new_object(
                "javax/management/Attribute",
                "(Ljava/lang/String;Ljava/lang/Object;)V",
                &[arg::obj(n), arg::obj(v)],
            )?;
            env.call_void(
                list,
                "javax/management/AttributeList",
                "add",
                "(Ljavax/management/Attribute;)V",
                &[arg::obj(a)],
            )?;
        }
    }
    Ok(Some(list))
}

/// `setAttributes`: none is set.
pub fn set_attributes<'a>(env: Env<'a>) -> Result<Option<Local<'a>>, Thrown> {
    Ok(Some(env.new_object(
        "javax/management/AttributeList",
        "()V",
        &[],
    )?))
}

/// `invoke(operation, params, signature)`.
pub fn invoke<'a>(
    env: Env<'a>,
    action: Option<Local<'a>>,
    params: Option<Local<'a>>,
) -> Result<Option<Local<'a>>, Thrown> {
    let action = action
        .map(|a| env.string(a))
        .transpose()?
        .unwrap_or_default();
    let args = match params {
        Some(p) => env.elements(p)?,
        None => Vec::new(),
    };
    let text_arg = || -> Result<String, Thrown> {
        match args.first().copied().flatten() {
            Some(a) if env.is_instance_of(a, "java/lang/String")? => Ok(env.string(a)?),
            _ => Err(Thrown {
                class: "java/lang/IllegalArgumentException",
                message: format!("{action} takes one String"),
            }),
        }
    };
    let agent = crate::agent::get().ok_or_else(|| Thrown {
        class: "java/lang/IllegalStateException",
        message: "the hch agent of this MBean is not set up".into(),
    })?;
    let refused = |m: String| Thrown {
        class: "java/lang/IllegalStateException",
        message: m,
    };
    let answer = match action.as_str() {
        "profileNow" => agent.request_cycle().map_err(refused)?,
        "applyDirectives" => crate::cycle::apply_text(agent, &text_arg()?).map_err(refused)?,
        "clearOwn" => crate::cycle::clear_own(agent).map_err(refused)?,
        "setOptions" => {
            let current = agent.lock().options.clone();
            let o = current.with(&text_arg()?).map_err(|e| Thrown {
                class: "java/lang/IllegalArgumentException",
                message: e.to_string(),
            })?;
            agent.reconfigure(env, o).map_err(refused)?
        }
        "stop" => agent.request_stop(),
        "relayout" => crate::compact::start_inline(agent.vm, &text_arg()?).map_err(refused)?,
        "relayoutCancel" => crate::compact::cancel(),
        _ => {
            return Err(Thrown {
                class: "java/lang/UnsupportedOperationException",
                message: format!("no operation {action}; the operations are profileNow, applyDirectives, clearOwn, setOptions, stop, relayout, relayoutCancel"),
            })
        }
    };
    agent.log.line(&format!(
        "MBean {action}: {}",
        answer.lines().next().unwrap_or("")
    ));
    agent.publish(env);
    Ok(Some(env.new_string(&answer)?))
}

/// `getMBeanInfo()`.
pub fn mbean_info<'a>(env: Env<'a>) -> Result<Option<Local<'a>>, Thrown> {
    let attrs = env.new_array("javax/management/MBeanAttributeInfo", ATTRIBUTES.len())?;
    for (i, (name, ty, desc)) in ATTRIBUTES.iter().enumerate() {
        let (n, t, d) = (
            env.new_string(name)?,
            env.new_string(ty)?,
            env.new_string(desc)?,
        );
        let sig = "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;ZZZ)V";
        let args = [
            arg::obj(n),
            arg::obj(t),
            arg::obj(d),
            arg::boolean(true),
            arg::boolean(false),
            arg::boolean(false),
        ];
        let a = env.new_object("javax/management/MBeanAttributeInfo", sig, &args)?;
        env.set_element(attrs, i, Some(a))?;
    }
    let ops = env.new_array("javax/management/MBeanOperationInfo", OPERATIONS.len())?;
    for (i, (name, param, desc)) in OPERATIONS.iter().enumerate() {
        let params = env.new_array(
            "javax/management/MBeanParameterInfo",
            usize::from(param.is_some()),
        )?;
        if let Some((pn, pd)) = param {
            let (n, t, d) = (
                env.new_string(pn)?,
                env.new_string("java.lang.String")?,
                env.new_string(pd)?,
            );
            let sig = "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V";
            let p = env.new_object(
                "javax/management/MBeanParameterInfo",
                sig,
                &[arg::obj(n), arg::obj(t), arg::obj(d)],
            )?;
            env.set_element(params, 0, Some(p))?;
        }
        let (n, d, r) = (
            env.new_string(name)?,
            env.new_string(desc)?,
            env.new_string("java.lang.String")?,
        );
        let sig = "(Ljava/lang/String;Ljava/lang/String;[Ljavax/management/MBeanParameterInfo;Ljava/lang/String;I)V";
        // MBeanOperationInfo.ACTION = 1.
        let o = env.new_object(
            "javax/management/MBeanOperationInfo",
            sig,
            &[
                arg::obj(n),
                arg::obj(d),
                arg::obj(params),
                arg::obj(r),
                arg::int(1),
            ],
        )?;
        env.set_element(ops, i, Some(o))?;
    }
    let ctors = env.new_array("javax/management/MBeanConstructorInfo", 0)?;
    let notes = env.new_array("javax/management/MBeanNotificationInfo", 0)?;
    let (class, desc) = (
        env.new_string(&CLASS_NAME.replace('/', "."))?,
        env.new_string("hch agent: profiles this JVM with JFR at intervals, picks its hot compiled code and applies Compiler Control directives for it")?,
    );
    let sig = "(Ljava/lang/String;Ljava/lang/String;[Ljavax/management/MBeanAttributeInfo;[Ljavax/management/MBeanConstructorInfo;[Ljavax/management/MBeanOperationInfo;[Ljavax/management/MBeanNotificationInfo;)V";
    let info = env.new_object(
        "javax/management/MBeanInfo",
        sig,
        &[
            arg::obj(class),
            arg::obj(desc),
            arg::obj(attrs),
            arg::obj(ctors),
            arg::obj(ops),
            arg::obj(notes),
        ],
    )?;
    Ok(Some(info))
}
