package io.meshegress.admin;

import java.util.Optional;

/**
 * The admin listener's routes and who may ask each. Probes and metrics are for kubelet and Prometheus, whoever
 * reaches the port; the pages show every client's address and destinations, so only page clients may read them.
 */
enum AdminRoute {
    STATUS_PAGE("/", Audience.PAGE_CLIENTS),
    REFUSALS("/refusals", Audience.PAGE_CLIENTS),
    EXPLAIN("/explain", Audience.PAGE_CLIENTS),
    HEALTHZ("/healthz", Audience.ANYONE),
    READYZ("/readyz", Audience.ANYONE),
    METRICS("/metrics", Audience.ANYONE);

    /** Who a route answers. */
    enum Audience { ANYONE, PAGE_CLIENTS }

    final String path;
    final Audience audience;

    AdminRoute(String path, Audience audience) {
        this.path = path;
        this.audience = audience;
    }

    /** The route at exactly this (decoded) path, or empty: an unknown path. */
    static Optional<AdminRoute> at(String path) {
        for (AdminRoute r : values()) {
            if (r.path.equals(path)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
