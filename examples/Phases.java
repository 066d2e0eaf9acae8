// A workload whose hot methods change halfway: `early*` methods are hot for the first phase,
// `late*` methods afterwards. For --delay (the profiling window) and the agent's reconciling.
// Usage: java examples/Phases.java [seconds of the early phase] [total seconds (0 = forever)]
public class Phases {
    static volatile long sink;

    static long early0(long x) { return x * 31 + 7; }
    static long early1(long x) { return x ^ (x >>> 3); }
    static long early2(long x) { return x * 17 - 5; }
    static long early3(long x) { return (x << 2) + x; }
    static long late0(long x) { return x * 13 + 11; }
    static long late1(long x) { return x ^ (x >>> 5); }
    static long late2(long x) { return x * 19 - 3; }
    static long late3(long x) { return (x << 3) - x; }

    static long early(long x) {
        for (int i = 0; i < 1000; i++) x = early3(early2(early1(early0(x))));
        return x;
    }

    static long late(long x) {
        for (int i = 0; i < 1000; i++) x = late3(late2(late1(late0(x))));
        return x;
    }

    public static void main(String[] args) throws Exception {
        double first = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        double total = args.length > 1 ? Double.parseDouble(args[1]) : 0;
        long start = System.nanoTime();
        long switchAt = start + (long) (first * 1e9);
        long end = total <= 0 ? Long.MAX_VALUE : start + (long) (total * 1e9);
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        long x = 1;
        boolean said = false;
        for (long now = start; now < end; now = System.nanoTime()) {
            if (now < switchAt) {
                x = early(x);
            } else {
                if (!said) {
                    System.out.println("LATE");
                    System.out.flush();
                    said = true;
                }
                x = late(x);
            }
            sink = x;
        }
    }
}
