// A plain javax.management client of the hch agent's MBean, for the tests: prints its
// MBeanInfo and attributes, then invokes the operations named on the command line.
// Usage: java AgentJmxClient PORT USER|- PASSWORD|- [operation[:argument]]...
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class AgentJmxClient {
    public static void main(String[] a) throws Exception {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + a[0] + "/jmxrmi");
        Map<String, Object> env = new HashMap<>();
        if (!a[1].equals("-")) {
            env.put(JMXConnector.CREDENTIALS, new String[] { a[1], a[2] });
        }
        try (JMXConnector c = JMXConnectorFactory.connect(url, env)) {
            MBeanServerConnection s = c.getMBeanServerConnection();
            ObjectName n = new ObjectName("hch:type=HotCodeHelper");
            MBeanInfo info = s.getMBeanInfo(n);
            System.out.println("CLASS " + info.getClassName());
            for (MBeanAttributeInfo i : info.getAttributes()) {
                System.out.println("ATTR " + i.getName() + " " + i.getType() + " = " + show(s.getAttribute(n, i.getName())));
            }
            for (MBeanOperationInfo o : info.getOperations()) {
                System.out.println("OP " + o.getName() + " " + o.getSignature().length);
            }
            for (int i = 3; i < a.length; i++) {
                String[] p = a[i].split(":", 2);
                Object[] params = p.length > 1 ? new Object[] { p[1] } : new Object[0];
                String[] sig = p.length > 1 ? new String[] { "java.lang.String" } : new String[0];
                try {
                    System.out.println("INVOKE " + p[0] + " = " + show(s.invoke(n, p[0], params, sig)));
                } catch (SecurityException e) {
                    System.out.println("DENIED " + p[0] + ": " + e.getMessage());
                } catch (Exception e) {
                    System.out.println("FAILED " + p[0] + ": " + e);
                }
            }
        }
    }

    static String show(Object v) {
        return v instanceof String[] ? Arrays.toString((String[]) v) : String.valueOf(v).replace('\n', ' ');
    }
}
