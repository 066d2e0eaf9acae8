// A JVM that mostly sleeps: threads loop on LockSupport.parkNanos (the Unsafe.park native).
// Usage: java examples/Park.java [seconds (0 = forever)] [threads]
import java.util.concurrent.locks.LockSupport;

public class Park {
    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 0;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        long deadline = seconds <= 0 ? Long.MAX_VALUE : System.nanoTime() + (long) (seconds * 1e9);
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                while (System.nanoTime() < deadline) LockSupport.parkNanos(1_000_000L);
            }, "parker-" + t);
            ts[t].start();
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        for (Thread t : ts) t.join();
    }
}
