// A JVM whose own JMX connector drops connections idle for TIMEOUT_MS (the out-of-the-box
// agent's 120 s cannot be changed by a system property): for testing hch's keep-alive.
// Usage: java examples/JmxIdle.java PORT TIMEOUT_MS
import java.lang.management.ManagementFactory;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.util.Map;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;
import javax.management.remote.rmi.RMIJRMPServerImpl;

public class JmxIdle {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        System.setProperty("java.rmi.server.hostname", "127.0.0.1");
        Registry registry = LocateRegistry.createRegistry(port);
        Map<String, Object> env = Map.of("jmx.remote.x.server.connection.timeout", Long.parseLong(args[1]));
        // The stub goes into the registry by hand, as the JDK's own agent does: a /jndi/ URL needs
        // the jdk.naming.rmi module, which jlinked runtimes may leave out.
        RMIJRMPServerImpl impl = new RMIJRMPServerImpl(port, null, null, env);
        RMIConnectorServer server = new RMIConnectorServer(
                new JMXServiceURL("service:jmx:rmi://127.0.0.1:" + port), env, impl,
                ManagementFactory.getPlatformMBeanServer());
        server.start();
        registry.bind("jmxrmi", impl.toStub());
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
