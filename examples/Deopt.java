// Deoptimizes on purpose, one phase after another, so that `hch jit` has known events to find:
//   types      a call site sees only Circle until C2 has compiled it (the receiver check inlined),
//              then Squares and Triangles arrive: class_check traps, and a recompilation
//   branch     a branch never taken is compiled as an uncommon trap, then it is taken: unstable_if
//   hierarchy  Animal has one loaded subclass, so C2 binds a.sound() to Dog's (class hierarchy
//              analysis); loading Cat breaks that assumption and the dependent code is thrown away
// The warm-up lasts until the JIT has been quiet for half a second (at least one phase, at
// most 30 s), so that C2 has compiled the hot code before its assumptions are broken, also on a
// loaded machine.
// Prints READY <pid> first, PHASE <name> before each phase and DONE after the last one.
// Usage: java Deopt [milliseconds per phase (1500)] [then: exit | loop (keep the last mix hot)]
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

public class Deopt {
    interface Shape { double area(); }
    static final class Circle implements Shape { final double r; Circle(double r) { this.r = r; } public double area() { return 3.14159 * r * r; } }
    static final class Square implements Shape { final double s; Square(double s) { this.s = s; } public double area() { return s * s; } }
    static final class Triangle implements Shape { final double b, h; Triangle(double b, double h) { this.b = b; this.h = h; } public double area() { return 0.5 * b * h; } }

    static abstract class Animal { abstract int sound(int x); }
    static final class Dog extends Animal { int sound(int x) { return x * 3 + 1; } }
    // Loaded by name in the hierarchy phase only: it must not be referenced anywhere else.
    static final class Cat extends Animal { int sound(int x) { return x ^ 0x55; } }

    static volatile double sinkD;
    static volatile long sinkL;

    static double totalArea(Shape[] shapes) {
        double t = 0;
        for (Shape s : shapes) t += s.area();
        return t;
    }

    static long branchy(long x) {
        if (x < 0) return rare(x);
        return x * 31 + 7;
    }

    static long rare(long x) { return -x / 3 + 11; }

    static long chorus(Animal a, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) s += a.sound(i);
        return s;
    }

    static Shape[] shapes(int kinds) {
        Shape[] a = new Shape[256];
        for (int i = 0; i < a.length; i++) {
            switch (i % kinds) {
                case 0: a[i] = new Circle(i); break;
                case 1: a[i] = new Square(i); break;
                default: a[i] = new Triangle(i, 2); break;
            }
        }
        return a;
    }

    /** Runs `body` for at least `millis`, then until no compile has finished for 500 ms. */
    static void warm(long millis, Runnable body) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long start = System.nanoTime(), quiet = start, seen = jit.getTotalCompilationTime();
        while (true) {
            body.run();
            long now = System.nanoTime(), total = jit.getTotalCompilationTime();
            if (total != seen) {
                seen = total;
                quiet = now;
            }
            boolean done = now - start > millis * 1_000_000L && now - quiet > 500_000_000L;
            if (done || now - start > 30_000_000_000L) return;
        }
    }

    /** Runs `body` until `millis` have passed. */
    static void during(long millis, Runnable body) {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) body.run();
    }

    public static void main(String[] args) throws Exception {
        long phase = args.length > 0 ? Long.parseLong(args[0]) : 1500;
        boolean loop = args.length > 1 && args[1].equals("loop");
        // Every Shape class is loaded up front, so the call site's receiver check comes from
        // its type profile, not from class hierarchy analysis.
        Shape[] circles = shapes(1), two = shapes(2), three = shapes(3);
        Animal dog = new Dog();
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();

        say("warmup");
        warm(phase, () -> {
            sinkD = totalArea(circles);
            for (long i = 0; i < 1000; i++) sinkL += branchy(i);
            sinkL += chorus(dog, 1000);
        });

        say("types");
        during(phase / 2, () -> sinkD = totalArea(two));
        during(phase / 2, () -> sinkD = totalArea(three));

        say("branch");
        during(phase, () -> {
            for (long i = -500; i < 500; i++) sinkL += branchy(i);
        });

        say("hierarchy");
        Animal cat = (Animal) Class.forName("Deopt$Cat").getDeclaredConstructor().newInstance();
        sinkL += cat.sound(1);
        during(phase, () -> sinkL += chorus(dog, 1000));
        say("DONE");
        while (loop) {
            sinkD = totalArea(three);
            for (long i = -500; i < 500; i++) sinkL += branchy(i);
            sinkL += chorus(dog, 1000) + chorus(cat, 1000);
        }
    }

    static void say(String phase) {
        System.out.println(phase.equals("DONE") ? "DONE" : "PHASE " + phase);
        System.out.flush();
    }
}
