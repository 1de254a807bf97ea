package io.meshegress.config;

import java.util.Map;

/**
 * Where a configuration came from: the file's name and the line and column of every key path in it, so that
 * problems found after loading (by {@code istio} and {@code check}) still point into the file.
 * Two sources are equal when they name the same file: positions are for messages, not identity.
 */
public record ConfigSource(String file, Map<String, YamlNode.Position> positions) {

    public ConfigSource {
        positions = Map.copyOf(positions);
    }

    /** A problem at a key path ({@code mesh.destinations[0].tls[1]}); the position is used when known. */
    public ConfigException error(String path, String message) {
        YamlNode.Position p = positions.get(path);
        return new ConfigException(file, p == null ? 0 : p.line(), p == null ? 0 : p.column(), path, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigSource && ((ConfigSource) o).file.equals(file);
    }

    @Override
    public int hashCode() {
        return file.hashCode();
    }

    @Override
    public String toString() {
        return file;
    }
}
