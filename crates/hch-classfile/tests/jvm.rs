//! Classes written here load, verify and run on every JDK found: branches both ways without
//! stack map frames, every kind of constant, static fields, calls, a declared native method.

use hch_classfile::{op, ClassFile, Constant, ACC_PUBLIC, ACC_STATIC};
use std::process::Command;

const NAME: &str = "hchtest/Probe";
const SB: &str = "java/lang/StringBuilder";

/// `static int twice(int x) { return x + x; }`.
fn twice(class: &mut ClassFile) {
    let mut c = class.method(ACC_STATIC, "twice", "(I)I");
    c.local(op::ILOAD, 0)
        .local(op::ILOAD, 0)
        .op(op::IADD)
        .op(op::IRETURN);
    c.finish(2, 1).unwrap();
}

/// `System.out.println(prefix + <value on the stack>)`: the value's descriptor is `desc`.
fn print(c: &mut hch_classfile::Code<'_>, prefix: &str, desc: &str, local: (u8, u16)) {
    c.getstatic("java/lang/System", "out", "Ljava/io/PrintStream;")
        .type_insn(op::NEW, SB)
        .op(op::DUP)
        .invokespecial(SB, "<init>", "()V")
        .ldc(Constant::Str(prefix))
        .invokevirtual(
            SB,
            "append",
            "(Ljava/lang/String;)Ljava/lang/StringBuilder;",
        )
        .local(local.0, local.1)
        .invokevirtual(SB, "append", &format!("({desc})Ljava/lang/StringBuilder;"))
        .invokevirtual(SB, "toString", "()Ljava/lang/String;")
        .invokevirtual("java/io/PrintStream", "println", "(Ljava/lang/String;)V");
}

/// `main`: a counted loop summing `twice(i)`, a long compare, a double product, and the length
/// of a string with non-ASCII characters (modified UTF-8 read back by the JVM).
fn main_method(class: &mut ClassFile) {
    let mut c = class.method(ACC_PUBLIC | ACC_STATIC, "main", "([Ljava/lang/String;)V");
    let (top, done, big) = (c.label(), c.label(), c.label());
    c.iconst(0)
        .local(op::ISTORE, 1)
        .iconst(0)
        .local(op::ISTORE, 2);
    c.bind(top)
        .local(op::ILOAD, 1)
        .iconst(100)
        .branch(op::IF_ICMPGE, done);
    c.local(op::ILOAD, 2)
        .local(op::ILOAD, 1)
        .invokestatic(NAME, "twice", "(I)I");
    c.op(op::IADD)
        .local(op::ISTORE, 2)
        .iinc(1, 1)
        .branch(op::GOTO, top);
    c.bind(done)
        .local(op::ILOAD, 2)
        .putstatic(NAME, "counter", "I");
    c.getstatic(NAME, "counter", "I").local(op::ISTORE, 3);
    print(&mut c, "sum ", "I", (op::ILOAD, 3));
    c.ldc(Constant::Long(1 << 40))
        .op(op::LCONST_0)
        .op(op::LCMP)
        .branch(op::IFGT, big);
    c.op(op::RETURN); // never taken: the output then lacks the lines below
    c.bind(big)
        .ldc(Constant::Double(2.5))
        .iconst(2)
        .op(op::I2D)
        .op(op::DMUL);
    c.local(op::DSTORE, 4);
    print(&mut c, "double ", "D", (op::DLOAD, 4));
    c.ldc(Constant::Str("h\u{e9}\u{20ac}\u{1f600}\0"))
        .invokevirtual("java/lang/String", "length", "()I")
        .local(op::ISTORE, 3);
    print(&mut c, "length ", "I", (op::ILOAD, 3));
    c.op(op::RETURN);
    c.finish(6, 6).unwrap();
}

#[test]
fn a_written_class_runs_on_every_jdk() {
    let mut class = ClassFile::new(ACC_PUBLIC, NAME, "java/lang/Object");
    class.field(ACC_STATIC, "counter", "I");
    class.native_method(ACC_STATIC, "never", "()V");
    twice(&mut class);
    main_method(&mut class);
    let dir = hch_testkit::scratch_dir("classfile-probe");
    std::fs::create_dir_all(dir.join("hchtest")).unwrap();
    std::fs::write(dir.join("hchtest/Probe.class"), class.to_bytes().unwrap()).unwrap();
    let jdks = hch_testkit::jdks();
    if jdks.is_empty() {
        eprintln!("SKIP: no JDK found");
    }
    for jdk in jdks {
        let out = Command::new(jdk.tool("java"))
            .args(["-Xverify:all", "-cp"])
            .arg(&dir)
            .arg("hchtest.Probe")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", jdk.label());
        // 1 + 1 + 1 + 2 (a surrogate pair) + 1 (NUL).
        assert_eq!(
            stdout,
            "sum 9900\ndouble 5.0\nlength 6\n",
            "{}",
            jdk.label()
        );
        eprintln!("ran on {}", jdk.label());
    }
}
