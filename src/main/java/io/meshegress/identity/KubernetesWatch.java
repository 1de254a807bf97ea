package io.meshegress.identity;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.ReducedStateItemStore;
import io.meshegress.config.EgressConfig;
import java.io.File;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's pods and namespaces, watched with fabric8's shared informers (list, then watch; a resync; a
 * relist after 410 Gone and after any broken watch, which the informers do themselves), reduced as they arrive
 * to what {@link PodDirectory} keeps. The informers' own stores keep no whole Pods: the pods' store a key and
 * resourceVersion per pod, the namespaces' store their labels.
 * If the API server goes away the directory keeps serving what it knew, and {@link #stalenessSeconds()} grows.
 */
public final class KubernetesWatch implements Identities, TokenReviewer, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesWatch.class);
    private static final long RESYNC_MILLIS = 10 * 60 * 1000L;

    private final PodDirectory directory = new PodDirectory();
    private final KubernetesClient client;
    /** TokenReviews: the same API server and credentials, without the client's own retries (see start). */
    private final KubernetesClient reviews;
    private final SharedIndexInformer<Pod> pods;
    private final SharedIndexInformer<Namespace> namespaces;
    private final ScheduledExecutorService clock;
    private volatile long lastWatchingNanos = System.nanoTime();
    private volatile boolean everSynced;
    /*
     * The informers' stores fill before their handlers have run: hasSynced() is true while the directory may still
     * lack pods of the first list. Until it has seen every pod and namespace the stores hold, the proxy is not
     * ready (else a pod's first connections get the default role). Emptied once ready.
     */
    private final java.util.Set<String> podsDelivered = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.Set<String> namespacesDelivered = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Starts the watch; it lists in the background (and retries until the API server answers). */
    public static KubernetesWatch start(EgressConfig.Kubernetes settings) {
        Config base = settings.kubeconfig().isEmpty() ? Config.autoConfigure(null)
                : Config.fromKubeconfig(new File(settings.kubeconfig()));
        // Reconnect soon after the API server comes back (the informer backs off from this interval).
        // No connect timeout of the JDK client's own: with one set, each connection keeps its connect timer, and the
        // timer the first exchange on that connection, response body included, for the connection's life. The
        // first exchange is the pods' list (75 MB of JSON for 50,000 pods), the connection then carries the
        // watch for hours. The list's request timeout still bounds its connect.
        Config config = new ConfigBuilder(base).withWatchReconnectInterval(1000).withWatchReconnectLimit(-1)
                .withConnectionTimeout(0).build();
        // A TokenReview is asked for by requests that wait for its answer: fabric8 retries a failed request ten
        // times with a growing back-off (a minute and a half against an API server that answers 500), so reviews
        // go out without retries; an unanswered one is not remembered, and the next request asks again.
        Config reviewConfig = new ConfigBuilder(config).withRequestRetryBackoffLimit(0).build();
        return new KubernetesWatch(new KubernetesClientBuilder().withConfig(config).build(),
                new KubernetesClientBuilder().withConfig(reviewConfig).build());
    }

    private KubernetesWatch(KubernetesClient client, KubernetesClient reviews) {
        this.client = client;
        this.reviews = reviews;
        // The pods' store keeps each pod's key and resourceVersion only (what a relist needs to find the pods
        // that went away); the directory is the one copy of the facts. Namespaces are few: theirs keeps labels.
        this.pods = client.pods().inAnyNamespace().runnableInformer(RESYNC_MILLIS)
                .itemStore(new ReducedStateItemStore<>(ReducedStateItemStore.UID_KEY_STATE, Pod.class,
                        client.getKubernetesSerialization()));
        this.namespaces = client.namespaces().runnableInformer(RESYNC_MILLIS)
                .itemStore(new ReducedStateItemStore<>(ReducedStateItemStore.NAME_KEY_STATE, Namespace.class,
                        client.getKubernetesSerialization(), "metadata.labels"));
        pods.exceptionHandler((started, t) -> retry("pods", t));
        namespaces.exceptionHandler((started, t) -> retry("namespaces", t));
        namespaces.addEventHandler(new ResourceEventHandler<Namespace>() {
            @Override
            public void onAdd(Namespace ns) {
                directory.namespaceChanged(ns.getMetadata().getName(), labels(ns.getMetadata().getLabels()));
                delivered(namespacesDelivered, ns.getMetadata().getName());
            }

            @Override
            public void onUpdate(Namespace old, Namespace ns) {
                onAdd(ns);
            }

            @Override
            public void onDelete(Namespace ns, boolean finalStateUnknown) {
                directory.namespaceDeleted(ns.getMetadata().getName());
                delivered(namespacesDelivered, ns.getMetadata().getName());
            }
        });
        pods.addEventHandler(new ResourceEventHandler<Pod>() {
            @Override
            public void onAdd(Pod pod) {
                directory.podChanged(facts(pod));
                delivered(podsDelivered, pod.getMetadata().getUid());
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                if (old == pod) {
                    return; // a resync hands back the store's own copy, which holds the key alone: nothing new
                }
                directory.podChanged(facts(pod));
                delivered(podsDelivered, pod.getMetadata().getUid());
            }

            @Override
            public void onDelete(Pod pod, boolean finalStateUnknown) {
                directory.podDeleted(pod.getMetadata().getUid());
                delivered(podsDelivered, pod.getMetadata().getUid());
            }
        });
        this.clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "identity-staleness");
            t.setDaemon(true);
            return t;
        });
        clock.scheduleAtFixedRate(this::observe, 0, 500, TimeUnit.MILLISECONDS);
        namespaces.start();
        pods.start();
    }

    private static boolean retry(String what, Throwable t) {
        LOG.warn("identity.kubernetes: watching {} failed, retrying: {}", what, String.valueOf(t.getMessage()));
        return true;
    }

    private void observe() {
        boolean synced = everSynced || firstListDelivered();
        if (synced && pods.isWatching() && namespaces.isWatching()) {
            lastWatchingNanos = System.nanoTime();
        }
    }

    static PodFacts facts(Pod pod) {
        List<String> addresses = new ArrayList<>();
        if (pod.getStatus() != null) {
            List<PodIP> ips = pod.getStatus().getPodIPs();
            if (ips != null) {
                ips.stream().map(PodIP::getIp).filter(Objects::nonNull).forEach(addresses::add);
            }
            if (addresses.isEmpty() && pod.getStatus().getPodIP() != null) {
                addresses.add(pod.getStatus().getPodIP());
            }
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        boolean hostNetwork = pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork());
        String serviceAccount = pod.getSpec() == null || pod.getSpec().getServiceAccountName() == null ? "default"
                : pod.getSpec().getServiceAccountName();
        return new PodFacts(pod.getMetadata().getUid(), pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
                serviceAccount, labels(pod.getMetadata().getLabels()), addresses, hostNetwork,
                "Succeeded".equals(phase) || "Failed".equals(phase));
    }

    private static Map<String, String> labels(Map<String, String> labels) {
        return labels == null ? Map.of() : labels;
    }

    @Override
    public ClientIdentity identify(InetAddress client) {
        if (!ready()) {
            return ClientIdentity.NOT_READY;
        }
        var w = directory.workload(client);
        return w == null ? ClientIdentity.NO_POD : new ClientIdentity.Pod(w);
    }

    @Override
    public boolean ready() {
        // Only the clock (every 500 ms) compares the stores with the directory: a connection accepted before the
        // first list is in must not pay a walk over every pod.
        return everSynced;
    }

    /** Whether both first lists are in and the directory has taken every object of them (then: ready for good). */
    private synchronized boolean firstListDelivered() {
        if (everSynced) {
            return true;
        }
        if (!pods.hasSynced() || !namespaces.hasSynced()
                || !pods.getStore().list().stream().allMatch(p -> podsDelivered.contains(p.getMetadata().getUid()))
                || !namespaces.getStore().list().stream()
                        .allMatch(n -> namespacesDelivered.contains(n.getMetadata().getName()))) {
            return false;
        }
        everSynced = true;
        podsDelivered.clear();
        namespacesDelivered.clear();
        LOG.info("identity.kubernetes: first list in ({} pod addresses)", directory.size());
        return true;
    }

    private void delivered(java.util.Set<String> seen, String key) {
        if (!everSynced) {
            seen.add(key);
        }
    }

    @Override
    public TokenReviewer tokenReviewer() {
        return this;
    }

    /** A TokenReview of {@code token} for {@code audience}, created with the watch's kubeconfig, tried once. */
    @Override
    public Review review(String token, String audience) {
        TokenReview asked = new TokenReviewBuilder().withNewSpec().withToken(token).withAudiences(audience)
                .endSpec().build();
        TokenReview answer = reviews.authentication().v1().tokenReviews().create(asked);
        TokenReviewStatus s = answer.getStatus();
        if (s == null) {
            return new Review(false, null, List.of());
        }
        return new Review(Boolean.TRUE.equals(s.getAuthenticated()), s.getUser() == null ? null
                : s.getUser().getUsername(), s.getAudiences());
    }

    @Override
    public Map<String, String> namespaceLabels(String namespace) {
        return directory.namespaceLabels(namespace);
    }

    /** Seconds since both watches were last known to be open (0 while they are; counted from start until then). */
    public double stalenessSeconds() {
        return (System.nanoTime() - lastWatchingNanos) / 1e9;
    }

    @Override
    public void close() {
        clock.shutdownNow();
        pods.stop();
        namespaces.stop();
        client.close();
        reviews.close();
    }
}
