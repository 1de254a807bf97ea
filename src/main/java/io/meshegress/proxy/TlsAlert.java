package io.meshegress.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * A fatal TLS alert record, the only thing a TLS-carrying listener or tunnel ever says itself: the client learns why the
 * connection ends instead of seeing a bare reset.
 */
public enum TlsAlert {
    HANDSHAKE_FAILURE(40, "handshake_failure"),
    ACCESS_DENIED(49, "access_denied"),
    UNRECOGNIZED_NAME(112, "unrecognized_name");

    private final int code;
    private final String alertName;

    TlsAlert(int code, String alertName) {
        this.code = code;
        this.alertName = alertName;
    }

    public int code() {
        return code;
    }

    public String alertName() {
        return alertName;
    }

    /** content type alert(21), version TLS 1.2 as every TLS 1.2 and 1.3 record carries, length 2, fatal(2). */
    public ByteBuf record(ByteBufAllocator alloc) {
        return alloc.buffer(7).writeByte(21).writeByte(3).writeByte(3).writeShort(2).writeByte(2).writeByte(code);
    }
}
