// Fills the JIT code cache: generates many classes with big methods (their class files written
// directly, so no javac is needed at run time and jlinked runtimes without jdk.compiler work
// too), loads them and keeps every method hot. Under a small -XX:ReservedCodeCacheSize the JVM
// ends with "CodeCache is full. Compiler has been disabled."
// Usage: java CodeCacheFill.java [classes] [methods per class] [statements per method]
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;

public class CodeCacheFill {
    public static void main(String[] args) throws Exception {
        int classes = args.length > 0 ? Integer.parseInt(args[0]) : 150;
        int methods = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int statements = args.length > 2 ? Integer.parseInt(args[2]) : 24;
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        List<LongUnaryOperator> ops = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byte[] b = generate(c, methods, statements);
            String name = "G" + c;
            ClassLoader loader = new ClassLoader(CodeCacheFill.class.getClassLoader()) {
                @Override
                protected Class<?> findClass(String n) throws ClassNotFoundException {
                    if (!n.equals(name)) throw new ClassNotFoundException(n);
                    return defineClass(n, b, 0, b.length);
                }
            };
            ops.add((LongUnaryOperator) loader.loadClass(name).getDeclaredConstructor().newInstance());
        }
        long x = 1;
        while (true) {
            for (LongUnaryOperator op : ops) {
                for (int i = 0; i < 200; i++) x = op.applyAsLong(x);
            }
            if (x == 42) System.out.println(x);
        }
    }

    // The class file of what this source would compile to (class file version 52, no branches,
    // so no stack map frames):
    //   public class Gc implements LongUnaryOperator {
    //     public long applyAsLong(long x) { x = m0(x); ... x = m<methods-1>(x); return x; }
    //     static long m0(long x) { x = (x ^ (x >>> s)) * K + k; ... return x; }  // `statements` steps
    //     ...
    //   }
    static byte[] generate(int c, int methods, int statements) throws IOException {
        Pool cp = new Pool();
        int self = cp.classRef("G" + c);
        int object = cp.classRef("java/lang/Object");
        int iface = cp.classRef("java/util/function/LongUnaryOperator");
        int objectInit = cp.methodRef(object, "<init>", "()V");
        int code = cp.utf8("Code");
        int init = cp.utf8("<init>");
        int voidDesc = cp.utf8("()V");
        int apply = cp.utf8("applyAsLong");
        int longDesc = cp.utf8("(J)J");
        int[] names = new int[methods];
        int[] refs = new int[methods];
        byte[][] bodies = new byte[methods][];
        for (int m = 0; m < methods; m++) {
            names[m] = cp.utf8("m" + m);
            refs[m] = cp.methodRef(self, "m" + m, "(J)J");
            Code b = new Code();
            for (int k = 0; k < statements; k++) {
                long k1 = (long) c * 1_000_003L + m * 1009L + k;
                int constant = cp.longConstant(k1 | 1);
                b.op(0x1e).op(0x1e); // lload_0 lload_0
                b.op(0x10).op(1 + k % 31); // bipush s
                b.op(0x7d).op(0x83); // lushr lxor
                b.op(0x14).u2(constant); // ldc2_w K
                b.op(0x69); // lmul
                b.op(0x11).u2(k).op(0x85); // sipush k, i2l
                b.op(0x61).op(0x3f); // ladd lstore_0
            }
            bodies[m] = b.op(0x1e).op(0xad).bytes(); // lload_0 lreturn
        }
        Code applyBody = new Code();
        for (int m = 0; m < methods; m++) {
            applyBody.op(0x1f).op(0xb8).u2(refs[m]).op(0x40); // lload_1 invokestatic lstore_1
        }
        applyBody.op(0x1f).op(0xad); // lload_1 lreturn
        Code initBody = new Code().op(0x2a).op(0xb7).u2(objectInit).op(0xb1); // super()

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(0xCAFEBABE);
        out.writeShort(0);
        out.writeShort(52);
        out.writeShort(cp.count);
        out.write(cp.bytes.toByteArray());
        out.writeShort(0x21); // public super
        out.writeShort(self);
        out.writeShort(object);
        out.writeShort(1);
        out.writeShort(iface);
        out.writeShort(0); // fields
        out.writeShort(2 + methods);
        method(out, 0x0001, init, voidDesc, code, 1, 1, initBody.bytes());
        method(out, 0x0001, apply, longDesc, code, 2, 3, applyBody.bytes());
        for (int m = 0; m < methods; m++) method(out, 0x0008, names[m], longDesc, code, 6, 2, bodies[m]);
        out.writeShort(0); // class attributes
        return bytes.toByteArray();
    }

    static void method(DataOutputStream out, int access, int name, int desc, int code, int maxStack,
            int maxLocals, byte[] bytecode) throws IOException {
        out.writeShort(access);
        out.writeShort(name);
        out.writeShort(desc);
        out.writeShort(1);
        out.writeShort(code);
        out.writeInt(12 + bytecode.length);
        out.writeShort(maxStack);
        out.writeShort(maxLocals);
        out.writeInt(bytecode.length);
        out.write(bytecode);
        out.writeShort(0); // exception table
        out.writeShort(0); // code attributes
    }

    // A constant pool being written: each entry's index is returned.
    static final class Pool {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final DataOutputStream out = new DataOutputStream(bytes);
        int count = 1;

        int utf8(String s) throws IOException {
            out.writeByte(1);
            out.writeUTF(s);
            return count++;
        }

        int classRef(String name) throws IOException {
            int n = utf8(name);
            out.writeByte(7);
            out.writeShort(n);
            return count++;
        }

        int methodRef(int owner, String name, String desc) throws IOException {
            int n = utf8(name);
            int d = utf8(desc);
            out.writeByte(12);
            out.writeShort(n);
            out.writeShort(d);
            int nameAndType = count++;
            out.writeByte(10);
            out.writeShort(owner);
            out.writeShort(nameAndType);
            return count++;
        }

        int longConstant(long v) throws IOException {
            out.writeByte(5);
            out.writeLong(v);
            int index = count;
            count += 2; // a long takes two entries
            return index;
        }
    }

    // Bytecode being written.
    static final class Code {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Code op(int b) {
            bytes.write(b);
            return this;
        }

        Code u2(int v) {
            return op(v >>> 8).op(v & 0xff);
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }
    }
}
