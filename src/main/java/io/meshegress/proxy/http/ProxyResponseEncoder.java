package io.meshegress.proxy.http;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * The client-side response encoder, told when the current request was HEAD: such a response carries framing
 * headers (Content-Length, Transfer-Encoding: chunked) but no body, and the encoder must not write one.
 */
final class ProxyResponseEncoder extends HttpResponseEncoder {
    private boolean headRequest;

    void currentRequestIsHead(boolean head) {
        this.headRequest = head;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
        return headRequest || super.isContentAlwaysEmpty(msg);
    }
}
