package io.meshegress.server;

import io.meshegress.config.EgressConfig;
import io.meshegress.identity.Identities;
import io.meshegress.identity.KubernetesWatch;
import io.meshegress.observe.ProxyMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's one source of client identities: the Kubernetes watch of the identity section read at start
 * (a watch outlives reloads; its first list takes a while, and a reload must not throw the map away), or
 * {@link Identities#NONE}.
 */
final class IdentityAtStart {
    private static final Logger LOG = LoggerFactory.getLogger(IdentityAtStart.class);

    private EgressConfig.Identity section;
    private Identities identities = Identities.NONE;

    /** The identities a runtime of {@code config} uses; the first call starts the watch, if the config has one. */
    synchronized Identities forConfig(EgressConfig config, ProxyMetrics metrics) {
        if (section == null) {
            section = config.identity();
            if (section.kubernetes() != null) {
                KubernetesWatch watch = KubernetesWatch.start(section.kubernetes());
                identities = watch;
                metrics.identityStaleness(watch::stalenessSeconds);
            }
        } else if (!java.util.Objects.equals(section.kubernetes(), config.identity().kubernetes())) {
            // identity.basic and identity.bearer follow every reload; only the watch is kept from the start.
            LOG.warn("identity.kubernetes: a changed watch takes effect at the next start; the running process keeps "
                    + "the one it started with");
        }
        return identities;
    }

    /** Whether clients can be named (always, without a watch). */
    boolean ready() {
        return identities.ready();
    }

    synchronized void close() {
        if (identities instanceof KubernetesWatch watch) {
            watch.close();
        }
    }
}
