package io.meshegress.admin;

import io.meshegress.explain.RouteExplanation;
import io.meshegress.observe.AccessEntry;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.observe.StatusBoard;
import io.meshegress.proxy.Admission;
import io.meshegress.proxy.ProxyRuntime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The admin listener's {@code GET /}: one HTML page with no script and no external asset (it must work on an
 * air-gapped host, and under a Content-Security-Policy that forbids both), answering an operator's questions:
 * what is each listener doing, which configuration serves and did the last reload fail, what was refused lately
 * and by which rule, and, through a form, what the route table says of a host for a client. Every value shown
 * is escaped: host names, reasons and even the config file's path can come from outside.
 */
public final class StatusPage {
    private StatusPage() {
    }

    /** Where the page's facts come from; the runtime is the one in force when the page is asked for. */
    public record Sources(Supplier<ProxyRuntime> runtime, StatusBoard board, Admission admission) {
    }

    /** A filter on the refusals, and an optional question for the explain form (null fields: not asked). */
    public record Query(String filter, String host, String port, Explain.Who who) {
        /** A question for a client address alone (or for any client: null). */
        public Query(String filter, String host, String port, String client) {
            this(filter, host, port, new Explain.Who(client, null, null));
        }
    }

    private static final String STYLE = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
            + "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}table{border-collapse:collapse}"
            + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}"
            + "th{background:#f2f2f2}.num{text-align:right}.refused{color:#a00}.allowed{color:#070}"
            + ".err{color:#a00;font-weight:bold}input{font:inherit}code{font-size:.95em}";

    static String html(Sources sources, ProxyMetrics metrics, boolean ready, Query q, Explain.Answer answer) {
        ProxyRuntime rt = sources.runtime().get();
        StatusBoard board = sources.board();
        StringBuilder b = new StringBuilder(16 * 1024);
        b.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>mesh-egress status</title>")
                .append("<style>").append(STYLE).append("</style></head><body>");
        b.append("<h1>mesh-egress</h1><p>").append(ready ? "ready" : "<span class=\"err\">not ready (starting, draining or waiting for the first list of pods)"
                + "</span>").append(" &middot; up ").append(esc(ago(board.started()))).append(" &middot; ")
                .append(sources.admission().open()).append(" open client connections</p>");
        listeners(b, metrics.byListener());
        configuration(b, board.config());
        explainForm(b, q, answer);
        refusals(b, board.refusals(), q.filter());
        b.append("<p>Also: <a href=\"/metrics\">/metrics</a>, <a href=\"/refusals\">/refusals</a> (JSON), ")
                .append("<code>/explain?host=&amp;port=&amp;client=&amp;workload=&amp;namespaceLabels=</code> (JSON), <a href=\"/healthz\">/healthz</a>, ")
                .append("<a href=\"/readyz\">/readyz</a>. Configuration in force: ")
                .append(rt == null ? "none" : rt.config().listeners().size() + " listeners").append(".</p>");
        return b.append("</body></html>").toString();
    }

    private static void listeners(StringBuilder b, List<ProxyMetrics.ListenerTraffic> traffic) {
        b.append("<h2>Listeners</h2><table id=\"listeners\"><tr><th>listener</th><th>open tunnels</th>")
                .append("<th>handled</th><th>refused</th><th>bytes up</th><th>bytes down</th></tr>");
        if (traffic.isEmpty()) {
            b.append("<tr><td colspan=\"6\">no traffic yet</td></tr>");
        }
        for (ProxyMetrics.ListenerTraffic t : traffic) {
            b.append("<tr><td>").append(esc(t.listener())).append("</td>")
                    .append(num(t.tunnelsOpen())).append(num(t.handled())).append(num(t.refused()))
                    .append(num(t.bytesUp())).append(num(t.bytesDown())).append("</tr>");
        }
        b.append("</table><p>Handled: connections (sni, connect) and requests (http) that ended.</p>");
    }

    private static void configuration(StringBuilder b, StatusBoard.ConfigState c) {
        b.append("<h2>Configuration</h2><table id=\"configuration\"><tr><th>file</th><td>").append(esc(c.file()))
                .append("</td></tr><tr><th>loaded</th><td>").append(esc(when(c.loadedAt()))).append("</td></tr>")
                .append("<tr><th>last rejected reload</th><td>");
        if (c.rejectedAt() == null) {
            b.append("none");
        } else {
            b.append(esc(when(c.rejectedAt()))).append(": <span class=\"err\" id=\"rejection\">")
                    .append(esc(c.rejection())).append("</span> (the configuration loaded before keeps serving)");
        }
        b.append("</td></tr></table>");
    }

    private static void explainForm(StringBuilder b, Query q, Explain.Answer answer) {
        b.append("<h2>Explain</h2><form method=\"get\" action=\"/\"><label>host[:port] <input name=\"host\" value=\"")
                .append(esc(q.host())).append("\" size=\"32\" required></label> <label>port <input name=\"port\" value=\"")
                .append(esc(q.port())).append("\" size=\"6\"></label> <label>client <input name=\"client\" value=\"")
                .append(esc(q.who().client())).append("\" size=\"16\" placeholder=\"any\"></label> ")
                .append("<label>workload <input name=\"workload\" value=\"").append(esc(q.who().workload()))
                .append("\" size=\"24\" placeholder=\"NS/SA?KEY=VALUE,...\"></label> ")
                .append("<label>namespace labels <input name=\"namespaceLabels\" value=\"")
                .append(esc(q.who().namespaceLabels())).append("\" size=\"20\" placeholder=\"KEY=VALUE,...\"></label> ")
                .append("<button type=\"submit\">explain</button></form>");
        if (answer == null) {
            return;
        }
        b.append("<div id=\"explanation\">");
        if (answer.error() != null) {
            b.append("<p class=\"err\">").append(esc(answer.error())).append("</p></div>");
            return;
        }
        if (answer.workload() != null) {
            b.append("<p>").append(esc(answer.workload().assumption("namespace labels"))).append("</p>");
        }
        if (answer.role() != null) {
            b.append("<p>").append(esc(answer.role().text())).append("</p>");
        }
        b.append("<table><tr><th>via</th><th>target</th><th>verdict</th></tr>");
        for (RouteExplanation.Route r : answer.routes()) {
            b.append("<tr><td>").append(esc(r.listener())).append(r.kind().equals("sni") ? "" : " (" + r.kind() + ")")
                    .append("</td><td>").append(esc(r.target())).append("</td><td class=\"")
                    .append(r.allowed() ? "allowed" : "refused").append("\">").append(esc(r.verdict()))
                    .append("</td></tr>");
        }
        b.append("</table></div>");
    }

    private static void refusals(StringBuilder b, List<AccessEntry> all, String filter) {
        List<AccessEntry> shown = RefusalFilter.apply(all, filter);
        b.append("<h2>Last refusals</h2><form method=\"get\" action=\"/\"><label>filter <input name=\"filter\" value=\"")
                .append(esc(filter)).append("\" size=\"32\" placeholder=\"host, client, namespace, rule, status ...\"></label> ")
                .append("<button type=\"submit\">filter</button></form><p>").append(shown.size()).append(" of ")
                .append(all.size()).append(" kept (the last ").append(StatusBoard.REFUSALS).append("), newest first.</p>")
                .append("<table id=\"refusals-by-namespace\"><tr><th>namespace</th><th>refusals</th></tr>");
        for (RefusalCount.ByNamespace n : RefusalCount.byNamespace(all)) {
            b.append("<tr><td>").append(n.namespace() == null ? "(no pod)" : esc(n.namespace())).append("</td>")
                    .append(num(n.count())).append("</tr>");
        }
        b.append("</table><p>Refusals by the client's namespace, of the ").append(all.size())
                .append(" kept; (no pod): a client the cluster does not name.</p>")
                .append("<table id=\"refusals\"><tr><th>time</th><th>client</th><th>namespace</th><th>host</th>")
                .append("<th>port</th><th>listener</th><th>role</th><th>rule</th><th>status</th></tr>");
        for (AccessEntry e : shown) {
            b.append("<tr><td>").append(esc(e.time().toString())).append("</td><td>").append(esc(e.client()))
                    .append("</td><td>").append(e.workload() == null ? "" : esc(e.workload().namespace()))
                    .append("</td><td>").append(esc(e.host())).append("</td><td class=\"num\">").append(e.port() > 0 ? Integer.toString(e.port()) : "-")
                    .append("</td><td>")
                    .append(esc(e.listener())).append("</td><td>").append(esc(e.role())).append("</td><td>")
                    .append(esc(e.reason())).append("</td><td>").append(e.status())
                    .append(e.alert() == null ? "" : " " + esc(e.alert())).append("</td></tr>");
        }
        b.append("</table>");
    }

    private static String num(long n) {
        return "<td class=\"num\">" + String.format(Locale.ROOT, "%,d", n) + "</td>";
    }

    private static String when(Instant t) {
        return t == null ? "-" : t + " (" + ago(t) + " ago)";
    }

    private static String ago(Instant t) {
        Duration d = Duration.between(t, Instant.now());
        long s = Math.max(0, d.getSeconds());
        return s < 120 ? s + " s" : s < 7200 ? s / 60 + " min" : s / 3600 + " h";
    }

    /** HTML-escapes text for element content and quoted attribute values; null is shown as nothing. */
    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append("&#").append((int) c).append(';');
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
