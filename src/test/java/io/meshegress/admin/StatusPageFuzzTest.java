package io.meshegress.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import io.meshegress.observe.AccessEntry;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.observe.StatusBoard;
import io.meshegress.proxy.Admission;
import io.meshegress.proxy.RouteTable;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The status page and its JSON with every value a client, a config file or a query string can put there.
 * Invariants: nothing throws; the page holds only the elements and attributes the page itself writes (a value
 * can never open a tag or an event handler); /refusals and /explain are JSON that parse, and an explain answer
 * is either an error or a route per listener, for a client address, a workload and its namespace's labels alike.
 */
class StatusPageFuzzTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final EgressConfig CONFIG = load();
    static final RouteTable ROUTES = new RouteTable(CONFIG);
    static final Set<String> TAGS = Set.of("!doctype", "html", "head", "meta", "title", "style", "body", "h1", "h2",
            "p", "span", "table", "tr", "th", "td", "form", "label", "input", "button", "a", "code", "div");
    static final Set<String> ATTRIBUTES = Set.of("lang", "charset", "class", "id", "method", "action", "name",
            "value", "size", "required", "placeholder", "type", "colspan", "href");
    static final Pattern TAG = Pattern.compile("<\\s*/?\\s*([^\\s>/]+)([^>]*)>");
    static final Pattern ATTRIBUTE = Pattern.compile("([^\\s=\"']+)(?:=\"[^\"]*\")?");

    static EgressConfig load() {
        try {
            return ConfigLoader.parse("f.yaml", """
                    http: {listen: "127.0.0.1:8080"}
                    sni: [{listen: "0.0.0.0:8443", upstreamPort: 443}]
                    policy:
                      allow: ["*.qq.test"]
                      deny: ["deny.qq.test"]
                      roles:
                        - {name: payments, clients: ["10.1.0.0/16"], allow: ["api.stripe.test"]}
                        - {name: pay-teams, workloads: [{namespaceSelector: {team: pay}, podSelector: {app: api}}],
                           allow: ["*.adyen.test"]}
                    identity: {kubernetes: {}}
                    mesh: {destinations: []}
                    """);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @FuzzTest
    void pages(FuzzedDataProvider data) throws Exception {
        String host = data.consumeString(120);
        String port = data.consumeString(8);
        String client = data.consumeString(50);
        String filter = data.consumeString(40);
        String workload = data.consumeString(60);
        String namespaceLabels = data.consumeString(40);
        String namespace = data.consumeString(30);
        String reason = data.consumeString(200);
        String rejection = data.consumeString(200);
        String listener = data.consumeRemainingAsString();
        StatusBoard board = new StatusBoard();
        board.loaded(listener);
        board.rejected(rejection);
        board.record(new AccessEntry(Instant.EPOCH, listener, client, null, "default", "connect", host, 443, null,
                "refused", reason, null, 403, null, 0, 0, 0));
        board.record(new AccessEntry(Instant.EPOCH, listener, client, null, "pay-teams", "connect", host, 443, null,
                "refused", reason, null, 403, null, 0, 0, 0, new AccessEntry.Workload(namespace, "sa", "pod")));
        Explain.Who who = new Explain.Who(client, workload, namespaceLabels);
        Explain.Answer answer = Explain.ask(CONFIG, ROUTES, host, port, who);
        assertThat(answer.error() != null ? answer.routes().isEmpty() : !answer.routes().isEmpty()).isTrue();
        ProxyMetrics metrics = new ProxyMetrics();
        StatusPage.Sources sources = new StatusPage.Sources(() -> null, board, new Admission(metrics));
        String html = StatusPage.html(sources, metrics, true, new StatusPage.Query(filter, host, port, who), answer);
        Matcher m = TAG.matcher(html);
        while (m.find()) {
            String tag = m.group(1).toLowerCase(java.util.Locale.ROOT);
            assertThat(TAGS).as(m.group()).contains(tag);
            Matcher a = ATTRIBUTE.matcher(tag.equals("!doctype") ? "" : m.group(2));
            while (a.find()) {
                assertThat(ATTRIBUTES).as(m.group()).contains(a.group(1).toLowerCase(java.util.Locale.ROOT));
            }
        }
        JsonNode refusals = JSON.readTree(RefusalFilter.json(RefusalFilter.apply(board.refusals(), filter)));
        assertThat(refusals.isArray()).isTrue();
        JsonNode explained = JSON.readTree(Explain.json(answer));
        assertThat(explained.has("error") || explained.get("routes").size() == answer.routes().size()).isTrue();
        assertThat(List.of(html.length())).allMatch(n -> n < 200_000);
    }
}
