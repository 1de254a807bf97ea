package io.meshegress.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are not forwarded: Connection and
 * every header it names, Keep-Alive, Proxy-Connection, Proxy-Authorization, Proxy-Authenticate, TE, Trailer and
 * Upgrade (kept only while upgrading). Transfer-Encoding stays: the codec re-applies exactly that framing.
 */
public final class HeaderHygiene {
    public static final String VIA = "1.1 mesh-egress";

    private static final List<AsciiString> HOP_BY_HOP = List.of(HttpHeaderNames.KEEP_ALIVE,
            AsciiString.cached("proxy-connection"), HttpHeaderNames.PROXY_AUTHORIZATION,
            HttpHeaderNames.PROXY_AUTHENTICATE, HttpHeaderNames.TE, HttpHeaderNames.TRAILER);

    private HeaderHygiene() {
    }

    /** Whether the message asks to switch protocols (Connection: upgrade with an Upgrade header). */
    public static boolean isUpgrade(HttpHeaders headers) {
        return headers.contains(HttpHeaderNames.UPGRADE)
                && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE, true);
    }

    /**
     * Removes the hop-by-hop headers; with {@code keepUpgrade} the Upgrade header and a
     * {@code Connection: upgrade} survive. Adds our {@code Via}.
     */
    public static void strip(HttpHeaders headers, boolean keepUpgrade) {
        List<String> named = new ArrayList<>();
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String t = token.strip().toLowerCase(Locale.ROOT);
                if (!t.isEmpty()) {
                    named.add(t);
                }
            }
        }
        for (String name : named) {
            if (keepUpgrade && name.equals("upgrade")) {
                continue;
            }
            if (!name.equals("transfer-encoding") && !name.equals("content-length") && !name.equals("host")) {
                headers.remove(name);
            }
        }
        headers.remove(HttpHeaderNames.CONNECTION);
        for (AsciiString h : HOP_BY_HOP) {
            headers.remove(h);
        }
        if (keepUpgrade) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE);
        } else {
            headers.remove(HttpHeaderNames.UPGRADE);
        }
        headers.add(HttpHeaderNames.VIA, VIA);
    }
}
