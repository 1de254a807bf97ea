package io.meshegress.cli;

import io.meshegress.config.ConfigException;
import io.meshegress.config.ConfigWarnings;
import io.meshegress.config.EgressConfig;
import io.meshegress.config.ListenAddress;
import io.meshegress.control.ConfigReloader;
import io.meshegress.observe.AccessLog;
import io.meshegress.observe.AccessLogFile;
import io.meshegress.observe.AccessLogWriter;
import io.meshegress.observe.ProxyMetrics;
import io.meshegress.observe.StatusBoard;
import io.meshegress.server.EgressServer;
import io.meshegress.server.ListenerBindException;
import io.netty.util.ResourceLeakDetector;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Serve the proxy (embedded defaults when no file is given). The file is reloaded when it "
                + "changes and on SIGHUP; SIGUSR1 reopens the access-log file; SIGTERM drains and exits 0. Under "
                + "systemd (Type=notify) it reports ready once its listeners are bound.")
final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    private ConfigOption config;

    @Spec
    private CommandSpec spec;

    @Option(names = "--admin-listen", paramLabel = "IP:PORT",
            description = "serve the admin endpoints here, whatever the file says (the in-cluster Deployment uses "
                    + "it so that kubelet probes reach them)")
    private String adminListen;

    private EgressConfig adjust(EgressConfig cfg) throws ConfigException {
        if (adminListen == null) {
            return cfg;
        }
        ListenAddress a;
        try {
            a = ListenAddress.parse(adminListen);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--admin-listen", 0, 0, "", e.getMessage());
        }
        for (EgressConfig.Listener l : cfg.listeners()) {
            if (!(l instanceof EgressConfig.Admin) && l.listen().overlaps(a)) {
                throw new ConfigException("--admin-listen", 0, 0, "", a + " collides with the listener on "
                        + l.listen());
            }
        }
        return cfg.withAdmin(cfg.admin() == null ? new EgressConfig.Admin(a)
                : cfg.admin().at(a));
    }

    @Override
    public Integer call() throws IOException {
        EgressConfig cfg;
        byte[] loaded;
        try {
            loaded = config.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            cfg = adjust(config.load());
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return Main.CONFIG_ERROR;
        }
        ConfigWarnings.of(cfg).forEach(LOG::warn);
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Netty tracks one buffer in 128 with a stack trace by default: a debugging aid that costs a served
            // proxy about 1% of its CPU. -Dio.netty.leakDetection.level=paranoid turns it back on.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        ProxyMetrics metrics = ProxyMetrics.ofThisProcess();
        AccessLogWriter accessLog;
        try {
            accessLog = AccessLogWriter.open(cfg.accessLog().destination(), cfg.accessLog().format(), metrics);
        } catch (AccessLogFile.CannotOpen e) {
            spec.commandLine().getErr().println("mesh-egress: " + e.getMessage());
            return Main.RUNTIME_FAILURE;
        }
        StatusBoard board = new StatusBoard();
        board.loaded(config.file == null ? "(embedded defaults)" : config.file.toString());
        // Handled before the first socket is bound: a SIGTERM from the moment "listening" is logged (a supervisor
        // or a test stopping it at once) drains and stops, where the JVM's own handling would exit 143.
        CountDownLatch stopRequested = new CountDownLatch(1);
        TerminationSignals.onTerminate(stopRequested::countDown);
        EgressServer server;
        try {
            server = EgressServer.start(cfg, AccessLog.metered(metrics, entry -> {
                board.record(entry);
                accessLog.write(entry);
            }), metrics, board);
        } catch (ListenerBindException e) {
            spec.commandLine().getErr().println("mesh-egress: " + e.getMessage());
            accessLog.close();
            return Main.RUNTIME_FAILURE;
        }
        ConfigReloader reloader = config.file == null || !Files.isRegularFile(config.file) ? null
                : new ConfigReloader(config.file, loaded, this::adjust, server::reload, metrics, board).start();
        ServiceManager serviceManager = ServiceManager.fromEnvironment();
        boolean hangupHandled = TerminationSignals.onHangup(() -> {
            serviceManager.notify(ServiceManager.State.RELOADING);
            if (reloader != null) {
                reloader.reloadNow("SIGHUP");
            } else {
                LOG.info("SIGHUP: no file to reload (running on the embedded defaults)");
            }
            serviceManager.notify(ServiceManager.State.READY);
        });
        if (!hangupHandled) {
            LOG.warn("SIGHUP is ignored in this process (it was ignored when the process started, as under nohup): "
                    + "the config file is reloaded when it changes, not on SIGHUP");
        }
        TerminationSignals.onReopenLogs(accessLog::reopen);
        // Listeners bound and every signal handled: `systemctl start` may return now.
        serviceManager.notify(ServiceManager.State.READY);
        try {
            stopRequested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        serviceManager.notify(ServiceManager.State.STOPPING);
        try {
            if (reloader != null) {
                reloader.close();
            }
            server.drain(server.config().timeouts().drain());
        } finally {
            server.close();
            LOG.info("stopped");
            accessLog.close();
        }
        return Main.OK;
    }
}
