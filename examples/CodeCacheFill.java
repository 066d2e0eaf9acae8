// Fills the JIT code cache: generates Java sources for many classes with big methods, compiles
// them in memory (javax.tools, no files), loads them and keeps every method hot. Under a small
// -XX:ReservedCodeCacheSize the JVM ends with "CodeCache is full. Compiler has been disabled."
// READY is printed first: the cache may fill while javac itself runs, which is the same outcome.
// Usage: java CodeCacheFill.java [classes] [methods per class] [statements per method]
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

public class CodeCacheFill {
    public static void main(String[] args) throws Exception {
        int classes = args.length > 0 ? Integer.parseInt(args[0]) : 150;
        int methods = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int statements = args.length > 2 ? Integer.parseInt(args[2]) : 24;
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        List<JavaFileObject> sources = new ArrayList<>();
        for (int c = 0; c < classes; c++) sources.add(new Source("G" + c, source(c, methods, statements)));
        Map<String, Compiled> compiled = compile(sources);
        ClassLoader loader = new ClassLoader(CodeCacheFill.class.getClassLoader()) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                Compiled c = compiled.get(name);
                if (c == null) throw new ClassNotFoundException(name);
                byte[] b = c.bytes.toByteArray();
                return defineClass(name, b, 0, b.length);
            }
        };
        List<LongUnaryOperator> ops = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            ops.add((LongUnaryOperator) loader.loadClass("G" + c).getDeclaredConstructor().newInstance());
        }
        long x = 1;
        while (true) {
            for (LongUnaryOperator op : ops) {
                for (int i = 0; i < 200; i++) x = op.applyAsLong(x);
            }
            if (x == 42) System.out.println(x);
        }
    }

    // Compiles the sources with the JDK's javac into byte arrays.
    static Map<String, Compiled> compile(List<JavaFileObject> sources) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Map<String, Compiled> out = new HashMap<>();
        JavaFileManager fm = new ForwardingJavaFileManager<>(javac.getStandardFileManager(null, null, null)) {
            @Override
            public JavaFileObject getJavaFileForOutput(Location l, String name, JavaFileObject.Kind k, FileObject s) {
                Compiled c = new Compiled(name);
                out.put(name, c);
                return c;
            }
        };
        if (!javac.getTask(null, fm, null, List.of("-g:none"), null, sources).call()) {
            throw new IllegalStateException("javac failed");
        }
        return out;
    }

    // One class: `methods` distinct static methods of `statements` arithmetic steps, chained by apply.
    static String source(int c, int methods, int statements) {
        StringBuilder s = new StringBuilder("public class G" + c + " implements java.util.function.LongUnaryOperator {\n");
        s.append("  public long applyAsLong(long x) {\n");
        for (int m = 0; m < methods; m++) s.append("    x = m").append(m).append("(x);\n");
        s.append("    return x;\n  }\n");
        for (int m = 0; m < methods; m++) {
            s.append("  static long m").append(m).append("(long x) {\n");
            for (int k = 0; k < statements; k++) {
                long k1 = (long) c * 1_000_003L + m * 1009L + k;
                s.append("    x = (x ^ (x >>> ").append(1 + k % 31).append(")) * ").append(k1 | 1).append("L + ").append(k).append(";\n");
            }
            s.append("    return x;\n  }\n");
        }
        return s.append("}\n").toString();
    }

    // A source held in memory.
    static final class Source extends SimpleJavaFileObject {
        final String code;

        Source(String name, String code) {
            super(URI.create("string:///" + name + ".java"), Kind.SOURCE);
            this.code = code;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return code;
        }
    }

    // A class file held in memory.
    static final class Compiled extends SimpleJavaFileObject {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Compiled(String name) {
            super(URI.create("mem:///" + name.replace('.', '/') + ".class"), Kind.CLASS);
        }

        @Override
        public OutputStream openOutputStream() {
            return bytes;
        }
    }
}
