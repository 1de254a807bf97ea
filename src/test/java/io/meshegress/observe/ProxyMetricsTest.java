package io.meshegress.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What /metrics holds before any traffic: every counter a config makes known, at 0 (Prometheus' increase() and
 * rate() need a sample before the first event), and listener labels without spaces that never collide.
 */
class ProxyMetricsTest {
    static final String CONFIG = """
            http: {listen: "127.0.0.1:3128"}
            sni:
              - {listen: "127.0.0.1:8443", upstreamPort: 443}
              - {listen: "[::1]:8443", upstreamPort: 443}
              - {listen: "0.0.0.0:9443"}
            policy:
              allow: ["a.test"]
              roles:
                - {name: batch, clients: ["10.1.0.0/16"], allow: ["b.test"], mode: report}
            """;

    @Test
    void listenerLabelsHaveNoSpacesAndNeverCollide() throws Exception {
        EgressConfig c = ConfigLoader.parse("e.yaml", CONFIG);
        assertThat(ListenerLabels.of(c)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "http 127.0.0.1:3128", "http",
                "sni 127.0.0.1:8443", "sni-127.0.0.1-8443",
                "sni [::1]:8443", "sni-[::1]-8443",
                "sni 0.0.0.0:9443", "sni-9443"));
        for (EgressConfig.Listener l : c.listeners()) {
            if (!(l instanceof EgressConfig.Admin)) {
                assertThat(ListenerLabels.accessLogName(l)).isIn(ListenerLabels.of(c).keySet());
            }
        }
    }

    @Test
    void everyCounterAKnownLabelSetNeedsIsThereAtZeroFromTheStart() throws Exception {
        ProxyMetrics m = new ProxyMetrics();
        m.expect(ConfigLoader.parse("e.yaml", CONFIG));
        Map<String, Double> s = samples(m.scrape());
        for (String listener : new String[] {"sni-127.0.0.1-8443", "sni-[::1]-8443", "sni-9443"}) {
            for (String role : new String[] {"default", "batch"}) {
                assertThat(s).containsEntry("meshegress_connections_total{decision=\"refused\",kind=\"sni\",listener=\""
                        + listener + "\",role=\"" + role + "\",status=\"403\"}", 0.0);
                assertThat(s).containsEntry("meshegress_connections_total{decision=\"allowed\",kind=\"sni\",listener=\""
                        + listener + "\",role=\"" + role + "\",status=\"200\"}", 0.0);
            }
            assertThat(s).containsEntry("meshegress_tunnels_active{listener=\"" + listener + "\"}", 0.0);
            assertThat(s).containsEntry("meshegress_transferred_bytes_total{direction=\"up\",kind=\"sni\",listener=\""
                    + listener + "\"}", 0.0);
        }
        for (String kind : new String[] {"http", "connect"}) {
            assertThat(s).containsEntry("meshegress_connections_total{decision=\"refused\",kind=\"" + kind
                    + "\",listener=\"http\",role=\"batch\",status=\"403\"}", 0.0);
        }
        assertThat(s).containsEntry("meshegress_config_reloads_total{result=\"failure\"}", 0.0)
                .containsEntry("meshegress_config_reloads_total{result=\"success\"}", 0.0)
                .containsEntry("meshegress_would_refuse_total{role=\"batch\"}", 0.0)
                .containsEntry("meshegress_would_refuse_total{role=\"default\"}", 0.0)
                .containsEntry("meshegress_access_log_dropped_total", 0.0)
                .containsEntry("meshegress_admission_refused_total{reason=\"connections_per_client\"}", 0.0)
                .containsEntry("meshegress_encrypted_client_hello_total{action=\"refused\",listener=\"http\"}", 0.0)
                .containsEntry("meshegress_upstream_connect_seconds_count{result=\"timeout\"}", 0.0)
                .containsEntry("meshegress_dns_resolve_seconds_count{result=\"timeout\",source=\"dns\"}", 0.0)
                .containsEntry("meshegress_dns_cache_hits_total", 0.0);
        assertThat(s.keySet()).anyMatch(k -> k.startsWith("meshegress_build_info{commit=\""));
        assertThat(s.keySet()).noneMatch(k -> k.contains("listener=\"") && k.matches(".*listener=\"[^\"]* [^\"]*\".*"));
    }

    @Test
    void aReloadsNewListenersAndRolesStartAtZeroAndTheOldOnesStay() throws Exception {
        ProxyMetrics m = new ProxyMetrics();
        m.expect(ConfigLoader.parse("e.yaml", CONFIG));
        m.expect(ConfigLoader.parse("e.yaml", CONFIG.replace("\"0.0.0.0:9443\"", "\"0.0.0.0:9444\"")
                .replace("name: batch", "name: nightly")));
        Map<String, Double> s = samples(m.scrape());
        assertThat(s).containsEntry("meshegress_would_refuse_total{role=\"nightly\"}", 0.0)
                .containsEntry("meshegress_would_refuse_total{role=\"batch\"}", 0.0)
                .containsEntry("meshegress_tunnels_active{listener=\"sni-9444\"}", 0.0)
                .containsEntry("meshegress_tunnels_active{listener=\"sni-9443\"}", 0.0);
    }

    /** name{labels} → value, from the Prometheus text format (labels in the order Micrometer writes them: sorted). */
    static Map<String, Double> samples(String text) {
        Map<String, Double> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*\\})?) (\\S+)$").matcher(text);
        while (m.find()) {
            out.put(m.group(1).replace(",}", "}"), Double.parseDouble(m.group(2)));
        }
        return out;
    }
}
