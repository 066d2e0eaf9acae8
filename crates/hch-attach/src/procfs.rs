//! Parsers for the `/proc` files hch reads about a process: status, stat, maps, cmdline, the
//! JDK `release` file and `/etc/passwd`. Pure functions over text; the driver does the reading.

/// SIGQUIT's bit in the `SigCgt`/`SigIgn` masks (signal 3 is bit 2).
const SIGQUIT_BIT: u64 = 1 << 2;

/// The fields of `/proc/<pid>/status` the attach handshake needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// `Name:` (the command name, at most 15 bytes).
    pub name: String,
    /// `State:` letter, e.g. `S`, `R`, `Z`.
    pub state: char,
    /// `NStgid:`: the process id in each nested pid namespace, outermost first.
    pub ns_tgids: Vec<u32>,
    /// `Uid:` real, effective, saved, filesystem.
    pub uid: [u32; 4],
    /// `Gid:` real, effective, saved, filesystem.
    pub gid: [u32; 4],
    /// `SigCgt:` the caught-signals mask.
    pub sig_cgt: u64,
    /// `SigIgn:` the ignored-signals mask.
    pub sig_ign: u64,
}

impl Status {
    /// Parses the text of `/proc/<pid>/status`; `None` when a required field is missing.
    pub fn parse(text: &str) -> Option<Status> {
        let mut st = Status::default();
        let (mut have_uid, mut have_gid) = (false, false);
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key {
                "Name" => st.name = value.to_string(),
                "State" => st.state = value.chars().next().unwrap_or('?'),
                "NStgid" => {
                    st.ns_tgids = value
                        .split_whitespace()
                        .filter_map(|v| v.parse().ok())
                        .collect()
                }
                "Uid" => have_uid = parse_ids(value, &mut st.uid),
                "Gid" => have_gid = parse_ids(value, &mut st.gid),
                "SigCgt" => st.sig_cgt = u64::from_str_radix(value, 16).ok()?,
                "SigIgn" => st.sig_ign = u64::from_str_radix(value, 16).ok()?,
                _ => {}
            }
        }
        (have_uid && have_gid).then_some(st)
    }

    /// The pid the process has in its own (innermost) pid namespace: the last `NStgid` field,
    /// as jattach takes it. `host_pid` when the kernel has no `NStgid` (before 4.1).
    pub fn ns_pid(&self, host_pid: u32) -> u32 {
        self.ns_tgids.last().copied().unwrap_or(host_pid)
    }

    /// Effective uid.
    pub fn euid(&self) -> u32 {
        self.uid[1]
    }

    /// Effective gid.
    pub fn egid(&self) -> u32 {
        self.gid[1]
    }

    /// Whether SIGQUIT is caught and not ignored: only then does a JVM survive it (JDK 25's
    /// own client checks this too). A JVM still starting up, or any other program, would die.
    pub fn catches_sigquit(&self) -> bool {
        self.sig_cgt & SIGQUIT_BIT != 0 && self.sig_ign & SIGQUIT_BIT == 0
    }

    /// Whether the process has exited and awaits its parent (zombie or dead).
    pub fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

/// Parses the four ids of a `Uid:`/`Gid:` line into `out`.
fn parse_ids(value: &str, out: &mut [u32; 4]) -> bool {
    let ids: Vec<u32> = value
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let Ok(four) = <[u32; 4]>::try_from(ids.as_slice()) else {
        return false;
    };
    *out = four;
    true
}

/// The start time of a process (field 22 of `/proc/<pid>/stat`, clock ticks since boot): with
/// the pid it names one process, so a reused pid is never mistaken for the JVM.
pub fn stat_start_time(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses; fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The path of `libjvm.so` in a `/proc/<pid>/maps` text, if the process has HotSpot loaded.
pub fn libjvm_path(maps: &str) -> Option<&str> {
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("/libjvm.so"))
}

/// Whether hch's agent library (`libhch_agent.so`, or a copy `libhch_agent-….so` that hch
/// placed in a container's `/tmp`, shown `(deleted)` once removed) is mapped in a process.
pub fn agent_mapped(maps: &str) -> bool {
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter_map(|p| p.rsplit('/').next())
        .any(|name| name.starts_with("libhch_agent") && name.contains(".so"))
}

/// The JDK home of a `libjvm.so` path: `<home>/lib/server/libjvm.so` (JDK 9+) or
/// `<home>/jre/lib/<arch>/server/libjvm.so` (JDK 8).
pub fn java_home_of(libjvm: &str) -> Option<&str> {
    let dir = libjvm.strip_suffix("/libjvm.so")?;
    let lib = dir.rsplit_once('/')?.0; // strip the VM variant (server, client, zero)
    if let Some(home) = lib.strip_suffix("/lib") {
        return Some(home);
    }
    let jre_lib = lib.rsplit_once('/')?.0; // JDK 8: strip the arch
    jre_lib
        .strip_suffix("/jre/lib")
        .or_else(|| jre_lib.strip_suffix("/lib"))
}

/// `JAVA_VERSION` from a JDK's `release` file, e.g. `17.0.15`.
pub fn release_version(release: &str) -> Option<String> {
    release
        .lines()
        .find_map(|l| l.strip_prefix("JAVA_VERSION="))
        .map(|v| v.trim().trim_matches('"').to_string())
}

/// The feature release of a Java version string: `17.0.15` is 17, `1.8.0_392` is 8, `27-ea`
/// is 27. The one parser of JDK versions in hch.
pub fn feature_of(version: &str) -> Option<u32> {
    let mut parts = version.trim().trim_matches('"').split(['.', '_', '-', '+']);
    match parts.next()?.parse().ok()? {
        1 => parts.next()?.parse().ok(),
        n => Some(n),
    }
}

/// The update release of a Java version string: `21.0.8` is 8, `17.0.15+6` is 15,
/// `1.8.0_392` is 392; `None` for `25` or `27-ea`.
pub fn update_of(version: &str) -> Option<u32> {
    let mut parts = version.trim().trim_matches('"').split(['.', '_', '-', '+']);
    match parts.next()?.parse::<u32>().ok()? {
        1 => parts.nth(2)?.parse().ok(),
        _ => parts.nth(1)?.parse().ok(),
    }
}

/// Splits `/proc/<pid>/cmdline` (NUL-separated) into arguments.
pub fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// A variable's value in `/proc/<pid>/environ` (NUL-separated `NAME=value`).
pub fn env_var(environ: &[u8], name: &str) -> Option<String> {
    environ.split(|&b| b == 0).find_map(|kv| {
        let kv = String::from_utf8_lossy(kv);
        kv.strip_prefix(name)?.strip_prefix('=').map(str::to_string)
    })
}

/// Whether the last `-XX:±DisableAttachMechanism` among the options turns attach off.
pub fn attach_disabled<'a>(options: impl IntoIterator<Item = &'a str>) -> bool {
    let mut disabled = false;
    for o in options {
        match o {
            "-XX:+DisableAttachMechanism" => disabled = true,
            "-XX:-DisableAttachMechanism" => disabled = false,
            _ => {}
        }
    }
    disabled
}

/// Java launcher options that take the next argument as their value.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "-cp",
    "-classpath",
    "--class-path",
    "-p",
    "--module-path",
    "--upgrade-module-path",
    "--add-modules",
    "--limit-modules",
    "--add-reads",
    "--add-exports",
    "--add-opens",
    "--patch-module",
    "--enable-native-access",
];

/// The main class, `-jar` file or `-m` module of a `java` command line (arguments after the
/// executable). A best effort for JVMs without hsperfdata.
pub fn main_of_command_line(args: &[String]) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-jar" | "-m" | "--module" => return it.next().cloned(),
            o if OPTIONS_WITH_VALUE.contains(&o) => {
                it.next();
            }
            o if o.starts_with('-') || o.starts_with('@') => {}
            main => return Some(main.to_string()),
        }
    }
    None
}

/// The container id in a `/proc/<pid>/cgroup` text: the last run of 64 hex digits in a
/// cgroup path (`/docker/<id>`, `docker-<id>.scope`, `cri-containerd-<id>.scope`,
/// `crio-<id>.scope`, `libpod-<id>.scope`), as Docker, containerd, CRI-O and Podman name them.
pub fn container_id(cgroup: &str) -> Option<String> {
    let path_of = |l: &str| l.splitn(3, ':').nth(2).map(str::to_string);
    let mut found = None;
    for path in cgroup.lines().filter_map(path_of) {
        for part in path.split(['/', '-', '.', ':']) {
            if part.len() == 64 && part.bytes().all(|b| b.is_ascii_hexdigit()) {
                found = Some(part.to_ascii_lowercase());
            }
        }
    }
    found
}

/// The user name of a uid in an `/etc/passwd` text.
pub fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t9042\n\
        NStgid:\t9042\t1\nNSpid:\t9042\t1\nUid:\t100000\t100000\t100000\t100000\n\
        Gid:\t100000\t100000\t100000\t100001\nSigQ:\t0/96365\nSigPnd:\t0000000000000000\n\
        SigBlk:\t0000000000000000\nSigIgn:\t0000000000000003\nSigCgt:\t0000000101005ccc\n";

    #[test]
    fn status_of_a_jvm_in_a_container() {
        // Captured from a JVM under `unshare --pid --fork` with a uid map (this machine).
        let st = Status::parse(STATUS).unwrap();
        assert_eq!(st.name, "java");
        assert_eq!(st.ns_pid(9042), 1);
        assert_eq!((st.euid(), st.egid(), st.gid[3]), (100000, 100000, 100001));
        assert!(st.catches_sigquit());
        assert!(!st.is_dead());
    }

    #[test]
    fn sigquit_must_be_caught_and_not_ignored() {
        // SigCgt of a shell (no SIGQUIT handler), and a JVM that ignores it.
        let shell = STATUS.replace("0000000101005ccc", "0000000000010002");
        assert!(!Status::parse(&shell).unwrap().catches_sigquit());
        let ignoring = STATUS.replace("SigIgn:\t0000000000000003", "SigIgn:\t0000000000000004");
        assert!(!Status::parse(&ignoring).unwrap().catches_sigquit());
    }

    #[test]
    fn no_nstgid_on_old_kernels() {
        let st = Status::parse(&STATUS.replace("NStgid:\t9042\t1\n", "")).unwrap();
        assert_eq!(st.ns_pid(9042), 9042);
    }

    #[test]
    fn start_time_survives_odd_names() {
        let stat = "4242 (we ird) name)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 777123 1000 10";
        assert_eq!(stat_start_time(stat), Some(777123));
    }

    #[test]
    fn agent_library_in_maps() {
        let lib = "7f00-7f01 r-xp 00000000 fe:00 9 /opt/hch/libhch_agent.so\n";
        let copy = "7f00-7f01 r-xp 00000000 fe:00 9 /tmp/libhch_agent-42-0badf00d.so (deleted)\n";
        assert!(agent_mapped(lib) && agent_mapped(copy));
        assert!(!agent_mapped(
            "7f00-7f01 r-xp 00000000 fe:00 9 /usr/lib/libc.so.6\n"
        ));
    }

    #[test]
    fn libjvm_and_java_home() {
        let maps = "7f00-7f01 r--p 00000000 fe:00 123 /usr/lib/jvm/temurin-25-jdk-amd64/lib/server/libjvm.so\n\
                    7f02-7f03 r-xp 00000000 fe:00 124 /usr/lib/x86_64-linux-gnu/libc.so.6\n";
        let lib = libjvm_path(maps).unwrap();
        assert_eq!(java_home_of(lib), Some("/usr/lib/jvm/temurin-25-jdk-amd64"));
        assert_eq!(
            java_home_of("/opt/jdk8/jre/lib/amd64/server/libjvm.so"),
            Some("/opt/jdk8")
        );
        assert_eq!(
            libjvm_path("7f00-7f01 r--p 0 fe:00 1 /usr/bin/sleep\n"),
            None
        );
    }

    #[test]
    fn command_lines() {
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            main_of_command_line(&v("-cp c17 -Xmx1g Park 0 1")).as_deref(),
            Some("Park")
        );
        assert_eq!(
            main_of_command_line(&v("-XX:+UseG1GC -jar app.jar --port 1")).as_deref(),
            Some("app.jar")
        );
        assert_eq!(
            main_of_command_line(&v("--add-opens a/b=c -m mod/pkg.Main")).as_deref(),
            Some("mod/pkg.Main")
        );
        assert_eq!(main_of_command_line(&v("-version")), None);
        assert!(attach_disabled(["-Xmx1g", "-XX:+DisableAttachMechanism"]));
        assert!(!attach_disabled([
            "-XX:+DisableAttachMechanism",
            "-XX:-DisableAttachMechanism"
        ]));
    }

    #[test]
    fn small_files() {
        assert_eq!(
            release_version("IMPLEMENTOR=\"Debian\"\nJAVA_VERSION=\"17.0.15\"\n").as_deref(),
            Some("17.0.15")
        );
        assert_eq!(
            split_nul(b"java\0-cp\0c17\0Park\0"),
            ["java", "-cp", "c17", "Park"]
        );
        assert_eq!(
            env_var(b"A=1\0JAVA_TOOL_OPTIONS=-Xrs -Dx=y\0", "JAVA_TOOL_OPTIONS").as_deref(),
            Some("-Xrs -Dx=y")
        );
        let passwd = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
        assert_eq!(user_name(passwd, 65534).as_deref(), Some("nobody"));
        assert_eq!(user_name(passwd, 1000), None);
    }

    #[test]
    fn container_ids_of_docker_containerd_crio_and_none() {
        let id = "3f4a".repeat(16);
        let docker = format!("0::/system.slice/docker-{id}.scope\n");
        let v1 = format!("12:pids:/docker/{id}\n11:cpu,cpuacct:/docker/{id}\n");
        let k8s = format!("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice/cri-containerd-{id}.scope\n");
        let crio = format!("0::/kubepods/besteffort/pod12/crio-{id}\n");
        for text in [docker, v1, k8s, crio] {
            assert_eq!(container_id(&text).as_deref(), Some(id.as_str()), "{text}");
        }
        assert_eq!(
            container_id("0::/user.slice/user-0.slice/session-3.scope\n"),
            None
        );
        assert_eq!(container_id(""), None);
    }
}
