package io.meshegress.config;

import java.util.OptionalInt;

/** TCP port numbers as users write them. */
final class Ports {
    private Ports() {
    }

    static OptionalInt parse(String text) {
        if (text.isEmpty() || text.length() > 5) {
            return OptionalInt.empty();
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return OptionalInt.empty();
            }
        }
        int p = Integer.parseInt(text);
        return p >= 1 && p <= 65535 ? OptionalInt.of(p) : OptionalInt.empty();
    }
}
