// The CPU workload of examples/HotLoop.java with a throughput counter, for
// scripts/bench_profile_overhead.sh: THREADS threads call HotLoop.path0 (deep and wide call
// trees over many hot methods); every second it prints `OPS <epoch ms> <calls so far> <process
// CPU ns so far>`.
// Usage: java -cp <classes of HotLoop and this> Throughput [threads]
import java.lang.management.ManagementFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

public class Throughput {
    static final LongAdder CALLS = new LongAdder();

    static void drive() {
        long x = ThreadLocalRandom.current().nextLong();
        while (true) {
            int depth = (int) (x & 3);
            x = HotLoop.path0(x + ThreadLocalRandom.current().nextInt(), depth);
            HotLoop.sink = x;
            CALLS.increment();
        }
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(Throughput::drive, "throughput-" + t);
            th.setDaemon(true);
            th.start();
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long next = System.currentTimeMillis() + 1000;
        while (true) {
            Thread.sleep(Math.max(1, next - System.currentTimeMillis()));
            System.out.println("OPS " + System.currentTimeMillis() + " " + CALLS.sum() + " " + os.getProcessCpuTime());
            next += 1000;
        }
    }
}
