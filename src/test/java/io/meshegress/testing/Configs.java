package io.meshegress.testing;

/** Config texts more than one test class runs on. */
public final class Configs {
    private Configs() {
    }

    /** The write-up's setup: `*.qq.com` on 80 and 443 through a proxy outside the cluster at 10.0.0.1. */
    public static final String WRITEUP = """
            http:
              listen: "0.0.0.0:8080"
            sni:
              - listen: "0.0.0.0:8443"
                upstreamPort: 443
            mesh:
              proxy:
                addresses: ["10.0.0.1"]
              destinations:
                - hosts: ["*.qq.com"]
                  http: [80]
                  tls: [443]
            """;
}
