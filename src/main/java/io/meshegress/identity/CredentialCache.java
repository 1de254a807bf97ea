package io.meshegress.identity;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checked credentials, remembered so that a client's next request costs a hash instead of a bcrypt check or a
 * TokenReview. Keyed by an HMAC of the credential under a key made for this cache alone: the heap holds no
 * password, token or plain hash of one that a dump could be searched with. At most {@code capacity} entries
 * (the least recently used goes first), each until its own deadline. One cache per configuration: a reload
 * starts an empty one, so a changed password or a removed user takes effect at once.
 */
final class CredentialCache<V> {
    private record Entry<V>(V value, long untilNanos) {
    }

    private final Map<ByteBuffer, Entry<V>> entries;
    /** One keyed MAC per thread (event loops and checkers): looking the algorithm up per request costs more than the hash. */
    private final ThreadLocal<Mac> macs;

    CredentialCache(int capacity) {
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Entry<V>> eldest) {
                return size() > capacity;
            }
        };
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        SecretKeySpec key = new SecretKeySpec(k, "HmacSHA256");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
            }
        });
    }

    /** The cache's key for a credential: its keyed hash. */
    ByteBuffer keyOf(byte[]... parts) {
        Mac mac = macs.get(); // doFinal leaves it reset for the next key
        for (byte[] p : parts) {
            mac.update(ByteBuffer.allocate(4).putInt(p.length).array());
            mac.update(p);
        }
        return ByteBuffer.wrap(mac.doFinal());
    }

    synchronized V get(ByteBuffer k) {
        Entry<V> e = entries.get(k);
        if (e == null) {
            return null;
        }
        if (System.nanoTime() - e.untilNanos() >= 0) {
            entries.remove(k);
            return null;
        }
        return e.value();
    }

    synchronized void put(ByteBuffer k, V value, long ttlNanos) {
        entries.put(k, new Entry<>(value, System.nanoTime() + ttlNanos));
    }

    synchronized int size() {
        return entries.size();
    }
}
