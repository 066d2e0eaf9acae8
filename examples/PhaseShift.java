// A workload whose hot methods change halfway: phase A keeps a set of methods hot, phase B
// another. Calls go through an interface with many implementations (megamorphic), so each
// run() is a code blob of its own, as in HotLoop.
// Usage: java examples/PhaseShift.java [seconds of phase A (0 = phase A forever)] [threads]
import java.util.concurrent.ThreadLocalRandom;

public class PhaseShift {
    interface Work { long run(long x); }
    static volatile long sink;
    static volatile Work[] active;
    static final class A0 implements Work {
        public long run(long x) { for (int i = 0; i < 366; i++) { x = (x * 439563L + 10886L) ^ (x >>> 15); } return x; }
    }
    static final class A1 implements Work {
        public long run(long x) { for (int i = 0; i < 224; i++) { x = (x * 150631L + 5747L) ^ (x >>> 20); } return x; }
    }
    static final class A2 implements Work {
        public long run(long x) { for (int i = 0; i < 329; i++) { x = (x * 483452L + 39193L) ^ (x >>> 4); } return x; }
    }
    static final class A3 implements Work {
        public long run(long x) { for (int i = 0; i < 311; i++) { x = (x * 325127L + 3457L) ^ (x >>> 5); } return x; }
    }
    static final class A4 implements Work {
        public long run(long x) { for (int i = 0; i < 223; i++) { x = (x * 538485L + 5578L) ^ (x >>> 10); } return x; }
    }
    static final class A5 implements Work {
        public long run(long x) { for (int i = 0; i < 344; i++) { x = (x * 677814L + 28821L) ^ (x >>> 4); } return x; }
    }
    static final class A6 implements Work {
        public long run(long x) { for (int i = 0; i < 360; i++) { x = (x * 229815L + 15630L) ^ (x >>> 23); } return x; }
    }
    static final class A7 implements Work {
        public long run(long x) { for (int i = 0; i < 349; i++) { x = (x * 711316L + 5054L) ^ (x >>> 21); } return x; }
    }
    static final class A8 implements Work {
        public long run(long x) { for (int i = 0; i < 211; i++) { x = (x * 515949L + 4249L) ^ (x >>> 10); } return x; }
    }
    static final class A9 implements Work {
        public long run(long x) { for (int i = 0; i < 274; i++) { x = (x * 683705L + 57260L) ^ (x >>> 7); } return x; }
    }
    static final class A10 implements Work {
        public long run(long x) { for (int i = 0; i < 230; i++) { x = (x * 539499L + 10453L) ^ (x >>> 20); } return x; }
    }
    static final class A11 implements Work {
        public long run(long x) { for (int i = 0; i < 374; i++) { x = (x * 698646L + 21216L) ^ (x >>> 20); } return x; }
    }
    static final class B0 implements Work {
        public long run(long x) { for (int i = 0; i < 346; i++) { x = (x * 289505L + 7753L) ^ (x >>> 21); } return x; }
    }
    static final class B1 implements Work {
        public long run(long x) { for (int i = 0; i < 224; i++) { x = (x * 769949L + 13312L) ^ (x >>> 14); } return x; }
    }
    static final class B2 implements Work {
        public long run(long x) { for (int i = 0; i < 344; i++) { x = (x * 674351L + 47668L) ^ (x >>> 5); } return x; }
    }
    static final class B3 implements Work {
        public long run(long x) { for (int i = 0; i < 327; i++) { x = (x * 162496L + 41567L) ^ (x >>> 9); } return x; }
    }
    static final class B4 implements Work {
        public long run(long x) { for (int i = 0; i < 398; i++) { x = (x * 813451L + 35846L) ^ (x >>> 16); } return x; }
    }
    static final class B5 implements Work {
        public long run(long x) { for (int i = 0; i < 316; i++) { x = (x * 429407L + 31513L) ^ (x >>> 21); } return x; }
    }
    static final class B6 implements Work {
        public long run(long x) { for (int i = 0; i < 246; i++) { x = (x * 479146L + 20645L) ^ (x >>> 10); } return x; }
    }
    static final class B7 implements Work {
        public long run(long x) { for (int i = 0; i < 220; i++) { x = (x * 832948L + 52106L) ^ (x >>> 10); } return x; }
    }
    static final class B8 implements Work {
        public long run(long x) { for (int i = 0; i < 326; i++) { x = (x * 702326L + 20677L) ^ (x >>> 19); } return x; }
    }
    static final class B9 implements Work {
        public long run(long x) { for (int i = 0; i < 273; i++) { x = (x * 460160L + 48804L) ^ (x >>> 17); } return x; }
    }
    static final class B10 implements Work {
        public long run(long x) { for (int i = 0; i < 331; i++) { x = (x * 738539L + 5797L) ^ (x >>> 6); } return x; }
    }
    static final class B11 implements Work {
        public long run(long x) { for (int i = 0; i < 287; i++) { x = (x * 538433L + 11810L) ^ (x >>> 27); } return x; }
    }
    static final Work[] A = { new A0(), new A1(), new A2(), new A3(), new A4(), new A5(), new A6(), new A7(), new A8(), new A9(), new A10(), new A11() };
    static final Work[] B = { new B0(), new B1(), new B2(), new B3(), new B4(), new B5(), new B6(), new B7(), new B8(), new B9(), new B10(), new B11() };

    static void drive() {
        long x = ThreadLocalRandom.current().nextLong();
        while (true) {
            Work[] w = active;
            x = w[(int) ((x >>> 7) & 0x7fffffffL) % w.length].run(x + 1);
            sink = x;
        }
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 0;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        // Both sets are warmed up first, so that the switch changes what is hot, not what is compiled.
        active = B;
        long t0 = System.nanoTime(), x = 1;
        while (System.nanoTime() - t0 < 300_000_000L) { for (Work w : B) x = w.run(x); }
        active = A;
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(PhaseShift::drive, "phase-" + t);
            th.setDaemon(true);
            th.start();
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        if (seconds > 0) {
            Thread.sleep((long) (seconds * 1000));
            active = B;
            System.out.println("PHASE B");
            System.out.flush();
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
