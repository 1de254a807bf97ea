package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import java.util.List;
import io.meshegress.observe.JsonAccessLog;
import io.meshegress.proxy.EgressServer;
import io.meshegress.proxy.ListenerBindException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Serve the proxy (embedded defaults when no file is given).")
final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    private ConfigOption config;

    @Spec
    private CommandSpec spec;

    @picocli.CommandLine.Option(names = "--admin-listen", paramLabel = "IP:PORT",
            description = "serve the admin endpoints here, whatever the file says (the in-cluster Deployment uses "
                    + "it so that kubelet probes reach them)")
    private String adminListen;

    private ListenAddress adminOverride(EgressConfig cfg) throws ConfigException {
        ListenAddress a;
        try {
            a = ListenAddress.parse(adminListen);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--admin-listen", 0, 0, "", e.getMessage());
        }
        List<ListenAddress> others = new java.util.ArrayList<>();
        if (cfg.http() != null) {
            others.add(cfg.http().listen());
        }
        cfg.sni().forEach(s -> others.add(s.listen()));
        for (ListenAddress o : others) {
            if (o.overlaps(a)) {
                throw new ConfigException("--admin-listen", 0, 0, "", a + " collides with the listener on " + o);
            }
        }
        return a;
    }

    @Override
    public Integer call() {
        EgressConfig cfg;
        try {
            cfg = config.load();
            if (adminListen != null) {
                cfg = cfg.withAdmin(new EgressConfig.Admin(adminOverride(cfg)));
            }
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return Main.CONFIG_ERROR;
        }
        EgressServer server;
        try {
            server = EgressServer.start(cfg, new JsonAccessLog());
        } catch (ListenerBindException e) {
            spec.commandLine().getErr().println("mesh-egress: " + e.getMessage());
            return Main.RUNTIME_FAILURE;
        }
        CountDownLatch stopRequested = new CountDownLatch(1);
        TerminationSignals.onTerminate(stopRequested::countDown);
        try {
            stopRequested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("stopping");
        server.close();
        return Main.OK;
    }
}
