package io.meshegress.config;

/**
 * {@code identity.bearer}: Kubernetes service-account tokens made for {@code audience} (a projected token), each
 * checked by the API server's TokenReview through identity.kubernetes's client.
 */
public record BearerTokens(String audience) {
    public static final String DEFAULT_AUDIENCE = "mesh-egress";
}
