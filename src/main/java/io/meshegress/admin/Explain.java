package io.meshegress.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.explain.RouteExplanation;
import io.meshegress.explain.RouteExplanation.Target;
import io.meshegress.config.EgressConfig;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.RouteTable;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * {@code /explain?host=&port=&client=} and the status page's form: the route table's answer for a host (and
 * port, and client) under the configuration in force, the same lines {@code check --client} prints.
 */
final class Explain {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Explain() {
    }

    /** The answer, or why the question could not be asked ({@code error}; then the rest is empty). */
    record Answer(String host, Integer port, String client, RouteExplanation.ClientRole role,
                  List<RouteExplanation.Route> routes, String error) {
        static Answer invalid(String error) {
            return new Answer(null, null, null, null, List.of(), error);
        }
    }

    static Answer ask(ProxyRuntime runtime, String host, String port, String client) {
        return runtime == null ? ask(null, null, host, port, client)
                : ask(runtime.config(), runtime.routes(), host, port, client);
    }

    /** @param cfg the configuration in force (null: none yet) and {@code routes} its route table */
    static Answer ask(EgressConfig cfg, RouteTable routes, String host, String port, String client) {
        if (host == null || host.isBlank()) {
            return Answer.invalid("host is required (HOST, HOST:PORT or [IPv6]:PORT)");
        }
        if (cfg == null) {
            return Answer.invalid("no configuration is in force yet");
        }
        String asked = host.strip();
        if (port != null && !port.isBlank()) {
            String p = port.strip();
            if (!p.matches("[0-9]{1,5}") || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
                return Answer.invalid("port " + quoteShort(p) + " is not a port (1-65535)");
            }
            asked = (asked.indexOf(':') >= 0 && !asked.startsWith("[") ? "[" + asked + "]" : asked) + ":" + p;
        }
        Optional<Target> target = Target.parse(asked);
        if (target.isEmpty()) {
            return Answer.invalid(quoteShort(asked) + " is not HOST or HOST:PORT");
        }
        InetAddress clientAddress = null;
        if (client != null && !client.isBlank()) {
            byte[] bytes = NetUtil.createByteArrayFromIpAddressString(client.strip());
            if (bytes == null) {
                return Answer.invalid("client " + quoteShort(client) + " is not an IP address");
            }
            try {
                clientAddress = InetAddress.getByAddress(bytes);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        RouteExplanation.ClientRole role = clientAddress != null || !cfg.policy().roles().isEmpty()
                ? RouteExplanation.role(routes, clientAddress) : null;
        return new Answer(target.get().host(), target.get().port(),
                clientAddress == null ? null : clientAddress.getHostAddress(), role,
                RouteExplanation.routes(cfg, routes, clientAddress, target.get()), null);
    }

    static String json(Answer a) {
        ObjectNode n = JSON.createObjectNode();
        if (a.error() != null) {
            n.put("error", a.error());
            return n.toString();
        }
        n.put("host", a.host());
        if (a.port() == null) {
            n.putNull("port");
        } else {
            n.put("port", a.port());
        }
        n.put("client", a.client());
        if (a.role() != null) {
            n.putObject("role").put("name", a.role().role()).put("reason", a.role().reason()).put("mode", a.role().mode());
        }
        ArrayNode routes = n.putArray("routes");
        for (RouteExplanation.Route r : a.routes()) {
            routes.addObject().put("listener", r.listener()).put("kind", r.kind()).put("target", r.target())
                    .put("reachable", r.reachable()).put("allowed", r.allowed()).put("verdict", r.verdict())
                    .put("text", r.text());
        }
        return n.toString();
    }

    /** A value from the query string, quoted and cut short for an error line. */
    private static String quoteShort(String s) {
        return io.meshegress.text.Quote.shortly(s);
    }
}
