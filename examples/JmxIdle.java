// A JVM whose own JMX connector drops connections idle for TIMEOUT_MS (the out-of-the-box
// agent's 120 s cannot be changed by a system property): for testing hch's keep-alive.
// Usage: java examples/JmxIdle.java PORT TIMEOUT_MS
import java.lang.management.ManagementFactory;
import java.rmi.registry.LocateRegistry;
import java.util.Map;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;

public class JmxIdle {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        System.setProperty("java.rmi.server.hostname", "127.0.0.1");
        LocateRegistry.createRegistry(port);
        JMXServiceURL url = new JMXServiceURL(
                "service:jmx:rmi://127.0.0.1:" + port + "/jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
        Map<String, Object> env = Map.of("jmx.remote.x.server.connection.timeout", Long.parseLong(args[1]));
        JMXConnectorServer server = JMXConnectorServerFactory.newJMXConnectorServer(
                url, env, ManagementFactory.getPlatformMBeanServer());
        server.start();
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
