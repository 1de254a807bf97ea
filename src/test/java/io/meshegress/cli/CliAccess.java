package io.meshegress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Lets tests in other packages use the YAML writer of {@code istio} exactly as the command does. */
public final class CliAccess {
    private CliAccess() {
    }

    public static String toYaml(List<ObjectNode> objects) {
        return IstioCommand.toYaml(objects);
    }
}
