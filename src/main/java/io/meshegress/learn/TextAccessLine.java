package io.meshegress.learn;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A line of {@code accessLog.format: text} read back: {@code time client kind host:port status[/alert] decision
 * "reason" resolved up=N down=N Nms listener role=ROLE [namespace=NS service-account=SA pod=POD] [peer=IP:PORT]
 * [would-refuse="reason"]}. The writer escapes control characters and turns a quote inside a reason into an
 * apostrophe, so a quoted field never holds a quote and a line never holds a newline; {@code -} stands for an
 * absent value. The whole line must match, or it is not the proxy's.
 */
final class TextAccessLine {
    private static final Pattern LINE = Pattern.compile("(?<time>\\S+) \\S+ (?<kind>\\S+) (?<host>\\S+):(?<port>\\d{1,5}) "
            + "\\d+(?:/\\S+)? (?<decision>\\S+) \"[^\"]*\" \\S+ up=\\d+ down=\\d+ \\d+ms \\S+ role=(?<role>\\S+)"
            + "(?: namespace=(?<namespace>\\S+) service-account=(?<sa>\\S+) pod=\\S+)?(?: peer=\\S+)?"
            + "(?: would-refuse=\"(?<wouldRefuse>[^\"]*)\")?");

    private TextAccessLine() {
    }

    static Optional<LoggedConnection> parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return Optional.empty();
        }
        String host = m.group("host");
        return LoggedConnection.of(m.group("time"), m.group("role"), m.group("kind"), host.equals("-") ? null : host,
                Integer.parseInt(m.group("port")), m.group("decision"), m.group("wouldRefuse"), m.group("namespace"),
                m.group("sa"));
    }
}
