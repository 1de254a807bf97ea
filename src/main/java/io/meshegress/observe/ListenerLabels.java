package io.meshegress.observe;

import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code listener} label of the metrics, from the config: {@code http} for the HTTP listener (there is one),
 * {@code sni-8443} for an SNI listener whose port no other SNI listener shares, and {@code sni-10.0.0.1-8443}
 * (the address as written, IPv6 in brackets) for SNI listeners that share a port on different addresses, so
 * that no two listeners of one config share a label. No spaces, no colons: a label value a PromQL regex or a
 * Grafana legend takes as it is. The access log keeps naming listeners by address ({@code sni 0.0.0.0:8443}).
 */
public final class ListenerLabels {
    private ListenerLabels() {
    }

    /** Each proxy listener's access-log name to its metric label. */
    public static Map<String, String> of(EgressConfig config) {
        Map<Integer, Integer> sniPerPort = new HashMap<>();
        config.sni().forEach(s -> sniPerPort.merge(s.listen().port(), 1, Integer::sum));
        Map<String, String> out = new LinkedHashMap<>();
        for (EgressConfig.SniListener s : config.sni()) {
            ListenAddress a = s.listen();
            out.put(accessLogName(s), sniPerPort.get(a.port()) == 1 ? "sni-" + a.port()
                    : "sni-" + (a.host().contains(":") ? "[" + a.host() + "]" : a.host()) + "-" + a.port());
        }
        if (config.http() != null) {
            out.put(accessLogName(config.http()), "http");
        }
        return out;
    }

    /** How the access log (and the listener's pipeline) names a listener: its kind and address. */
    public static String accessLogName(EgressConfig.Listener listener) {
        return listener.kind() + " " + listener.listen();
    }

    /** A name no config gave a label (a listener a reload has just removed): the same without spaces. */
    static String fallback(String accessLogName) {
        return accessLogName.replace(' ', '-');
    }
}
