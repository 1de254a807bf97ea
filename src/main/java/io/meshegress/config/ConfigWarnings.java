package io.meshegress.config;

import io.meshegress.policy.AllowEntry;
import io.meshegress.policy.HostPattern;
import java.util.ArrayList;
import java.util.List;

/**
 * What a valid file says that its author may not mean, one located line each ({@code file:line:col: warning:
 * key: ...}): an allow-list that opens every host, and a default role that reaches nothing because the file relied
 * on the old meaning of an empty allow-list. {@code check} prints them and {@code run} logs them.
 */
public final class ConfigWarnings {
    private ConfigWarnings() {
    }

    public static List<String> of(EgressConfig config) {
        List<String> out = new ArrayList<>();
        EgressConfig.Policy p = config.policy();
        ConfigSource source = config.source();
        if (p.allow().isEmpty() && config.mesh().destinations().isEmpty()) {
            String path = source.positions().containsKey("policy.allow") ? "policy.allow" : "policy";
            out.add(warning(source, path, "no allow-list and no mesh.destinations: "
                    + (p.roles().isEmpty() ? "no host is allowed" : "clients in no role may reach no host")
                    + ". An empty or absent policy.allow used to allow every host; to keep that, write "
                    + "allow: [\"*\"] under policy"));
        }
        anyHost(out, source, "policy.allow", p.allow(), "");
        for (int i = 0; i < p.roles().size(); i++) {
            EgressConfig.Role r = p.roles().get(i);
            anyHost(out, source, "policy.roles[" + i + "].allow", r.allow(), " for role " + r.name());
        }
        return List.copyOf(out);
    }

    private static void anyHost(List<String> out, ConfigSource source, String key, List<AllowEntry> allow,
                                String whose) {
        for (int i = 0; i < allow.size(); i++) {
            if (allow.get(i).host().kind() == HostPattern.Kind.ANY) {
                out.add(warning(source, key + "[" + i + "]", "\"*\" allows every host name" + whose
                        + allow.get(i).ports().map(ports -> " on ports " + ports).orElse("")
                        + " (only policy.deny and policy.denyNetworks still refuse)"));
            }
        }
    }

    private static String warning(ConfigSource source, String path, String message) {
        ConfigException located = source.error(path, message);
        return ConfigException.render(located.file(), located.line(), located.column(), "warning",
                path + ": " + message);
    }
}
