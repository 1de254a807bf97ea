package io.meshegress.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshegress.explain.RouteExplanation;
import io.meshegress.explain.RouteExplanation.Target;
import io.meshegress.explain.WorkloadQuestion;
import io.meshegress.config.EgressConfig;
import io.meshegress.proxy.ProxyRuntime;
import io.meshegress.proxy.RouteTable;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * {@code /explain?host=&port=&client=&workload=&namespaceLabels=} and the status page's form: the route table's
 * answer for a host (and port, and client or workload) under the configuration in force, the same lines
 * {@code check --client} and {@code check --workload} print.
 */
final class Explain {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Explain() {
    }

    /**
     * Whom the question is for, as the query string gives it (null or blank: not asked): a client address, a
     * workload {@code NS/SA[?KEY=VALUE,...]} (with an address: the pod at that address) and its namespace's labels,
     * or a Basic user (a request with that user's good credential; never a credential itself).
     */
    record Who(String client, String workload, String namespaceLabels, String user) {
        Who(String client, String workload, String namespaceLabels) {
            this(client, workload, namespaceLabels, null);
        }
    }

    /** The answer, or why the question could not be asked ({@code error}; then the rest is empty). */
    record Answer(String host, Integer port, String client, WorkloadQuestion workload,
                  RouteExplanation.ClientRole role, List<RouteExplanation.Route> routes, String error, String user,
                  String warning) {
        Answer(String host, Integer port, String client, WorkloadQuestion workload, RouteExplanation.ClientRole role,
               List<RouteExplanation.Route> routes, String error) {
            this(host, port, client, workload, role, routes, error, null, null);
        }

        static Answer invalid(String error) {
            return new Answer(null, null, null, null, null, List.of(), error);
        }
    }

    static Answer ask(ProxyRuntime runtime, String host, String port, Who who) {
        return runtime == null ? ask(null, null, host, port, who)
                : ask(runtime.config(), runtime.routes(), host, port, who);
    }

    static Answer ask(EgressConfig cfg, RouteTable routes, String host, String port, String client) {
        return ask(cfg, routes, host, port, new Who(client, null, null));
    }

    /** @param cfg the configuration in force (null: none yet) and {@code routes} its route table */
    static Answer ask(EgressConfig cfg, RouteTable routes, String host, String port, Who who) {
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
        String client = who.client();
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
        WorkloadQuestion workload = null;
        boolean namespaceLabels = who.namespaceLabels() != null && !who.namespaceLabels().isBlank();
        if (who.workload() != null && !who.workload().isBlank()) {
            WorkloadQuestion.Parsed parsed = WorkloadQuestion.parse(who.workload(), who.namespaceLabels());
            if (parsed instanceof WorkloadQuestion.Invalid invalid) {
                return Answer.invalid("workload " + quoteShort(who.workload()) + (namespaceLabels
                        ? " namespaceLabels " + quoteShort(who.namespaceLabels()) : "") + ": " + invalid.reason()
                        + " (expected " + WorkloadQuestion.SYNTAX + ")");
            }
            workload = ((WorkloadQuestion.Valid) parsed).question();
        } else if (namespaceLabels) {
            return Answer.invalid("namespaceLabels describes the namespace of workload: give workload too");
        }
        String user = who.user() == null || who.user().isBlank() ? null : who.user();
        if (user != null) {
            if (workload != null) {
                return Answer.invalid("user asks for a request with that user's credential, workload for a pod: "
                        + "give one");
            }
            String problem = io.meshegress.config.HtpasswdFile.userProblem(user);
            if (problem != null) {
                return Answer.invalid(problem);
            }
            return new Answer(target.get().host(), target.get().port(),
                    clientAddress == null ? null : clientAddress.getHostAddress(), null,
                    RouteExplanation.role(routes, clientAddress, user),
                    RouteExplanation.routesAsUser(cfg, routes, clientAddress, user, target.get()), null, user,
                    RouteExplanation.userProblem(cfg, user).orElse(null));
        }
        RouteExplanation.ClientRole role = clientAddress != null || workload != null
                || !cfg.policy().roles().isEmpty() ? RouteExplanation.role(routes, clientAddress, workload) : null;
        return new Answer(target.get().host(), target.get().port(),
                clientAddress == null ? null : clientAddress.getHostAddress(), workload, role,
                RouteExplanation.routes(cfg, routes, clientAddress, workload, target.get()), null);
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
        if (a.user() != null) {
            n.put("user", a.user());
        }
        if (a.warning() != null) {
            n.put("warning", a.warning());
        }
        if (a.workload() == null) {
            n.putNull("workload");
        } else {
            ObjectNode w = n.putObject("workload");
            w.put("namespace", a.workload().namespace()).put("serviceAccount", a.workload().serviceAccount());
            ObjectNode pod = w.putObject("podLabels");
            a.workload().podLabels().forEach(pod::put);
            ObjectNode ns = w.putObject("namespaceLabels");
            a.workload().namespaceLabels().forEach(ns::put);
            w.put("assumed", a.workload().assumption("namespaceLabels="));
        }
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
