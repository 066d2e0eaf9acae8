//! hch's command-line tests, one test binary: real JVMs on every JDK the test kit finds, the
//! JDK's own tools as oracles, and a hostile fake JVM for the security rules. Each module is one
//! area; `codecache_support` is shared by the code cache modules.

mod agent_cli;
mod analyze_codelist;
mod analyze_collapsed;
mod analyze_inputs;
mod attach_info;
mod attach_jcmd;
mod attach_list;
mod attacker;
mod cli_limits;
mod codecache_files;
mod codecache_full;
mod codecache_leak;
mod codecache_sparseness;
mod codecache_support;
mod codecache_watch;
mod deploy_manifests;
mod directives_check;
mod directives_live;
mod exporter_prometheus;
mod fleet_overlap;
mod jit_html;
mod jit_live;
mod jit_logs;
mod jmx_cli;
mod jmx_hostile;
mod jmx_target;
mod lab;
mod pprof_oracle;
mod profile_live;
mod record_hotloop;
mod watch_listen;
mod window;
