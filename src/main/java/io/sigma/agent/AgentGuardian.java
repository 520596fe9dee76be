package io.sigma.agent;

import io.sigma.agent.api.ApiKey;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.config.RedactedUrl;
import io.sigma.agent.devapi.DevSeed;
import io.sigma.agent.devapi.DevSigmaApi;
import io.sigma.agent.fleet.FleetStatus;
import io.sigma.agent.fleet.ProcHostFacts;
import io.sigma.agent.fleet.PublicIpWatcher;
import io.sigma.agent.fleet.RegistrationActor;
import io.sigma.agent.health.AgentHealth;
import io.sigma.agent.health.ManagementRoutes;
import io.sigma.agent.host.HostAddressDiscovery;
import io.sigma.agent.host.HostnameResolver;
import io.sigma.agent.host.PublicIpLookup;
import io.sigma.agent.host.SystemFactsReader;
import io.sigma.agent.logging.AgentLogConfigurator;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.metrics.EnvoyAdminMetrics;
import io.sigma.agent.metrics.FleetMetrics;
import io.sigma.agent.metrics.LandingPage;
import io.sigma.agent.metrics.MetricsRoutes;
import io.sigma.agent.metrics.MetricsServer;
import io.sigma.agent.metrics.PortMetrics;
import io.sigma.agent.metrics.XdsMetrics;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.ports.AllocationCallers;
import io.sigma.agent.ports.AllocationRoutes;
import io.sigma.agent.ports.AllocationToken;
import io.sigma.agent.ports.ApiHostAddresses;
import io.sigma.agent.ports.BindProbe;
import io.sigma.agent.ports.CallerRateLimiter;
import io.sigma.agent.ports.LatestPortScan;
import io.sigma.agent.ports.PortAllocator;
import io.sigma.agent.ports.PortScanActor;
import io.sigma.agent.ports.PortScanner;
import io.sigma.agent.reload.ConfigReloader;
import io.sigma.agent.retry.Backoff;
import io.sigma.agent.xds.AdsService;
import io.sigma.agent.xds.ConfigPoller;
import io.sigma.agent.xds.EnvoyAdminClient;
import io.sigma.agent.xds.EnvoyAdminProbe;
import io.sigma.agent.xds.EnvoySyncReport;
import io.sigma.agent.xds.EnvoySyncReporter;
import io.sigma.agent.xds.NodeConfigStore;
import io.sigma.agent.xds.SnapshotRegistry;
import io.sigma.agent.xds.XdsServer;
import io.sigma.agent.xds.XdsStatusRoutes;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.LoggerFactory;

/**
 * The root of one agent: builds its parts from the config and supervises them. In {@code --dev}
 * mode it first starts the embedded sigma-api and points the agent at it. With {@code
 * --xds-enabled} it also runs the Envoy control plane (see {@code io.sigma.agent.xds}). A server
 * that cannot bind its port (metrics, xDS) stops the agent with {@link StartupFailure}.
 */
public final class AgentGuardian {
  public sealed interface Command {}

  private record DevApiStarted(String url, Throwable error) implements Command {}

  private record ServerBound(
      String what, String setting, InetSocketAddress address, Throwable error) implements Command {}

  private record ManagementStarted(Uri uri, String paths, Throwable error) implements Command {}

  /** SIGHUP: the settings read again (see {@link ConfigReloader}). */
  public record ReloadConfig(ConfigLoader.Outcome outcome) implements Command {}

  /** The xDS parts the guardian keeps: the status route and the poller (told new intervals). */
  private record Xds(Route statusRoute, ActorRef<ConfigPoller.Command> poller) {}

  /** The dev API's key: exercises the X-Api-Key path end to end. */
  static final String DEV_API_KEY = "dev-api-key";

  /** How long open ADS streams get to finish when the agent stops. */
  static final Duration XDS_STOP_DEADLINE = Duration.ofSeconds(1);

  private AgentGuardian() {}

  public static Behavior<Command> create(AgentConfig config) {
    return Behaviors.setup(
        ctx -> {
          logShutdown(ctx);
          return config.dev() ? startDevApi(ctx, config) : startAgent(ctx, config, config);
        });
  }

  /** One line when the agent begins to stop (SIGTERM, or a start-up failure), and why. */
  private static void logShutdown(ActorContext<Command> ctx) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(ctx.getSystem());
    shutdown.addTask(
        CoordinatedShutdown.PhaseBeforeServiceUnbind(),
        "log-shutdown",
        () -> {
          // SIGTERM and SIGINT arrive as StopSignal (see Main); JvmExitReason is any other exit.
          String reason = shutdown.getShutdownReason().map(Object::toString).orElse("unknown");
          // Straight to SLF4J: Pekko's own logging is asynchronous and may not flush this late.
          LoggerFactory.getLogger(AgentGuardian.class)
              .info(
                  "Stopping sigma-agent ({}): unbinding servers, then " + "stopping actors",
                  reason.contains("JvmExitReason") ? "the JVM is exiting" : reason);
          return CompletableFuture.completedFuture(Done.getInstance());
        });
  }

  private static Behavior<Command> startDevApi(ActorContext<Command> ctx, AgentConfig config) {
    DevSigmaApi devApi = new DevSigmaApi(0, DEV_API_KEY);
    devApi.store().seedForFirstRegistration(DevSeed.standard());
    ctx.pipeToSelf(devApi.start(ctx.getSystem()), DevApiStarted::new);
    return Behaviors.receive(Command.class)
        .onMessage(
            DevApiStarted.class,
            started -> {
              if (started.error() != null) {
                ctx.getLog()
                    .error(
                        "Could not start the embedded dev sigma-api: {}. Stopping.",
                        started.error().getMessage());
                return stopForStartupFailure(ctx);
              }
              ctx.getLog()
                  .info(
                      "--dev: embedded sigma-api on {} (seeded with Envoy node '{}' for "
                          + "the first VPS that registers)",
                      started.url(),
                      DevSeed.DEFAULT_NODE_ID);
              return startAgent(
                  ctx,
                  config.withApi(URI.create(started.url()), Optional.of(new ApiKey(DEV_API_KEY))),
                  config);
            })
        .build();
  }

  /**
   * @param loaded the config as loaded, before --dev changed it (SIGHUP compares with it)
   */
  private static Behavior<Command> startAgent(
      ActorContext<Command> ctx, AgentConfig config, AgentConfig loaded) {
    Path proc = config.hostProc();
    String hostname =
        new HostnameResolver(config.hostname().orElse(null), config.hostHostnameFile(), proc)
            .resolve();
    HostAddressDiscovery addresses = new HostAddressDiscovery(proc, config.ignoredIpRanges());
    ProcHostFacts host =
        new ProcHostFacts(hostname, addresses, new SystemFactsReader(proc, Path.of("/")));
    SigmaApi api =
        new HttpSigmaApi(
            ctx.getSystem(), config.apiUrl(), config.apiKey(), config.requestTimeout());
    FleetStatus fleetStatus = new FleetStatus(Clock.systemUTC());
    AgentMetrics metrics = new AgentMetrics(hostname, config.metricsHostnameLabel(), true);
    FleetMetrics.register(metrics, fleetStatus);
    AgentHealth health = AgentHealth.get(ctx.getSystem());
    health.watchFleet(
        fleetStatus,
        AgentHealth.stallLimit(config.interval(), config.backoffMax(), config.requestTimeout()));

    RegistrationActor.Settings settings =
        new RegistrationActor.Settings(
            config.alias(),
            config.sshPort(),
            config.metricsEnabled() ? config.metricsPort() : null,
            config.interval(),
            new Backoff(config.backoffInitial(), config.backoffMax()));
    ActorRef<RegistrationActor.Command> registration =
        ctx.spawn(
            supervised(
                RegistrationActor.create(settings, api, host, fleetStatus, new SplittableRandom())),
            "registration");

    if (config.publicIpLookup()) {
      PublicIpLookup lookup =
          new PublicIpLookup(
              ctx.getSystem(), config.publicIpServices(), PublicIpLookup.DEFAULT_TIMEOUT);
      ctx.spawn(
          supervised(
              PublicIpWatcher.create(
                  lookup, addresses::discover, registration, PublicIpWatcher.Schedule.DEFAULT)),
          "public-ip");
    }

    AtomicReference<Optional<AllocationToken>> allocateToken =
        new AtomicReference<>(config.allocateToken());
    List<Route> routes = new ArrayList<>();
    routes.add(new MetricsRoutes(metrics.registry()).route());
    routes.add(new LandingPage(Version.current(), Version.revision()).route());
    routes.add(startPorts(ctx, config, metrics, allocateToken::get));
    Optional<ActorRef<ConfigPoller.Command>> poller = Optional.empty();
    if (config.xdsEnabled()) {
      Xds xds = startXds(ctx, config, api, registration, metrics);
      mountXdsStatus(ctx, config, xds.statusRoute());
      poller = Optional.of(xds.poller());
    }
    ActorRef<ConfigReloader.Command> reloader =
        ctx.spawn(
            ConfigReloader.create(
                loaded,
                new ConfigReloader.Targets(
                    registration,
                    poller,
                    allocateToken,
                    AgentLogConfigurator::setLevel,
                    interval ->
                        health.watchFleet(
                            fleetStatus,
                            AgentHealth.stallLimit(
                                interval, config.backoffMax(), config.requestTimeout())))),
            "config-reloader");
    if (config.metricsEnabled()) {
      health.expectEndpoint("metrics server");
      ctx.pipeToSelf(
          MetricsServer.bind(
              ctx.getSystem(),
              config.metricsBind(),
              config.metricsPort(),
              routes,
              HttpGuard.METRICS,
              config.webConfigFile()),
          (binding, error) ->
              new ServerBound(
                  "metrics server",
                  "--metrics-port / " + "AGENT_METRICS_PORT",
                  binding == null ? null : binding.localAddress(),
                  error));
    }
    if (config.managementEnabled()) {
      startManagement(ctx, config.xdsEnabled() ? "/alive, /ready, /xds/status" : "/alive, /ready");
    }
    ctx.getLog()
        .info(
            "Agent started for hostname {}; registering with {}",
            hostname,
            RedactedUrl.of(config.apiUrl()));
    return running(ctx, reloader);
  }

  // ---- ports: scan actor, port metrics, POST /ports/allocate ----

  /**
   * With --port-scan: the scan actor, the port metrics and the allocator behind POST
   * /ports/allocate. Without: the route alone, answering 503.
   */
  private static Route startPorts(
      ActorContext<Command> ctx,
      AgentConfig config,
      AgentMetrics metrics,
      Supplier<Optional<AllocationToken>> allocateToken) {
    Executor blocking =
        ctx.getSystem()
            .dispatchers()
            .lookup(DispatcherSelector.fromConfig(PortScanActor.BLOCKING_DISPATCHER));
    Optional<PortAllocator> allocator = Optional.empty();
    if (config.portScan()) {
      LatestPortScan latest = new LatestPortScan();
      PortMetrics.register(metrics, latest);
      ctx.spawn(
          supervised(
              PortScanActor.create(
                  PortScanner.onProc(config.hostProc()),
                  config.portScanRange(),
                  config.portScanInterval(),
                  latest)),
          "port-scan");
      allocator =
          Optional.of(
              new PortAllocator(
                  config.portScanRange(),
                  latest,
                  new BindProbe(),
                  config.allocateReservation(),
                  Clock.systemUTC()));
    }
    AllocationCallers callers =
        new AllocationCallers(
            config.allocateAllowFrom(),
            Optional.of(ApiHostAddresses.of(config.apiUrl().getHost(), blocking)));
    logAllocationCallers(ctx, config);
    return new AllocationRoutes(
            allocator, allocateToken, callers, CallerRateLimiter.standard(), blocking)
        .route();
  }

  private static void logAllocationCallers(ActorContext<Command> ctx, AgentConfig config) {
    if (AllocationCallers.opensToEveryone(config.allocateAllowFrom())) {
      ctx.getLog()
          .warn(
              "POST /ports/allocate is open to every address (--allocate-allow-from {}): "
                  + "anyone who reaches the metrics port can reserve ports, up to {} requests at once "
                  + "and one a second per address. List sigma-api's ranges instead.",
              config.allocateAllowFrom(),
              CallerRateLimiter.BURST);
    } else {
      ctx.getLog()
          .info(
              "POST /ports/allocate answers loopback, sigma-api ({}){}; others get 403",
              config.apiUrl().getHost(),
              config.allocateAllowFrom().isEmpty()
                  ? ""
                  : " and " + config.allocateAllowFrom() + " (--allocate-allow-from)");
    }
  }

  // ---- health: pekko-management on --management-bind:--management-port ----

  /**
   * Starts pekko-management's HTTP endpoint (/alive, /ready, and the {@link ManagementRoutes}; its
   * address is in the actor system's config, see AgentRuntime); once bound, it stops with the
   * system.
   */
  private static void startManagement(ActorContext<Command> ctx, String paths) {
    ctx.pipeToSelf(
        PekkoManagement.get(ctx.getSystem().classicSystem()).start(),
        (uri, error) -> new ManagementStarted(uri, paths, error));
  }

  /**
   * /xds/status names the VPS, its Envoy nodes and sigma-api: it goes on the management server
   * (loopback by default), not on the metrics port, which sigma-api and Prometheus reach remotely.
   */
  private static void mountXdsStatus(ActorContext<Command> ctx, AgentConfig config, Route status) {
    if (config.managementEnabled()) {
      ManagementRoutes.get(ctx.getSystem()).add(status);
    } else {
      ctx.getLog()
          .info(
              "/xds/status is off: it is served on the management port, and "
                  + "--management-port / AGENT_MANAGEMENT_PORT is 0");
    }
  }

  /**
   * The Envoy control plane: snapshot registry, config poller (saved configs served at once, then
   * sigma-api polled once registered), ADS server on --xds-bind:--xds-port. Returns the {@code
   * /xds/status} route (for the management server).
   */
  private static Xds startXds(
      ActorContext<Command> ctx,
      AgentConfig config,
      SigmaApi api,
      ActorRef<RegistrationActor.Command> registration,
      AgentMetrics metrics) {
    Clock clock = Clock.systemUTC();
    XdsMetrics xdsMetrics = new XdsMetrics(metrics);
    ActorRef<SnapshotRegistry.Command> registry =
        ctx.spawn(SnapshotRegistry.create(), "xds-registry");
    ConfigPoller.Settings settings =
        new ConfigPoller.Settings(
            config.xdsPollInterval(), new Backoff(config.backoffInitial(), config.backoffMax()));
    ActorRef<ConfigPoller.Command> poller =
        ctx.spawn(
            supervised(
                ConfigPoller.create(
                    settings,
                    api,
                    registration,
                    registry,
                    new NodeConfigStore(config.stateDir().resolve("xds"), clock),
                    xdsMetrics,
                    clock,
                    new SplittableRandom())),
            "xds-poller",
            DispatcherSelector.fromConfig(ConfigPoller.DISPATCHER));
    reportEnvoySync(ctx, config, registry, registration, clock);
    ctx.spawn(
        supervised(
            EnvoyAdminProbe.create(
                new EnvoyAdminProbe.Settings(
                    config.xdsPollInterval(),
                    EnvoyAdminProbe.TIMEOUT.plusSeconds(1),
                    EnvoyAdminProbe.MAX_CONCURRENT),
                new EnvoyAdminClient(ctx.getSystem(), EnvoyAdminProbe.TIMEOUT),
                new EnvoyAdminMetrics(metrics),
                poller)),
        "envoy-admin-probe");
    AdsService ads = new AdsService(registry, xdsMetrics, clock);
    AgentHealth.get(ctx.getSystem()).expectEndpoint("xDS server");
    ctx.pipeToSelf(
        XdsServer.start(ctx.getSystem(), ads, config.xdsBind(), config.xdsPort())
            .thenApply(
                server -> server.addToCoordinatedShutdown(XDS_STOP_DEADLINE, ctx.getSystem())),
        (server, error) ->
            new ServerBound(
                "xDS server",
                "--xds-port / AGENT_XDS_PORT",
                server == null ? null : server.localAddress(),
                error));
    return new Xds(new XdsStatusRoutes(registry, poller, ctx.getSystem(), clock).route(), poller);
  }

  /**
   * Heartbeats carry {@code system_info.envoy} (see {@link EnvoySyncReport}), refreshed at least
   * twice a heartbeat interval; the heartbeat reads the last report and never waits for it.
   */
  private static void reportEnvoySync(
      ActorContext<Command> ctx,
      AgentConfig config,
      ActorRef<SnapshotRegistry.Command> registry,
      ActorRef<RegistrationActor.Command> registration,
      Clock clock) {
    Duration refresh = config.interval().dividedBy(2);
    EnvoySyncReporter.Settings defaults = EnvoySyncReporter.Settings.DEFAULT;
    EnvoySyncReporter.Settings settings =
        refresh.compareTo(defaults.refreshEvery()) >= 0 || refresh.isZero()
            ? defaults
            : new EnvoySyncReporter.Settings(
                refresh,
                defaults.askTimeout(),
                refresh.multipliedBy(3).plus(defaults.askTimeout()));
    EnvoySyncReporter.Latest latest = new EnvoySyncReporter.Latest(clock, settings.maxAge());
    ctx.spawn(EnvoySyncReporter.create(registry, latest, settings), "xds-sync-report");
    registration.tell(
        new RegistrationActor.AddSystemInfo(
            () -> latest.current().<Map<String, ?>>map(r -> Map.of("envoy", r)).orElse(Map.of())));
  }

  private static Behavior<Command> running(
      ActorContext<Command> ctx, ActorRef<ConfigReloader.Command> reloader) {
    return Behaviors.receive(Command.class)
        .onMessage(
            ReloadConfig.class,
            reload -> {
              reloader.tell(new ConfigReloader.Reload(reload.outcome()));
              return Behaviors.same();
            })
        .onMessage(
            ServerBound.class,
            bound -> {
              if (bound.error() != null) {
                ctx.getLog()
                    .error(
                        "Could not start the {}: {}. Free the port or change {}. " + "Stopping.",
                        bound.what(),
                        BindFailure.describe(bound.error()),
                        bound.setting());
                return stopForStartupFailure(ctx);
              }
              ctx.getLog().info("{} listening on {}", bound.what(), bound.address());
              AgentHealth.get(ctx.getSystem()).endpointBound(bound.what());
              return Behaviors.same();
            })
        .onMessage(
            ManagementStarted.class,
            started -> {
              if (started.error() != null) {
                ctx.getLog()
                    .error(
                        "Could not start the health endpoints: {}. Free the port or "
                            + "change --management-port / AGENT_MANAGEMENT_PORT (0 disables them). "
                            + "Stopping.",
                        BindFailure.describe(started.error()));
                return stopForStartupFailure(ctx);
              }
              ctx.getLog()
                  .info("health endpoints listening on {} ({})", started.uri(), started.paths());
              CoordinatedShutdown.get(ctx.getSystem())
                  .addTask(
                      CoordinatedShutdown.PhaseServiceUnbind(),
                      "stop-health-endpoints",
                      PekkoManagement.get(ctx.getSystem().classicSystem())::stop);
              return Behaviors.same();
            })
        .onMessage(DevApiStarted.class, ignored -> Behaviors.same())
        .build();
  }

  private static Behavior<Command> stopForStartupFailure(ActorContext<Command> ctx) {
    CoordinatedShutdown.get(ctx.getSystem()).runAll(StartupFailure.INSTANCE);
    return Behaviors.same();
  }

  /** A crashed child restarts after a pause that grows on repeated crashes. */
  static <T> Behavior<T> supervised(Behavior<T> behavior) {
    return Behaviors.supervise(behavior)
        .onFailure(
            SupervisorStrategy.restartWithBackoff(
                Duration.ofSeconds(1), Duration.ofMinutes(1), 0.2));
  }
}
