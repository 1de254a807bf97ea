package io.meshegress.cli;

import io.meshegress.Version;
import picocli.CommandLine;

/** {@code --version}: this build and the Java runtime it runs on. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"mesh-egress " + Version.VERSION, "Java " + Runtime.version()};
    }
}
