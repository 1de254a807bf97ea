package io.meshegress.testing;

import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A real TLS server's reading of a connection's first bytes, as an outside opinion for tests: the JDK's
 * {@link SSLEngine} in server mode, with an {@link SNIMatcher} that records the host_name it is asked to
 * match and a key manager that records that the ClientHello got as far as choosing a certificate (and then
 * offers none, so the handshake ends there, cheaply).
 */
public final class ServerOracle {
    private static final SSLContext CONTEXT;

    static {
        try {
            CONTEXT = SSLContext.getInstance("TLS");
            CONTEXT.init(new KeyManager[] {new Recorder()}, null, null);
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What the server made of the bytes. */
    public record Reading(String hostName, boolean helloAccepted, String failure) {
        /** The server read a ClientHello: it matched a host_name or went on to choose a certificate. */
        public boolean sawClientHello() {
            return hostName != null || helloAccepted;
        }
    }

    private ServerOracle() {
    }

    public static Reading read(byte[] bytes) {
        SSLEngine engine = CONTEXT.createSSLEngine();
        engine.setUseClientMode(false);
        String[] host = {null};
        SSLParameters p = engine.getSSLParameters();
        p.setSNIMatchers(List.of(new SNIMatcher(StandardConstants.SNI_HOST_NAME) {
            @Override
            public boolean matches(SNIServerName name) {
                host[0] = new String(name.getEncoded(), java.nio.charset.StandardCharsets.ISO_8859_1);
                return true;
            }
        }));
        engine.setSSLParameters(p);
        boolean[] accepted = {false};
        RECORDER_FLAG.set(accepted);
        String failure = null;
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            ByteBuffer app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            for (int rounds = 0; rounds < 10_000; rounds++) {
                SSLEngineResult.HandshakeStatus hs = engine.getHandshakeStatus();
                if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                    Runnable t;
                    while ((t = engine.getDelegatedTask()) != null) {
                        t.run();
                    }
                    continue;
                }
                if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                    out.clear();
                    engine.wrap(ByteBuffer.allocate(0), out);
                    if (engine.isOutboundDone()) {
                        break;
                    }
                    continue;
                }
                SSLEngineResult r = engine.unwrap(in, app);
                if (r.getStatus() != SSLEngineResult.Status.OK || (r.bytesConsumed() == 0
                        && engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP)) {
                    break;
                }
            }
        } catch (SSLException | RuntimeException e) {
            failure = String.valueOf(e.getMessage());
        } finally {
            RECORDER_FLAG.remove();
        }
        return new Reading(host[0], accepted[0], failure);
    }

    private static final ThreadLocal<boolean[]> RECORDER_FLAG = new ThreadLocal<>();

    /** Records that certificate selection was reached, and has no certificate to offer. */
    private static final class Recorder extends X509ExtendedKeyManager {
        private static void reached() {
            boolean[] f = RECORDER_FLAG.get();
            if (f != null) {
                f[0] = true;
            }
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            reached();
            return null;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            reached();
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            reached();
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return null;
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return null;
        }
    }
}
