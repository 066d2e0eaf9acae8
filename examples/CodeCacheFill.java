// Fills the JIT code cache: generates Java sources for many classes with big methods, compiles
// them in-process (javax.tools), loads them, deletes the files, and keeps every method hot.
// Under a small -XX:ReservedCodeCacheSize the JVM ends with "CodeCache is full. Compiler has been disabled."
// Usage: java CodeCacheFill.java [classes] [methods per class] [statements per method]
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongUnaryOperator;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

public class CodeCacheFill {
    public static void main(String[] args) throws Exception {
        int classes = args.length > 0 ? Integer.parseInt(args[0]) : 150;
        int methods = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int statements = args.length > 2 ? Integer.parseInt(args[2]) : 24;
        Path dir = Files.createTempDirectory("hch-codecachefill");
        // Also on SIGTERM/Ctrl-C while javac still runs (a finally block would not run then).
        Thread cleanup = new Thread(() -> {
            try { deleteTree(dir); } catch (IOException e) { /* best effort at exit */ }
        });
        Runtime.getRuntime().addShutdownHook(cleanup);
        List<LongUnaryOperator> ops = new ArrayList<>();
        try {
            List<String> javacArgs = new ArrayList<>(List.of("-d", dir.toString(), "-g:none"));
            for (int c = 0; c < classes; c++) {
                Path src = dir.resolve("G" + c + ".java");
                Files.writeString(src, source(c, methods, statements));
                javacArgs.add(src.toString());
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            if (javac.run(null, null, null, javacArgs.toArray(new String[0])) != 0) throw new IllegalStateException("javac failed");
            URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()});
            for (int c = 0; c < classes; c++) {
                ops.add((LongUnaryOperator) loader.loadClass("G" + c).getDeclaredConstructor().newInstance());
            }
        } finally {
            deleteTree(dir); // classes are loaded: nothing stays on disk, even if the JVM is killed
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        long x = 1;
        while (true) {
            for (LongUnaryOperator op : ops) {
                for (int i = 0; i < 200; i++) x = op.applyAsLong(x);
            }
            if (x == 42) System.out.println(x);
        }
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

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
