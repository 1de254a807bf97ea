package io.meshegress.proxy.sni;

import io.meshegress.config.EgressConfig;
import io.meshegress.observe.AccessLog;
import io.meshegress.observe.ConnectionRecord;
import io.meshegress.proxy.Admission;
import io.meshegress.proxy.UpstreamConnector;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;

/** The pipeline of one accepted connection on an SNI listener. */
public final class SniListenerInitializer extends ChannelInitializer<SocketChannel> {
    private final EgressConfig.SniListener listener;
    private final String listenerName;
    private final Admission admission;
    private final UpstreamConnector connector;
    private final EgressConfig.Timeouts timeouts;
    private final AccessLog accessLog;

    public SniListenerInitializer(EgressConfig.SniListener listener, Admission admission, UpstreamConnector connector,
                                  EgressConfig.Timeouts timeouts, AccessLog accessLog) {
        this.admission = admission;
        this.listener = listener;
        this.listenerName = "sni " + listener.listen();
        this.connector = connector;
        this.timeouts = timeouts;
        this.accessLog = accessLog;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ConnectionRecord record = new ConnectionRecord(accessLog, listenerName, "sni", ch.remoteAddress());
        ch.pipeline()
                .addLast("sni", new SniRouter(admission, connector, record, listener.upstreamPort(), timeouts.handshake(),
                        timeouts.idle()))
                .addLast(new HelloFailureHandler(record));
    }
}
