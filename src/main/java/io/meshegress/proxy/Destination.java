package io.meshegress.proxy;

import java.net.InetSocketAddress;

/**
 * Where a client wants to go: the one value every listener produces. What comes after it (policy,
 * resolver, connect, relay) does not know which listener made it.
 *
 * @param host       normalized host name or IP literal
 * @param downstream the connection that asks (its client and role)
 */
public record Destination(String host, int port, Kind kind, Downstream downstream) {

    /** The client as policy and the log see it. */
    public InetSocketAddress client() {
        return downstream.client();
    }

    public enum Kind {
        SNI("sni"), CONNECT("connect"), HTTP("http");

        private final String logName;

        Kind(String logName) {
            this.logName = logName;
        }

        public String logName() {
            return logName;
        }
    }
}
