package io.meshegress.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code identity.basic}: the users of an htpasswd file of bcrypt hashes ({@link HtpasswdFile}), read with the
 * config and again on every reload.
 *
 * @param file  the file as resolved (a relative path is relative to the config file's directory)
 * @param users user name to bcrypt hash, in file order
 */
public record BasicUsers(Path file, Map<String, String> users) {
    public BasicUsers {
        users = Collections.unmodifiableMap(new LinkedHashMap<>(users));
    }

    /** Never the hashes: a config printed or logged must not carry them. */
    @Override
    public String toString() {
        return "identity.basic " + file + " (" + users.size() + " users)";
    }
}
