package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code -c FILE}, shared by every command; no file means the embedded defaults. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file (default: the embedded defaults)")
    Path file;


    EgressConfig load() throws ConfigException {
        return file == null ? ConfigLoader.embeddedDefault() : ConfigLoader.load(file);
    }

    /** The file's text as written (for the in-cluster ConfigMap). */
    String text() throws ConfigException {
        if (file == null) {
            return ConfigLoader.embeddedDefaultText();
        }
        try {
            return java.nio.file.Files.readString(file);
        } catch (java.io.IOException e) {
            throw new ConfigException(file.toString(), 0, 0, "", "cannot read: " + e.getMessage());
        }
    }

    String name() {
        return file == null ? ConfigLoader.EMBEDDED_DEFAULT : file.toString();
    }
}
