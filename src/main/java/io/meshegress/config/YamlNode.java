package io.meshegress.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed YAML value that remembers where it stood in the file and which key led to it, so that
 * every validation error can name file, line, column and key.
 */
public sealed interface YamlNode {
    Position position();

    /** The dotted key path ({@code policy.allow[2]}) of this node. */
    String path();

    /** What a user would call this kind of value, for "expected a list, got a string" messages. */
    String kind();

    /** 1-based line and column. */
    record Position(int line, int column) {
    }

    /**
     * A single value, with the form YAML gave it: {@code 443} is a number, {@code "443"} text. A key that takes a
     * number refuses text, so that a quoted port is the type error it is in Kubernetes and Istio.
     */
    record Scalar(String text, Form form, Position position, String path) implements YamlNode {
        /** Text as written (plain or quoted); a plain integer; any other plain number; true or false. */
        public enum Form { TEXT, INTEGER, OTHER_NUMBER, BOOLEAN }

        @Override
        public String kind() {
            return "a single value";
        }
    }

    record Null(Position position, String path) implements YamlNode {
        @Override
        public String kind() {
            return "null";
        }
    }

    record Sequence(List<YamlNode> items, Position position, String path) implements YamlNode {
        @Override
        public String kind() {
            return "a list";
        }
    }

    /** A mapping; keys keep file order so "unknown key" errors point at the first offender. */
    record Mapping(LinkedHashMap<String, Entry> entries, Position position, String path) implements YamlNode {
        @Override
        public String kind() {
            return "a mapping";
        }

        public Map<String, Entry> asMap() {
            return entries;
        }
    }

    record Entry(String key, Position keyPosition, YamlNode value) {
    }
}
