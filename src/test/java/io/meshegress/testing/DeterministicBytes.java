package io.meshegress.testing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A reproducible stream of pseudo-random bytes: the origin sends it, the test hashes what arrived and
 * compares with the hash of the same stream computed locally. Blocks are a multiple of 8 bytes so the
 * sequence does not depend on how it is cut.
 */
public final class DeterministicBytes {
    public static final int BLOCK = 16 * 1024;

    private final SplittableRandom random;
    private long remaining;

    public DeterministicBytes(long seed, long length) {
        this.random = new SplittableRandom(seed);
        this.remaining = length;
    }

    /** Fills up to {@link #BLOCK} bytes; returns how many, 0 at the end. */
    public int next(byte[] block) {
        if (remaining == 0) {
            return 0;
        }
        int n = (int) Math.min(BLOCK, remaining);
        if (n == BLOCK) {
            random.nextBytes(block);
        } else {
            byte[] tail = new byte[n];
            random.nextBytes(tail);
            System.arraycopy(tail, 0, block, 0, n);
        }
        remaining -= n;
        return n;
    }

    public long remaining() {
        return remaining;
    }

    public static String sha256(long seed, long length) {
        MessageDigest md = sha256();
        DeterministicBytes bytes = new DeterministicBytes(seed, length);
        byte[] block = new byte[BLOCK];
        int n;
        while ((n = bytes.next(block)) > 0) {
            md.update(block, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The SHA-256 of a file, in hex. */
    public static String sha256(java.nio.file.Path file) throws java.io.IOException {
        MessageDigest md = sha256();
        try (java.io.InputStream in = new java.security.DigestInputStream(java.nio.file.Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
