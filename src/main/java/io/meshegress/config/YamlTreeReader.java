package io.meshegress.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.meshegress.text.Quote;
import java.io.IOException;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Reads YAML text into {@link YamlNode}s with positions. Jackson's streaming parser does the YAML;
 * this class only keeps locations (which data binding would drop) and rejects duplicate keys, which
 * YAML forbids but most loaders silently resolve by taking the last one.
 */
final class YamlTreeReader {
    private static final YAMLFactory FACTORY = YAMLFactory.builder().build();

    private final String file;

    YamlTreeReader(String file) {
        this.file = file;
    }

    /** Parses a whole document; an empty document is an empty mapping. */
    YamlNode read(String text) throws ConfigException {
        try (JsonParser parser = FACTORY.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return new YamlNode.Mapping(new LinkedHashMap<>(), new YamlNode.Position(1, 1), "");
            }
            YamlNode root = readValue(parser, "");
            if (parser.nextToken() != null) {
                throw error(parser.currentTokenLocation(), "", "only one YAML document is allowed");
            }
            return root;
        } catch (JsonProcessingException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof MarkedYAMLException) {
                    // SnakeYAML knows where the problem is and what it is; Jackson's wrapper only the context.
                    MarkedYAMLException y = (MarkedYAMLException) t;
                    Mark mark = y.getProblemMark() != null ? y.getProblemMark() : y.getContextMark();
                    String what = y.getProblem() != null ? y.getProblem() : y.getContext();
                    String context = y.getContext() != null && y.getProblem() != null ? " " + y.getContext() : "";
                    throw new ConfigException(file, mark == null ? 0 : mark.getLine() + 1,
                            mark == null ? 0 : mark.getColumn() + 1, "", "invalid YAML: " + what + context);
                }
            }
            JsonLocation loc = e.getLocation();
            String message = e.getOriginalMessage();
            throw error(loc, "", "invalid YAML: " + firstLine(message));
        } catch (IOException e) {
            throw new ConfigException(file, 0, 0, "", "cannot read: " + e.getMessage());
        }
    }

    private YamlNode readValue(JsonParser parser, String path) throws IOException, ConfigException {
        JsonToken token = parser.currentToken();
        YamlNode.Position position = position(parser.currentTokenLocation());
        refuseAnchorsAndAliases((YAMLParser) parser, path);
        switch (token) {
            case START_OBJECT: {
                LinkedHashMap<String, YamlNode.Entry> entries = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String key = parser.currentName();
                    YamlNode.Position keyPosition = position(parser.currentTokenLocation());
                    String childPath = path.isEmpty() ? key : path + "." + key;
                    refuseAnchorsAndAliases((YAMLParser) parser, childPath);
                    if (entries.containsKey(key)) {
                        throw new ConfigException(file, keyPosition.line(), keyPosition.column(), childPath,
                                "duplicate key (first at line " + entries.get(key).keyPosition().line() + ")");
                    }
                    parser.nextToken();
                    entries.put(key, new YamlNode.Entry(key, keyPosition, readValue(parser, childPath)));
                }
                return new YamlNode.Mapping(entries, position, path);
            }
            case START_ARRAY: {
                List<YamlNode> items = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    items.add(readValue(parser, path + "[" + items.size() + "]"));
                }
                return new YamlNode.Sequence(List.copyOf(items), position, path);
            }
            case VALUE_NULL:
                return new YamlNode.Null(position, path);
            case VALUE_STRING:
                return new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Form.TEXT, position, path);
            case VALUE_NUMBER_INT:
                return new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Form.INTEGER, position, path);
            case VALUE_NUMBER_FLOAT:
                return new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Form.OTHER_NUMBER, position, path);
            case VALUE_TRUE:
            case VALUE_FALSE:
                return new YamlNode.Scalar(parser.getText(), YamlNode.Scalar.Form.BOOLEAN, position, path);
            default:
                throw error(parser.currentTokenLocation(), path, "unexpected YAML token " + token);
        }
    }

    /**
     * Jackson's streaming parser hands an alias over as a plain string holding the anchor's name
     * ({@code hosts: [*api]} would read as the host "api"), and anchors let a short file expand into a huge
     * one. Neither is needed in a file this small, so both are refused where they stand.
     */
    private void refuseAnchorsAndAliases(YAMLParser parser, String path) throws IOException, ConfigException {
        if (parser.isCurrentAlias()) {
            throw error(parser.currentTokenLocation(), path, "YAML anchors and aliases are not supported (alias "
                    + Quote.shortly(parser.getText()) + "); write the value out");
        }
        if (parser.getCurrentAnchor() != null) {
            throw error(parser.currentTokenLocation(), path, "YAML anchors and aliases are not supported (anchor "
                    + Quote.shortly(parser.getCurrentAnchor()) + "); write the value out");
        }
    }

    private YamlNode.Position position(JsonLocation loc) {
        return new YamlNode.Position(Math.max(loc.getLineNr(), 0), Math.max(loc.getColumnNr(), 0));
    }

    private ConfigException error(JsonLocation loc, String path, String message) {
        int line = loc == null ? 0 : Math.max(loc.getLineNr(), 0);
        int column = loc == null ? 0 : Math.max(loc.getColumnNr(), 0);
        return new ConfigException(file, line, column, path, message);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "syntax error";
        }
        String trimmed = message.strip();
        int nl = trimmed.indexOf('\n');
        return (nl < 0 ? trimmed : trimmed.substring(0, nl)).strip();
    }
}
