package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigFile;
import io.meshegress.config.ConfigLoader;
import io.meshegress.config.EgressConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code -c FILE}, shared by every command; no file means the embedded defaults. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "YAML configuration file (default: the embedded defaults)")
    Path file;


    private String text;

    /** The configuration: the file's text as {@link #text()} read it, parsed. */
    EgressConfig load() throws ConfigException {
        return file == null ? ConfigLoader.embeddedDefault() : ConfigLoader.parse(file.toString(), text());
    }

    /**
     * The file's text as written (for the in-cluster ConfigMap), read once with every check of
     * {@link ConfigFile}, so that what is parsed is exactly what is shipped.
     */
    String text() throws ConfigException {
        if (file == null) {
            return ConfigLoader.embeddedDefaultText();
        }
        if (text == null) {
            text = ConfigFile.read(file);
        }
        return text;
    }

    String name() {
        return file == null ? ConfigLoader.EMBEDDED_DEFAULT : file.toString();
    }
}
