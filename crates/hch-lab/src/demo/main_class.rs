//! `Main`: runs rounds for a number of seconds and prints a score line for each window of
//! about a second. Written with the assembler; the Java it stands for:
//!
//! ```java
//! static int sink;
//! public static void main(String[] args) {
//!     long start = System.nanoTime();
//!     long end = start + (args.length > 0 ? Integer.parseInt(args[0]) : 60) * 1_000_000_000L;
//!     long window = start, rounds = 0;
//!     do {
//!         long now;
//!         do { sink = Drive.round(sink); rounds++; now = System.nanoTime(); }
//!         while (now - window < 1_000_000_000L);
//!         long centis = Math.round(rounds * (N * 100000.0) / (now - window));
//!         System.out.println(new StringBuilder().append("score ").append(centis / 100)
//!             .append('.').append(centis % 100 < 10 ? "0" : "").append(centis % 100)
//!             .append(" Mcalls/s").toString());
//!         window = now; rounds = 0;
//!     } while (now < end);
//!     System.out.println("sink " + sink);
//! }
//! ```

use hch_classfile::{op, ClassFile, Code, Constant, ACC_PUBLIC, ACC_STATIC};

use super::DemoError;

const SB: &str = "java/lang/StringBuilder";
const APPEND_STRING: &str = "(Ljava/lang/String;)Ljava/lang/StringBuilder;";
const SECOND_NS: i64 = 1_000_000_000;

/// Locals of `main`: `args`, then longs (two slots each).
const ARGS: u16 = 0;
const END: u16 = 1;
const WINDOW: u16 = 3;
const ROUNDS: u16 = 5;
const NOW: u16 = 7;
const CENTIS: u16 = 9;
const LOCALS: u16 = 11;

/// The class `name` whose `main` drives `drive.round` for `methods` hot methods.
pub(super) fn main_class(name: &str, drive: &str, methods: usize) -> Result<Vec<u8>, DemoError> {
    let mut class = ClassFile::new(ACC_PUBLIC, name, "java/lang/Object");
    class.field(ACC_STATIC, "sink", "I");
    let mut code = class.method(ACC_PUBLIC | ACC_STATIC, "main", "([Ljava/lang/String;)V");
    deadline(&mut code);
    let run = code.label();
    code.op(op::LCONST_0).local(op::LSTORE, ROUNDS);
    code.bind(run);
    code.getstatic(name, "sink", "I")
        .invokestatic(drive, "round", "(I)I");
    code.putstatic(name, "sink", "I");
    code.local(op::LLOAD, ROUNDS).op(op::LCONST_1).op(op::LADD);
    code.local(op::LSTORE, ROUNDS);
    code.invokestatic("java/lang/System", "nanoTime", "()J");
    code.local(op::LSTORE, NOW);
    code.local(op::LLOAD, NOW)
        .local(op::LLOAD, WINDOW)
        .op(op::LSUB);
    code.ldc(Constant::Long(SECOND_NS))
        .op(op::LCMP)
        .branch(op::IFLT, run);
    score_line(&mut code, methods);
    code.local(op::LLOAD, NOW).local(op::LSTORE, WINDOW);
    code.op(op::LCONST_0).local(op::LSTORE, ROUNDS);
    code.local(op::LLOAD, NOW)
        .local(op::LLOAD, END)
        .op(op::LCMP);
    code.branch(op::IFLT, run);
    sink_line(&mut code, name);
    code.op(op::RETURN);
    code.finish(8, LOCALS)?;
    Ok(class.to_bytes()?)
}

/// `window = nanoTime(); end = window + seconds * 1e9`, seconds from `args[0]` or 60.
fn deadline(code: &mut Code<'_>) {
    let (default, have) = (code.label(), code.label());
    code.local(op::ALOAD, ARGS)
        .op(op::ARRAYLENGTH)
        .branch(op::IFLE, default);
    code.local(op::ALOAD, ARGS).iconst(0).op(op::AALOAD);
    code.invokestatic("java/lang/Integer", "parseInt", "(Ljava/lang/String;)I");
    code.op(op::I2L).branch(op::GOTO, have);
    code.bind(default).ldc(Constant::Long(60));
    code.bind(have).ldc(Constant::Long(SECOND_NS)).op(op::LMUL);
    code.invokestatic("java/lang/System", "nanoTime", "()J");
    code.op(op::DUP2).local(op::LSTORE, WINDOW);
    code.op(op::LADD).local(op::LSTORE, END);
}

/// Prints `score <calls per µs, two decimals> Mcalls/s` for the window that just ended,
/// formatted by hand: no locale can turn the point into a comma.
fn score_line(code: &mut Code<'_>, methods: usize) {
    code.local(op::LLOAD, ROUNDS).op(op::L2D);
    code.ldc(Constant::Double(methods as f64 * 100_000.0))
        .op(op::DMUL);
    code.local(op::LLOAD, NOW)
        .local(op::LLOAD, WINDOW)
        .op(op::LSUB)
        .op(op::L2D);
    code.op(op::DDIV)
        .invokestatic("java/lang/Math", "round", "(D)J");
    code.local(op::LSTORE, CENTIS);
    start_line(code, "score ");
    code.local(op::LLOAD, CENTIS)
        .ldc(Constant::Long(100))
        .op(op::LDIV);
    code.invokevirtual(SB, "append", "(J)Ljava/lang/StringBuilder;");
    code.iconst(i32::from(b'.'));
    code.invokevirtual(SB, "append", "(C)Ljava/lang/StringBuilder;");
    let two_digits = code.label();
    code.local(op::LLOAD, CENTIS)
        .ldc(Constant::Long(100))
        .op(op::LREM)
        .op(op::L2I);
    code.op(op::DUP)
        .iconst(10)
        .branch(op::IF_ICMPGE, two_digits);
    code.op(op::SWAP).iconst(i32::from(b'0'));
    code.invokevirtual(SB, "append", "(C)Ljava/lang/StringBuilder;");
    code.op(op::SWAP);
    code.bind(two_digits);
    code.invokevirtual(SB, "append", "(I)Ljava/lang/StringBuilder;");
    code.ldc(Constant::Str(" Mcalls/s"))
        .invokevirtual(SB, "append", APPEND_STRING);
    end_line(code);
}

/// Prints `sink <value>`: the result of every round, so that none is dead code.
fn sink_line(code: &mut Code<'_>, class: &str) {
    start_line(code, "sink ");
    code.getstatic(class, "sink", "I");
    code.invokevirtual(SB, "append", "(I)Ljava/lang/StringBuilder;");
    end_line(code);
}

/// Pushes `System.out` and a `StringBuilder` holding `text`.
fn start_line(code: &mut Code<'_>, text: &str) {
    code.getstatic("java/lang/System", "out", "Ljava/io/PrintStream;");
    code.type_insn(op::NEW, SB)
        .op(op::DUP)
        .invokespecial(SB, "<init>", "()V");
    code.ldc(Constant::Str(text))
        .invokevirtual(SB, "append", APPEND_STRING);
}

/// `out.println(builder.toString())`.
fn end_line(code: &mut Code<'_>) {
    code.invokevirtual(SB, "toString", "()Ljava/lang/String;");
    code.invokevirtual("java/io/PrintStream", "println", "(Ljava/lang/String;)V");
}
