package io.meshegress.testing;

/** Config texts more than one test class runs on. */
public final class Configs {
    private Configs() {
    }

    /**
     * {@code yaml} with the embedded default's listeners added at its end (so its line numbers stay), each only
     * when the file does not write that key itself: for tests of other sections that relied on a file getting
     * the listeners it did not write (nothing is bound by a test that only loads the file).
     */
    public static String withDefaultListeners(String yaml) {
        StringBuilder out = new StringBuilder(yaml);
        if (!yaml.isEmpty() && !yaml.endsWith("\n")) {
            out.append('\n');
        }
        if (!java.util.regex.Pattern.compile("(?m)^http:").matcher(yaml).find()) {
            out.append("http: {listen: \"0.0.0.0:8080\"}\n");
        }
        if (!java.util.regex.Pattern.compile("(?m)^sni:").matcher(yaml).find()) {
            out.append("sni: [{listen: \"0.0.0.0:8443\", upstreamPort: 443}]\n");
        }
        return out.toString();
    }

    /** {@link io.meshegress.config.ConfigLoader#parse} of {@link #withDefaultListeners}. */
    public static io.meshegress.config.EgressConfig parseWithDefaultListeners(String file, String yaml)
            throws io.meshegress.config.ConfigException {
        return io.meshegress.config.ConfigLoader.parse(file, withDefaultListeners(yaml));
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
