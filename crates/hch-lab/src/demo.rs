//! The generated workload: N small, uniformly hot static methods, the case where the layout of
//! hot code matters most. Sparse layouts run at about 0.70 of compact at N = 1000, 0.43 at
//! 2000 and 0.29 at 4000 with small methods; large methods show no effect.
//!
//! Three classes in package `hchdemo`:
//! - `Gen`: `static int mK(int x)` for K in 0..N, straight-line integer kernels of four
//!   chains of add, xor, rotate and xor-shift with constants of their own; the number of
//!   operations is uniform in [OPS/2, 3 OPS/2] so compiled sizes differ (equal sizes alias).
//! - `Drive`: `dJ(int x)` chains 250 consecutive `mK` calls (`x = mK(x)`), and `round(int x)`
//!   calls every driver once: each `mK` runs once per round, all equally hot.
//! - `Main`: runs rounds for `args[0]` seconds (60 by default), printing
//!   `score <N * rounds per µs> Mcalls/s` for each window of about a second, then `sink <x>`.

mod kernel;
mod main_class;

use hch_classfile::{op, ClassFile, ACC_PUBLIC, ACC_STATIC};
use std::path::Path;

/// The package of the generated classes.
const PACKAGE: &str = "hchdemo";
/// Calls per driver method: 750 bytes of bytecode, under `HugeMethodLimit` (8000).
const CALLS_PER_DRIVER: usize = 250;
/// The most methods: the driver class's pool holds three entries per hot method.
pub const MAX_METHODS: usize = 20_000;

/// How big each hot method is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoKind {
    /// 8 operations on average (C2 code of 150 to 280 bytes, median 185, on JDK 17): the
    /// layout matters.
    Small,
    /// 24 operations on average (185 to 470 bytes, median 310): the control, no effect
    /// expected.
    Large,
}

impl DemoKind {
    /// The mean number of operations per hot method.
    fn ops(self) -> usize {
        match self {
            DemoKind::Small => 8,
            DemoKind::Large => 24,
        }
    }
}

impl std::str::FromStr for DemoKind {
    type Err = DemoError;

    /// `small` or `large`.
    fn from_str(s: &str) -> Result<Self, DemoError> {
        match s {
            "small" => Ok(DemoKind::Small),
            "large" => Ok(DemoKind::Large),
            _ => Err(DemoError::Kind(s.to_string())),
        }
    }
}

/// Why a workload could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The method count is 0 or above [`MAX_METHODS`].
    #[error("{methods} hot methods asked for: 1 to {max} are possible")]
    Methods {
        /// The count asked for.
        methods: usize,
        /// The most possible.
        max: usize,
    },
    /// An unknown kind name.
    #[error("unknown demo kind '{0}': small or large")]
    Kind(String),
    /// A class could not be written (a bug of the generator).
    #[error("writing the demo's classes")]
    Class(#[from] hch_classfile::Error),
}

/// A generated workload: its classes and how to run it.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The main class as `java` takes it: `hchdemo.Main`.
    pub main_class: String,
    /// Each class's internal name (`hchdemo/Gen`) and bytes.
    pub classes: Vec<(String, Vec<u8>)>,
    /// JVM options the workload needs: every hot method stays a call, its own nmethod.
    pub jvm_flags: Vec<String>,
    /// The hot methods, known by construction, in the order they are called, as Compiler
    /// Control patterns (`hchdemo/Gen.m0(I)I`): the drivers (`hchdemo/Drive.d0(I)I`...) then
    /// `m0` to `m{N-1}`.
    pub hot_methods: Vec<String>,
}

impl Demo {
    /// Writes each class as `dir/<internal name>.class`, making the package directories.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for (name, bytes) in &self.classes {
            let path = dir.join(format!("{name}.class"));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
        }
        Ok(())
    }
}

/// Generates the workload with `methods` hot methods; the same seed gives the same bytes.
pub fn generate(kind: DemoKind, methods: usize, seed: u64) -> Result<Demo, DemoError> {
    if methods == 0 || methods > MAX_METHODS {
        let max = MAX_METHODS;
        return Err(DemoError::Methods { methods, max });
    }
    let gen = kernel::hot_class(&class_name("Gen"), kind.ops(), methods, seed)?;
    let drive = drive_class(methods)?;
    let main = main_class::main_class(&class_name("Main"), &class_name("Drive"), methods)?;
    let drivers = methods.div_ceil(CALLS_PER_DRIVER);
    let hot_methods = (0..drivers)
        .map(|d| format!("{}.d{d}(I)I", class_name("Drive")))
        .chain((0..methods).map(|k| format!("{}.m{k}(I)I", class_name("Gen"))))
        .collect();
    Ok(Demo {
        hot_methods,
        main_class: format!("{PACKAGE}.Main"),
        classes: vec![
            (class_name("Gen"), gen),
            (class_name("Drive"), drive),
            (class_name("Main"), main),
        ],
        // Serial GC and a fixed heap, as the research ran it: G1's background threads made
        // the windows of this single-threaded loop vary by a third on 2 cores.
        jvm_flags: vec![
            "-XX:CompileCommand=quiet".into(),
            format!("-XX:CompileCommand=dontinline,{PACKAGE}.Gen::*"),
            "-XX:+UseSerialGC".into(),
            "-Xms256m".into(),
            "-Xmx256m".into(),
        ],
    })
}

/// `hchdemo/<simple>`.
fn class_name(simple: &str) -> String {
    format!("{PACKAGE}/{simple}")
}

/// `Drive`: the drivers `dJ`, each chaining its share of the hot methods, and `round`.
fn drive_class(methods: usize) -> Result<Vec<u8>, DemoError> {
    let (gen, name) = (class_name("Gen"), class_name("Drive"));
    let mut class = ClassFile::new(ACC_PUBLIC, &name, "java/lang/Object");
    let drivers = methods.div_ceil(CALLS_PER_DRIVER);
    for d in 0..drivers {
        let first = d * CALLS_PER_DRIVER;
        let callees = (first..methods.min(first + CALLS_PER_DRIVER)).map(|k| format!("m{k}"));
        chain(&mut class, &format!("d{d}"), &gen, callees)?;
    }
    chain(
        &mut class,
        "round",
        &name,
        (0..drivers).map(|d| format!("d{d}")),
    )?;
    Ok(class.to_bytes()?)
}

/// `static int name(int x) { return cN(...c1(c0(x))); }` over static `(I)I` methods of `owner`.
fn chain(
    class: &mut ClassFile,
    name: &str,
    owner: &str,
    callees: impl Iterator<Item = String>,
) -> Result<(), DemoError> {
    let mut code = class.method(ACC_PUBLIC | ACC_STATIC, name, "(I)I");
    code.local(op::ILOAD, 0);
    for callee in callees {
        code.invokestatic(owner, &callee, "(I)I");
    }
    code.op(op::IRETURN);
    Ok(code.finish(1, 1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_kernels() {
        let a = generate(DemoKind::Small, 300, 1).unwrap();
        let b = generate(DemoKind::Small, 300, 1).unwrap();
        let c = generate(DemoKind::Small, 300, 2).unwrap();
        assert_eq!(a.classes, b.classes);
        assert_ne!(a.classes[0].1, c.classes[0].1);
        assert_eq!(a.classes[1], c.classes[1]); // the drivers depend on N only
        let names: Vec<&str> = a.classes.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["hchdemo/Gen", "hchdemo/Drive", "hchdemo/Main"]);
    }

    #[test]
    fn method_counts_out_of_range() {
        assert!(matches!(
            generate(DemoKind::Small, 0, 1),
            Err(DemoError::Methods { .. })
        ));
        let too_many = generate(DemoKind::Large, MAX_METHODS + 1, 1);
        assert!(matches!(too_many, Err(DemoError::Methods { .. })));
        generate(DemoKind::Large, MAX_METHODS, 1).unwrap();
        assert_eq!("large".parse::<DemoKind>().unwrap(), DemoKind::Large);
        assert!("medium".parse::<DemoKind>().is_err());
    }

    #[test]
    fn writes_classes_under_their_package() {
        let dir = std::env::temp_dir().join(format!("hch-lab-demo-{}", std::process::id()));
        let demo = generate(DemoKind::Small, 10, 1).unwrap();
        demo.write_to(&dir).unwrap();
        let main = std::fs::read(dir.join("hchdemo/Main.class")).unwrap();
        assert_eq!(main, demo.classes[2].1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
