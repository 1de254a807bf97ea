package io.meshegress.config;

import io.meshegress.text.Quote;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** An IP address and port to bind or reach: {@code 0.0.0.0:8080}, {@code [::]:8443}, {@code 127.0.0.1:9901}. */
public record ListenAddress(String host, int port) {

    /** Parses {@code IP:PORT}; throws {@link IllegalArgumentException} with a message meant for the user. */
    public static ListenAddress parse(String text) {
        return parse(text, -1);
    }

    /**
     * Parses {@code IP:PORT}, or a bare {@code IP} when {@code defaultPort} is positive (DNS servers).
     */
    public static ListenAddress parse(String text, int defaultPort) {
        String t = text.strip();
        String host;
        String port;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            if (close < 0) {
                throw bad(text, defaultPort);
            }
            host = t.substring(1, close);
            String rest = t.substring(close + 1);
            if (rest.isEmpty() && defaultPort > 0) {
                port = null;
            } else if (rest.startsWith(":")) {
                port = rest.substring(1);
            } else {
                throw bad(text, defaultPort);
            }
        } else if (NetUtil.isValidIpV6Address(t) && defaultPort > 0) {
            host = t;
            port = null;
        } else {
            int colon = t.lastIndexOf(':');
            if (colon < 0) {
                if (defaultPort <= 0) {
                    throw bad(text, defaultPort);
                }
                host = t;
                port = null;
            } else {
                host = t.substring(0, colon);
                port = t.substring(colon + 1);
            }
        }
        if (!NetUtil.isValidIpV4Address(host) && !NetUtil.isValidIpV6Address(host)) {
            throw new IllegalArgumentException(Quote.shortly(text) + ": " + Quote.shortly(host) + " is not an IP address");
        }
        int p = defaultPort;
        if (port != null) {
            p = Ports.parse(port).orElseThrow(() -> new IllegalArgumentException(
                    Quote.shortly(text) + ": " + Quote.shortly(port) + " is not a port (1-65535)"));
        }
        return new ListenAddress(NetUtil.bytesToIpAddress(NetUtil.createByteArrayFromIpAddressString(host)), p);
    }

    private static IllegalArgumentException bad(String text, int defaultPort) {
        return new IllegalArgumentException(Quote.shortly(text) + " is not " + (defaultPort > 0 ? "IP or IP:PORT" : "IP:PORT")
                + " (e.g. " + (defaultPort > 0 ? "\"127.0.0.1:53\"" : "\"0.0.0.0:8080\" or \"[::]:8080\"") + ")");
    }

    public InetSocketAddress socketAddress() {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(NetUtil.createByteArrayFromIpAddressString(host)), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("validated address did not convert: " + host, e);
        }
    }

    /** 0.0.0.0 or :: — bound on every interface. */
    public boolean isWildcard() {
        return socketAddress().getAddress().isAnyLocalAddress();
    }

    /** Whether binding both at once would collide. */
    public boolean overlaps(ListenAddress other) {
        return port == other.port && (host.equals(other.host) || isWildcard() || other.isWildcard());
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
