package io.meshegress.config;

import io.meshegress.policy.Cidr;
import io.meshegress.policy.HostPattern;
import io.meshegress.text.Quote;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reading values out of a YAML tree with the contract's errors: every scalar, list and mapping reader turns a
 * wrong value into {@code file:line:col: key: message}, and unknown keys into an error with a suggestion.
 * {@link ConfigLoader} builds the model on top; this class knows no key of the model.
 */
abstract class YamlValueReader {
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    final String file;

    YamlValueReader(String file) {
        this.file = file;
    }

    String dnsLabel(YamlNode n, String what) throws ConfigException {
        String v = string(n);
        if (v.length() > 63 || !DNS_LABEL.matcher(v).matches()) {
            throw at(n, Quote.shortly(v) + " is not " + what + " (lower-case letters, digits and '-', at most 63)");
        }
        return v;
    }

    int positiveInt(YamlNode node) throws ConfigException {
        String text = string(node);
        try {
            int n = Integer.parseInt(text);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw at(node, Quote.shortly(text) + " is not a positive whole number");
    }

    static InetAddress ipAddress(String text) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(text.strip());
        if (bytes == null) {
            throw new IllegalArgumentException(Quote.shortly(text) + " is not an IP address");
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(Quote.shortly(text) + " is not an IP address");
        }
    }

    // ---- scalar readers --------------------------------------------------------------------

    HostPattern hostPattern(YamlNode node) throws ConfigException {
        return parseScalar(node, HostPattern::parse);
    }

    Cidr cidr(YamlNode node) throws ConfigException {
        return parseScalar(node, Cidr::parse);
    }

    /**
     * A port is a number, as in Kubernetes and Istio: {@code "443"} (quoted) is refused, whatever it holds, so that
     * a file does not pass here and fail in the mesh, and a templating slip does not pass as a port.
     */
    int port(YamlNode node) throws ConfigException {
        String text = string(node);
        if (((YamlNode.Scalar) node).form() == YamlNode.Scalar.Form.TEXT && Ports.parse(text).isPresent()) {
            throw at(node, Quote.shortly(text) + " is text; a port is a number: write " + text + " without quotes");
        }
        return Ports.parse(text).orElseThrow(() -> at(node, Quote.shortly(text) + " is not a port (1-65535)"));
    }

    Duration duration(YamlNode node) throws ConfigException {
        return parseScalar(node, Durations::parse);
    }

    Duration positiveDuration(YamlNode node) throws ConfigException {
        Duration d = duration(node);
        if (d.isZero()) {
            throw at(node, "must be longer than 0");
        }
        return d;
    }

    boolean bool(YamlNode node) throws ConfigException {
        String text = string(node);
        if (text.equals("true")) {
            return true;
        }
        if (text.equals("false")) {
            return false;
        }
        throw at(node, Quote.shortly(text) + " is not true or false");
    }

    /** One of a few words: {@code "x" is not a or b} (or {@code a, b or c}) otherwise. */
    String word(YamlNode node, String... allowed) throws ConfigException {
        String v = string(node);
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        String last = allowed[allowed.length - 1];
        String rest = String.join(", ", java.util.Arrays.asList(allowed).subList(0, allowed.length - 1));
        throw at(node, Quote.shortly(v) + " is not " + rest + " or " + last);
    }

    String string(YamlNode node) throws ConfigException {
        if (node instanceof YamlNode.Scalar) {
            return ((YamlNode.Scalar) node).text();
        }
        throw at(node, "expected a single value, got " + node.kind());
    }

    <T> T parseScalar(YamlNode node, Function<String, T> parser) throws ConfigException {
        String text = string(node);
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw at(node, e.getMessage());
        }
    }

    YamlNode.Mapping mapping(YamlNode node) throws ConfigException {
        if (node instanceof YamlNode.Mapping) {
            return (YamlNode.Mapping) node;
        }
        throw at(node, "expected a mapping (key: value), got " + node.kind());
    }

    interface NodeReader<T> {
        T read(YamlNode node) throws ConfigException;
    }

    <T> List<T> list(YamlNode node, NodeReader<T> reader) throws ConfigException {
        if (node instanceof YamlNode.Null) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence)) {
            throw at(node, "expected a list, got " + node.kind());
        }
        List<T> out = new ArrayList<>();
        for (YamlNode item : ((YamlNode.Sequence) node).items()) {
            out.add(reader.read(item));
        }
        return List.copyOf(out);
    }

    ConfigException at(YamlNode node, String message) {
        return new ConfigException(file, node.position().line(), node.position().column(), node.path(), message);
    }

    Fields fields(YamlNode node, ConfigSection section) throws ConfigException {
        if (!section.holds(node.path())) {
            // A programming error, not a user's: the documentation and the schema are checked against the sections.
            throw new IllegalStateException(node.path() + " read as section " + section + " (" + section.path() + ")");
        }
        String[] known = section.keys().toArray(String[]::new);
        if (node instanceof YamlNode.Null) {
            return new Fields(new YamlNode.Mapping(new LinkedHashMap<>(), node.position(), node.path()));
        }
        YamlNode.Mapping m = mapping(node);
        List<String> knownKeys = section.keys();
        for (YamlNode.Entry e : m.entries().values()) {
            if (!knownKeys.contains(e.key())) {
                String path = m.path().isEmpty() ? e.key() : m.path() + "." + e.key();
                throw new ConfigException(file, e.keyPosition().line(), e.keyPosition().column(), path,
                        "unknown key" + KeySuggestion.hint(e.key(), known));
            }
        }
        return new Fields(m);
    }

    /** The keys of one mapping, already checked against the known ones. */
    final class Fields {
        final YamlNode.Mapping mapping;

        Fields(YamlNode.Mapping mapping) {
            this.mapping = mapping;
        }

        boolean has(String key) {
            YamlNode.Entry e = mapping.entries().get(key);
            return e != null && !(e.value() instanceof YamlNode.Null);
        }

        boolean isExplicitNull(String key) {
            YamlNode.Entry e = mapping.entries().get(key);
            return e != null && e.value() instanceof YamlNode.Null;
        }

        YamlNode get(String key) {
            return mapping.entries().get(key).value();
        }

        YamlNode mappingOrEmpty(String key) {
            YamlNode.Entry e = mapping.entries().get(key);
            if (e == null) {
                String path = mapping.path().isEmpty() ? key : mapping.path() + "." + key;
                return new YamlNode.Null(mapping.position(), path);
            }
            return e.value();
        }

        String path() {
            return mapping.path();
        }

        YamlNode node() {
            return mapping;
        }
    }
}
