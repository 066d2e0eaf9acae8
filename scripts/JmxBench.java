// The JDK's own JMX client doing what crates/hch-jmx/examples/jmx_bench.rs does, for
// scripts/bench_jmx.sh: a Compiler.codecache round trip, and streaming a JFR snapshot back.
// Timed inside the process, so JVM start-up is not counted against Java.
// Usage: java JmxBench HOST PORT CALLS STREAMS
import java.util.Arrays;
import java.util.HashMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class JmxBench {
    public static void main(String[] a) throws Exception {
        String host = a[0];
        int port = Integer.parseInt(a[1]), calls = Integer.parseInt(a[2]), streams = Integer.parseInt(a[3]);
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + host + ":" + port + "/jmxrmi");
        long t0 = System.nanoTime();
        try (JMXConnector c = JMXConnectorFactory.connect(url, new HashMap<>())) {
            MBeanServerConnection m = c.getMBeanServerConnection();
            System.out.printf("java connect_ms=%.1f%n", (System.nanoTime() - t0) / 1e6);
            ObjectName dcmd = new ObjectName("com.sun.management:type=DiagnosticCommand");
            ObjectName jfr = new ObjectName("jdk.management.jfr:type=FlightRecorder");
            String[] sa = {String[].class.getName()};
            Object[] noArgs = {new String[0]};
            for (int i = 0; i < 50; i++) m.invoke(dcmd, "compilerCodecache", noArgs, sa);
            long[] t = new long[calls];
            for (int i = 0; i < calls; i++) {
                long s = System.nanoTime();
                m.invoke(dcmd, "compilerCodecache", noArgs, sa);
                t[i] = System.nanoTime() - s;
            }
            Arrays.sort(t);
            System.out.printf("java codecache_us median=%.0f p90=%.0f%n", t[calls / 2] / 1e3, t[calls * 9 / 10] / 1e3);
            String[] l = {"long"};
            for (int r = 0; r < streams; r++) {
                long id = (Long) m.invoke(jfr, "takeSnapshot", new Object[0], new String[0]);
                long s = System.nanoTime();
                long sid = (Long) m.invoke(jfr, "openStream", new Object[]{id, null},
                        new String[]{"long", "javax.management.openmbean.TabularData"});
                long bytes = 0;
                byte[] b;
                while ((b = (byte[]) m.invoke(jfr, "readStream", new Object[]{sid}, l)) != null) bytes += b.length;
                m.invoke(jfr, "closeStream", new Object[]{sid}, l);
                double secs = (System.nanoTime() - s) / 1e9;
                m.invoke(jfr, "closeRecording", new Object[]{id}, l);
                System.out.printf("java stream bytes=%d secs=%.3f MB/s=%.1f%n", bytes, secs, bytes / secs / 1e6);
            }
        }
    }
}
