package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.EgressConfig;
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

    @Override
    public Integer call() {
        EgressConfig cfg;
        try {
            cfg = config.load();
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
