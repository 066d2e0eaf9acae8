//! `hch jcmd` against real JVMs on every JDK found, with the JDK's own `jcmd` as the oracle:
//! the same text for stable commands, failures judged alike (also JDK 25's exceptions with
//! status 0), and the errors that name a cause for what is not a JVM, not there, or closed.

use std::process::{Command, Output};

use hch_testkit::{require_jdks, Jdk, Jvm, Launch};

fn hch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hch"))
        .args(args)
        .output()
        .expect("run hch")
}

fn jcmd(jdk: &Jdk, pid: u32, command: &str) -> Output {
    Command::new(jdk.tool("jcmd"))
        .arg(pid.to_string())
        .args(command.split(' '))
        .output()
        .expect("run jcmd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `hch jcmd PID COMMAND` succeeded and printed what the JDK's jcmd prints for it.
fn assert_like_jcmd(jdk: &Jdk, pid: u32, command: &str) {
    let mut args = vec!["jcmd".to_string(), pid.to_string()];
    args.extend(command.split(' ').map(String::from));
    let ours = hch(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let err = text(&ours.stderr);
    assert_eq!(
        ours.status.code(),
        Some(0),
        "{} {command}: {err}",
        jdk.label()
    );
    let theirs = text(&jcmd(jdk, pid, command).stdout);
    assert_eq!(text(&ours.stdout), theirs, "{} {command}", jdk.label());
}

/// hch exited with `code` and its error names `cause`.
fn assert_error(out: &Output, code: i32, cause: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains(cause), "expected {cause:?} in: {err}");
}

/// Commands whose output does not change between two calls.
const STABLE: &[&str] = &[
    "VM.version",
    "VM.flags",
    "VM.flags -all",
    "VM.command_line",
    "help",
    "help Compiler.codecache",
    "Compiler.directives_print",
    "JFR.check",
];

#[test]
fn same_output_as_jcmd_on_every_jdk() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        // hch goes first, so it is hch that starts the attach listener.
        for command in STABLE {
            assert_like_jcmd(&jdk, jvm.pid, command);
        }
    }
}

#[test]
fn failures_exit_4_with_the_jvms_words() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let pid = jvm.pid.to_string();
        // Rejected by the parser: -1 on every JDK; jcmd prints the message on stderr too.
        let ours = hch(&["jcmd", &pid, "Compiler.nosuch"]);
        let theirs = jcmd(&jdk, jvm.pid, "Compiler.nosuch");
        assert_eq!(ours.status.code(), Some(4), "{}", jdk.label());
        assert_eq!(text(&ours.stderr), text(&theirs.stderr), "{}", jdk.label());
        assert_eq!(text(&ours.stdout), format!("{pid}:\n"));
        // Thrown while running: -1 on JDK 17, but 0 and the exception text on JDK 25.
        let ours = hch(&["jcmd", &pid, "Compiler.CodeHeap_Analytics", "all", "0"]);
        assert_eq!(
            ours.status.code(),
            Some(4),
            "{}: {}",
            jdk.label(),
            text(&ours.stdout)
        );
        assert!(
            text(&ours.stderr)
                .starts_with("java.lang.IllegalArgumentException: Invalid granularity"),
            "{}",
            jdk.label()
        );
        // A soft failure is text with status 0, as with jcmd.
        let ours = hch(&["jcmd", &pid, "JFR.stop", "name=nope"]);
        assert_eq!(ours.status.code(), Some(0), "{}", jdk.label());
        assert_eq!(
            text(&ours.stdout),
            text(&jcmd(&jdk, jvm.pid, "JFR.stop name=nope").stdout)
        );
    }
}

#[test]
fn long_arguments_go_over_protocol_2_where_there_is_one() {
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let pid = jvm.pid.to_string();
        let path = format!("/tmp/{}.json", "d".repeat(1100));
        let out = hch(&["jcmd", &pid, "Compiler.directives_add", &path]);
        if jdk.feature >= 24 {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                jdk.label(),
                text(&out.stderr)
            );
            assert!(
                text(&out.stdout).contains(&format!("Could not load file: {path}")),
                "{}",
                jdk.label()
            );
        } else {
            assert_eq!(out.status.code(), Some(3), "{}", jdk.label());
            assert!(
                text(&out.stderr).contains("protocol 1 allows at most 1024"),
                "{}: {}",
                jdk.label(),
                text(&out.stderr)
            );
        }
        // The JVM is unharmed either way.
        assert_eq!(hch(&["jcmd", &pid, "VM.version"]).status.code(), Some(0));
    }
}

#[test]
fn a_jvm_without_sigquit_handler_is_reached_through_its_startup_listener() {
    // -Xrs: the JVM does not catch SIGQUIT, so it starts the listener at start-up instead.
    for jdk in require_jdks() {
        let jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]).jvm(["-Xrs"]));
        assert_like_jcmd(&jdk, jvm.pid, "VM.version");
    }
}

#[test]
fn attach_disabled_is_named_and_the_jvm_left_alone() {
    let jdk = &require_jdks()[0];
    let mut jvm = Jvm::start(
        jdk,
        "Park",
        &Launch::args(["0", "1"]).jvm(["-XX:+DisableAttachMechanism"]),
    );
    let out = hch(&["jcmd", &jvm.pid.to_string(), "VM.version"]);
    assert_error(&out, 3, "-XX:+DisableAttachMechanism");
    assert!(jvm.alive());
}

#[test]
fn not_a_jvm_and_no_such_process() {
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    let out = hch(&["jcmd", &sleeper.id().to_string(), "VM.version"]);
    assert_error(&out, 3, "is not a HotSpot JVM");
    assert!(
        sleeper.try_wait().unwrap().is_none(),
        "hch must not signal a non-JVM"
    );
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();

    let mut done = Command::new("true").spawn().unwrap();
    let gone = done.id();
    done.wait().unwrap();
    let out = hch(&["jcmd", &gone.to_string(), "VM.version"]);
    assert_error(&out, 3, &format!("no process {gone}"));

    // A target that is neither a pid nor HOST:PORT is a usage error, found before connecting.
    let out = hch(&["jcmd", "not-a-pid", "VM.version"]);
    assert_error(&out, 2, "expected a PID");
}

#[test]
fn other_users_jvms_as_root_and_as_that_user() {
    if !rustix::process::geteuid().is_root()
        || Command::new("setpriv").arg("--version").output().is_err()
    {
        eprintln!("SKIP: needs root and setpriv");
        return;
    }
    let as_nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]
    .map(String::from);
    for jdk in require_jdks() {
        let launch = Launch {
            wrapper: as_nobody.to_vec(),
            ..Launch::args(["0", "1"])
        };
        let theirs = Jvm::start(&jdk, "Park", &launch);
        let pid = theirs.java_pid().to_string();
        // Root takes the JVM's uid for the handshake (its trigger file must be the JVM's).
        assert_like_jcmd(&jdk, theirs.java_pid(), "VM.version");
        // The JVM's own user gets the same answer without root.
        let bin = env!("CARGO_BIN_EXE_hch");
        let same_user = Command::new(&as_nobody[0])
            .args(&as_nobody[1..])
            .args([bin, "jcmd", &pid, "VM.version"])
            .output()
            .unwrap();
        assert_eq!(
            same_user.status.code(),
            Some(0),
            "{}: {}",
            jdk.label(),
            text(&same_user.stderr)
        );
        // Another user is told what to do.
        let root_jvm = Jvm::start(&jdk, "Park", &Launch::args(["0", "1"]));
        let other = Command::new(&as_nobody[0])
            .args(&as_nobody[1..])
            .args([bin, "jcmd", &root_jvm.pid.to_string(), "VM.version"])
            .output()
            .unwrap();
        assert_error(
            &other,
            3,
            "belongs to root (uid 0) but hch runs as uid 65534",
        );
    }
}

#[test]
fn a_jvm_that_does_not_answer_times_out_with_the_causes() {
    let jdk = &require_jdks()[0];
    let mut jvm = Jvm::start(jdk, "Park", &Launch::args(["0", "1"]));
    let pid = jvm.pid.to_string();
    // A stopped JVM cannot start its listener: the handshake must give up after --timeout.
    Command::new("kill").args(["-STOP", &pid]).status().unwrap();
    let start = std::time::Instant::now();
    let out = hch(&["jcmd", "--timeout", "1s", &pid, "VM.version"]);
    let waited = start.elapsed();
    Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    assert_error(&out, 3, "did not open its attach socket");
    assert!(
        waited < std::time::Duration::from_secs(5),
        "waited {waited:?}"
    );
    assert!(jvm.alive());
}

/// A plain `hch jcmd PID COMMAND` is parsed by `jcmd`'s own arguments only (start-up time);
/// help, options and mistakes must still behave as the full parser makes them.
#[test]
fn the_quick_parser_leaves_help_and_mistakes_to_the_full_one() {
    let help = hch(&["jcmd", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    assert!(
        help.contains("Usage: hch jcmd") && help.contains("Examples:"),
        "{help}"
    );
    assert_error(&hch(&["jcmd", "1"]), 2, "Usage: hch jcmd");
    // Not a JVM: the quick path runs the command and names the cause, as before.
    let me = std::process::id().to_string();
    let out = hch(&["jcmd", "--timeout", "2s", &me, "VM.version"]);
    assert_error(&out, 3, "is not a HotSpot JVM");
    // The command's own hyphenated arguments are not options of hch (that would be exit 2).
    let out = hch(&["jcmd", &me, "help", "-all"]);
    assert_error(&out, 3, "is not a HotSpot JVM");
}
