package io.meshegress.learn;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** learn's memory is bounded whatever the log: line length, hosts and host ports; what is left out is counted. */
class LearnBoundsTest {
    static final Instant T = Instant.parse("2026-11-29T10:00:00Z");

    static String line(String host, int port) {
        return "{\"time\":\"" + T + "\",\"role\":\"default\",\"kind\":\"http\",\"host\":\"" + host + "\",\"port\":"
                + port + ",\"decision\":\"allowed\",\"reason\":\"x\"}";
    }

    private static List<BoundedLines.Next> all(InputStream in) throws IOException {
        BoundedLines lines = new BoundedLines(in);
        List<BoundedLines.Next> out = new ArrayList<>();
        for (BoundedLines.Next n = lines.next(); !(n instanceof BoundedLines.End); n = lines.next()) {
            out.add(n);
        }
        return out;
    }

    @Test
    void linesUpToTheBoundAreReadLongerOnesAreSkippedWithTheirLength() throws Exception {
        String atBound = "x".repeat(BoundedLines.MAX_LINE);
        String over = "y".repeat(BoundedLines.MAX_LINE + 1);
        String text = "first\r\n" + atBound + "\n" + over + "\n\nlast without newline";
        assertThat(all(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)))).containsExactly(
                new BoundedLines.Line("first"), new BoundedLines.Line(atBound),
                new BoundedLines.TooLong(BoundedLines.MAX_LINE + 1), new BoundedLines.Line(""),
                new BoundedLines.Line("last without newline"));
        // A too-long last line without a newline, and UTF-8 split across reads of one byte at a time.
        InputStream trickle = new ByteArrayInputStream(("é\n" + over).getBytes(StandardCharsets.UTF_8)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1));
            }
        };
        assertThat(all(trickle)).containsExactly(new BoundedLines.Line("é"),
                new BoundedLines.TooLong(BoundedLines.MAX_LINE + 1));
    }

    /** A line of more than 2^31 bytes streams past in constant memory, and its length is counted right. */
    @Test
    void aTwoGigabyteLineIsCountedNotHeld() throws Exception {
        long size = (1L << 31) + 5;
        InputStream endless = new InputStream() {
            long left = size;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 'a');
                left -= n;
                return n;
            }
        };
        assertThat(all(endless)).containsExactly(new BoundedLines.TooLong(size));
    }

    @Test
    void hostsBeyondTheBoundAreDroppedCountedAndNeverProposed() {
        TrafficProfile p = new TrafficProfile(null);
        int extra = 7;
        for (int i = 0; i < TrafficProfile.MAX_HOSTS + extra; i++) {
            p.add(line("h" + i + ".example.com", 443), "log:" + (i + 1));
        }
        p.add(line("h0.example.com", 443), "log:again"); // a host kept still counts
        assertThat(p.byRole().get("default")).hasSize(TrafficProfile.MAX_HOSTS);
        assertThat(p.byRole().get("default").get("h0.example.com").count()).isEqualTo(2);
        assertThat(p.droppedConnections()).isEqualTo(extra);
        assertThat(p.summary()).contains(TrafficProfile.MAX_HOSTS + extra + 1 + " lines read: "
                + (TrafficProfile.MAX_HOSTS + 1) + " allowed connections used").contains(extra
                + " allowed connections dropped, their hosts not proposed: beyond the 50000 hosts or 100000 host "
                + "ports learn keeps (log:50001, log:50002");
    }

    @Test
    void hostPortsBeyondTheBoundAreDroppedToo() {
        TrafficProfile p = new TrafficProfile(null);
        for (String host : new String[] {"a.example.com", "b.example.com"}) {
            for (int port = 1; port <= 65535; port++) {
                p.add(line(host, port), host + ":" + port);
            }
        }
        assertThat(p.byRole().get("default").get("a.example.com").ports()).hasSize(65535);
        assertThat(p.byRole().get("default").get("b.example.com").ports()).hasSize(
                TrafficProfile.MAX_HOST_PORTS - 65535);
        assertThat(p.droppedConnections()).isEqualTo(2L * 65535 - TrafficProfile.MAX_HOST_PORTS);
    }

    @Test
    void tooLongLinesAreNamedInTheSummary() {
        TrafficProfile p = new TrafficProfile(null);
        p.add(line("a.example.com", 443), "log:1");
        p.tooLong("log:2");
        p.readError("log", "after line 2: Unexpected end of ZLIB input stream");
        assertThat(p.tooLongLines()).isEqualTo(1);
        assertThat(p.summary()).startsWith("2 lines read: 1 allowed connections used").contains(
                "1 longer than 65536 bytes, skipped (log:2)").endsWith(
                "; read only in part (what was read is used): log: after line 2: Unexpected end of ZLIB input stream");
    }

    /** Lines as hostile as fit in 64 KiB are counted and passed over; the lines after them still count. */
    @Test
    void badLinesWithinTheBoundAreCountedAndReadingGoesOn() {
        TrafficProfile p = new TrafficProfile(null);
        p.add("[".repeat(BoundedLines.MAX_LINE - 1), "log:1"); // nesting far deeper than any parser's stack
        p.add("{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000), "log:2");
        p.add("\"" + "\\u0000".repeat(10_000) + "\"", "log:3");
        p.add(line("a".repeat(300) + ".example.com", 443), "log:4"); // not a host name the proxy could log
        p.add(line("ok.example.com", 443), "log:5");
        assertThat(p.notAccessLogLines()).isEqualTo(4);
        assertThat(p.byRole().get("default")).containsOnlyKeys("ok.example.com");
    }
}
