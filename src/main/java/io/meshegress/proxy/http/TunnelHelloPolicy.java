package io.meshegress.proxy.http;

import io.meshegress.config.EgressConfig;
import io.meshegress.policy.HostPattern;
import io.meshegress.proxy.TlsAlert;
import io.meshegress.tls.HelloVerdict;
import java.util.Optional;

/**
 * What {@code http.connectSniCheck} makes of a tunnel's ClientHello, pure: the first one and the second one a
 * client sends after the server's HelloRetryRequest are judged by the same rules, so a tunnel cannot reach with
 * its second hello what its first would have been refused. A ClientHello must name the host the CONNECT named
 * (case and a trailing dot aside); with {@code require} it must name one; with {@code http.echPolicy: refuse} it
 * must not carry Encrypted Client Hello.
 */
record TunnelHelloPolicy(String connectHost, EgressConfig.ConnectSniCheck mode, EgressConfig.EchPolicy echPolicy) {

    /** Which of the tunnel's ClientHellos is judged. */
    enum Hello {
        FIRST("the tunnel's ClientHello"),
        AFTER_RETRY_REQUEST("the tunnel's second ClientHello (after the server's HelloRetryRequest)");

        final String words;

        Hello(String words) {
            this.words = words;
        }
    }

    /** The judgement on a ClientHello's verdict. */
    sealed interface Judgement {
    }

    /** More bytes are needed. */
    record Wait() implements Judgement {
    }

    /** Not TLS: the bytes pass unchanged, and nothing later is read. */
    record NotTls() implements Judgement {
    }

    /** A ClientHello this policy lets through. */
    record Accepted() implements Judgement {
    }

    /** The tunnel ends: this alert to the client, this status and reason in the access log. */
    record Refused(TlsAlert alert, int status, String reason) implements Judgement {
    }

    Judgement judge(HelloVerdict verdict, Hello hello) {
        if (verdict instanceof HelloVerdict.Incomplete) {
            return new Wait();
        }
        if (verdict instanceof HelloVerdict.NotTls) {
            return hello == Hello.FIRST ? new NotTls()
                    : new Refused(TlsAlert.HANDSHAKE_FAILURE, 400, "sni_unreadable: not TLS where "
                    + hello.words + " must come (http.connectSniCheck)");
        }
        if (verdict instanceof HelloVerdict.Unreadable u) {
            return new Refused(TlsAlert.HANDSHAKE_FAILURE, 400, "sni_unreadable: " + u.reason()
                    + (hello == Hello.FIRST ? "" : " in " + hello.words) + " (http.connectSniCheck)");
        }
        if (encryptedClientHello(verdict) && echPolicy == EgressConfig.EchPolicy.REFUSE) {
            return new Refused(TlsAlert.ACCESS_DENIED, 403, "encrypted_client_hello refused by http.echPolicy ("
                    + (hello == Hello.FIRST ? "" : "in " + hello.words + "; ")
                    + "the tunnel's real server name would be hidden)");
        }
        if (verdict instanceof HelloVerdict.NoServerName) {
            return mode == EgressConfig.ConnectSniCheck.REQUIRE
                    ? new Refused(TlsAlert.ACCESS_DENIED, 403, "sni_missing: " + hello.words + " names no server, "
                    + "the CONNECT named " + connectHost + " (http.connectSniCheck: require)")
                    : new Accepted();
        }
        HelloVerdict.Named n = (HelloVerdict.Named) verdict;
        Optional<String> named = HostPattern.normalizeHost(n.serverName());
        return named.isPresent() && named.get().equals(connectHost) ? new Accepted()
                : new Refused(TlsAlert.ACCESS_DENIED, 403, "sni_mismatch: " + hello.words + " names "
                + named.orElse("an invalid name") + ", the CONNECT named " + connectHost + " (http.connectSniCheck)");
    }

    /** Whether the verdict is of a ClientHello that carries Encrypted Client Hello. */
    static boolean encryptedClientHello(HelloVerdict verdict) {
        return verdict instanceof HelloVerdict.Named n && n.encryptedClientHello()
                || verdict instanceof HelloVerdict.NoServerName n2 && n2.encryptedClientHello();
    }
}
