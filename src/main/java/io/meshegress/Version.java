package io.meshegress;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The version, git commit and build date Maven wrote into the jar ("unknown" when run from unpackaged classes without
 * resources, or built outside a git checkout). The jar's manifest carries the same two as
 * {@code Implementation-Version} and {@code Build-Commit}.
 */
public final class Version {
    private static final Properties BUILD = read();
    public static final String VERSION = BUILD.getProperty("version", "unknown");
    public static final String COMMIT = BUILD.getProperty("commit", "unknown");
    /** When the jar was built, UTC, ISO 8601. */
    public static final String BUILD_DATE = BUILD.getProperty("date", "unknown");

    private Version() {
    }

    private static Properties read() {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("/mesh-egress-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // fall through to "unknown"
        }
        return p;
    }
}
