package io.meshegress.cli;

import io.meshegress.Version;
import picocli.CommandLine;

/** {@code --version}: this build (version, commit, build date) and the Java runtime it runs on. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"mesh-egress " + Version.VERSION, "commit " + Version.COMMIT, "built " + Version.BUILD_DATE,
                "Java " + Runtime.version()};
    }
}
