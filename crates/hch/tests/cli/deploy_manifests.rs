//! The shipped Kubernetes manifests: `kubernetes-validate --strict` (PyPI, schemas bundled, works
//! offline) accepts every built-in resource; the ServiceMonitor, a custom resource it has no
//! schema for, is checked here; the DaemonSet adds exactly the capabilities hch uses, each with
//! its reason, and scrapes the port it listens on.

use std::path::PathBuf;
use std::process::Command;

fn manifest(name: &str) -> (PathBuf, String) {
    let p = hch_testkit::repo_root()
        .join("deploy/kubernetes")
        .join(name);
    let text = std::fs::read_to_string(&p).unwrap();
    (p, text)
}

#[test]
fn kubernetes_validate_accepts_the_manifests() {
    let files = ["hch-exporter.yaml", "servicemonitor.yaml"].map(|f| manifest(f).0);
    let Ok(out) = Command::new("kubernetes-validate")
        .args(["--strict", "-k", "1.30.0"])
        .args(&files)
        .output()
    else {
        eprintln!("SKIP: no kubernetes-validate (pip install kubernetes-validate; .ci/run does)");
        return;
    };
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    for kind in [
        "namespace/hch",
        "serviceaccount/hch-exporter",
        "daemonset/hch-exporter",
        "service/hch-exporter",
    ] {
        assert!(
            text.contains(&format!("passed for resource {kind}")),
            "{kind}: {text}"
        );
    }
}

#[test]
fn the_daemonset_adds_only_what_hch_uses_each_explained() {
    let (_, text) = manifest("hch-exporter.yaml");
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == "add:").unwrap();
    let mut added = Vec::new();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        let t = l.trim();
        if let Some(cap) = t.strip_prefix("- ") {
            assert!(
                lines[i - 1].trim().starts_with('#'),
                "{cap} has no reason above it"
            );
            added.push(cap);
        } else if !t.starts_with('#') {
            break;
        }
    }
    assert_eq!(
        added,
        [
            "SYS_PTRACE",
            "SETUID",
            "SETGID",
            "KILL",
            "CHOWN",
            "FOWNER",
            "DAC_READ_SEARCH"
        ]
    );
    assert!(text.contains("drop: [\"ALL\"]") && text.contains("hostPID: true"));
    assert!(text.contains("privileged: false") && text.contains("readOnlyRootFilesystem: true"));
    // It scrapes where it listens.
    assert!(
        text.contains("--listen=$(POD_IP):9404") && text.contains("prometheus.io/port: \"9404\"")
    );
    assert!(text.contains("containerPort: 9404"));
}

#[test]
fn the_service_monitor_selects_the_exporter_pods_and_port() {
    let (_, text) = manifest("servicemonitor.yaml");
    let docs: Vec<&str> = text.split("\n---\n").collect();
    let monitor = docs
        .iter()
        .find(|d| d.contains("kind: ServiceMonitor"))
        .unwrap();
    let service = docs.iter().find(|d| d.contains("kind: Service\n")).unwrap();
    for required in [
        "apiVersion: monitoring.coreos.com/v1",
        "selector:",
        "matchLabels:",
        "endpoints:",
        "- port: metrics",
        "path: /metrics",
    ] {
        assert!(monitor.contains(required), "{required}");
    }
    assert!(monitor.contains("app.kubernetes.io/name: hch-exporter"));
    assert!(
        service.contains("- name: metrics")
            && service.contains("app.kubernetes.io/name: hch-exporter")
    );
    let (_, ds) = manifest("hch-exporter.yaml");
    assert!(ds.contains("name: metrics\n              containerPort: 9404"));
}
