package io.sigma.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.api.ApiKey;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.ConfigLoader;
import io.sigma.agent.config.RedactedUrl;
import io.sigma.agent.devapi.DevSeed;
import io.sigma.agent.devapi.DevSigmaApi;
import io.sigma.agent.feature.FeatureGuardian;
import io.sigma.agent.feature.Supervision;
import io.sigma.agent.fleet.FleetGuardian;
import io.sigma.agent.fleet.ProcHostFacts;
import io.sigma.agent.fleet.RegistrationActor;
import io.sigma.agent.fleet.SystemInfoExtras;
import io.sigma.agent.health.AgentHealth;
import io.sigma.agent.health.ManagementRoutes;
import io.sigma.agent.host.HostAddressDiscovery;
import io.sigma.agent.host.HostnameResolver;
import io.sigma.agent.host.SystemFactsReader;
import io.sigma.agent.logging.AgentLogConfigurator;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.metrics.LandingPage;
import io.sigma.agent.metrics.MetricsRoutes;
import io.sigma.agent.metrics.MetricsServer;
import io.sigma.agent.metrics.Version;
import io.sigma.agent.net.BindFailure;
import io.sigma.agent.net.HttpGuard;
import io.sigma.agent.ports.PortScanActor;
import io.sigma.agent.ports.PortsGuardian;
import io.sigma.agent.reload.ConfigReloader;
import io.sigma.agent.reload.LiveSettings;
import io.sigma.agent.retry.Backoff;
import io.sigma.agent.staticsync.StaticSyncActor;
import io.sigma.agent.staticsync.StaticSyncGuardian;
import io.sigma.agent.xds.ConfigPoller;
import io.sigma.agent.xds.EnvoyAdminClient;
import io.sigma.agent.xds.EnvoyAdminMetrics;
import io.sigma.agent.xds.EnvoyAdminProbe;
import io.sigma.agent.xds.EnvoySyncReport;
import io.sigma.agent.xds.EnvoySyncReporter;
import io.sigma.agent.xds.XdsGuardian;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.LoggerFactory;

/**
 * The root of one agent: composes one guardian per feature ({@link FeatureGuardian}: {@link
 * FleetGuardian} for registration and heartbeats, {@link PortsGuardian} for the port scan and
 * {@code POST /ports/allocate}, and with {@code --xds-enabled} the Envoy control plane), mounts
 * their routes on the metrics and management servers, binds their series to the registry, and hands
 * them reloaded configs. In {@code --dev} mode it first starts the embedded sigma-api and points
 * the agent at it. A server that cannot bind its port (metrics, xDS) stops the agent with {@link
 * StartupFailure}.
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

  private AgentGuardian() {}

  public static Behavior<Command> create(AgentConfig config) {
    return Behaviors.setup(
        ctx -> {
          // The feature guardians start from this actor's context: its log stays the root's.
          ctx.setLoggerName(AgentGuardian.class);
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
    SigmaApi api =
        new HttpSigmaApi(
            ctx.getSystem(), config.apiUrl(), config.apiKey(), config.requestTimeout());
    AgentMetrics metrics = new AgentMetrics(hostname, config.metricsHostnameLabel(), true);

    // With xDS, heartbeats carry the Envoy sync report (system_info.envoy) that xds keeps fresh.
    Optional<EnvoySyncReporter.Latest> envoySync =
        config.xdsEnabled() ? Optional.of(envoySyncLatest(config)) : Optional.empty();
    SystemInfoExtras extras =
        envoySync
            .<SystemInfoExtras>map(
                latest ->
                    () ->
                        CompletableFuture.completedFuture(
                            latest
                                .current()
                                .<Map<String, JsonNode>>map(report -> Map.of("envoy", report))
                                .orElse(Map.of())))
            .orElse(SystemInfoExtras.NONE);
    FleetGuardian fleet =
        FleetGuardian.start(
            ctx,
            config,
            new FleetGuardian.Dependencies(
                api,
                new ProcHostFacts(hostname, addresses, new SystemFactsReader(proc, Path.of("/"))),
                addresses::discover,
                extras));
    PortsGuardian ports = PortsGuardian.start(ctx, config);
    List<FeatureGuardian> features = List.of(fleet, ports);
    features.forEach(feature -> feature.metrics().bindTo(metrics));

    List<Route> routes = new ArrayList<>();
    routes.add(new MetricsRoutes(metrics.registry()).route());
    routes.add(new LandingPage(Version.current(), Version.revision()).route());
    features.forEach(feature -> routes.addAll(feature.metricsRoutes()));
    features.forEach(feature -> feature.managementRoutes().forEach(r -> mount(ctx, config, r)));
    Optional<ActorRef<ConfigPoller.Command>> poller = Optional.empty();
    if (config.xdsEnabled()) {
      Xds xds = startXds(ctx, config, api, fleet.registration(), metrics, envoySync.orElseThrow());
      mountXdsStatus(ctx, config, xds.statusRoute());
      poller = Optional.of(xds.poller());
    }
    if (config.envoyConfigSync().enabled()) {
      startStaticSync(ctx, config, api, fleet.registration(), metrics, hostname);
    }
    List<LiveSettings> live = new ArrayList<>(features);
    live.add(AgentGuardian::applyLogLevel);
    poller.ifPresent(
        p ->
            live.add(
                (applied, reloaded) -> {
                  if (!reloaded.xdsPollInterval().equals(applied.xdsPollInterval())) {
                    p.tell(new ConfigPoller.IntervalChanged(reloaded.xdsPollInterval()));
                  }
                }));
    ActorRef<ConfigReloader.Command> reloader =
        ctx.spawn(ConfigReloader.create(loaded, live), "config-reloader");
    AgentHealth health = AgentHealth.get(ctx.getSystem());
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

  /** --log-level is live. */
  private static void applyLogLevel(AgentConfig applied, AgentConfig loaded) {
    if (loaded.logLevel() != applied.logLevel()) {
      AgentLogConfigurator.setLevel(loaded.logLevel());
    }
  }

  /** --envoy-config-sync: the sync actor, told the VPS id by every registration. */
  private static void startStaticSync(
      ActorContext<Command> ctx,
      AgentConfig config,
      SigmaApi api,
      ActorRef<RegistrationActor.Command> registration,
      AgentMetrics metrics,
      String hostname) {
    ActorRef<StaticSyncActor.Command> sync =
        StaticSyncGuardian.spawn(
            ctx,
            config.envoyConfigSync(),
            api,
            metrics,
            new Backoff(config.backoffInitial(), config.backoffMax()),
            hostname,
            ctx.getSystem()
                .dispatchers()
                .lookup(DispatcherSelector.fromConfig(PortScanActor.BLOCKING_DISPATCHER)));
    ActorRef<RegistrationActor.Registered> vpsKnown =
        ctx.spawn(
            Behaviors.receiveMessage(
                (RegistrationActor.Registered r) -> {
                  sync.tell(new StaticSyncActor.VpsKnown(r.vpsId()));
                  return Behaviors.same();
                }),
            StaticSyncGuardian.NAME + "-registration");
    registration.tell(new RegistrationActor.Subscribe(vpsKnown));
  }

  /** A feature's page for the operator: on the management server, when it runs. */
  private static void mount(ActorContext<Command> ctx, AgentConfig config, Route route) {
    if (config.managementEnabled()) {
      ManagementRoutes.get(ctx.getSystem()).add(route);
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
   * The Envoy control plane ({@link XdsGuardian}): told the VPS id by the registration, its ADS
   * server's binding reported as a {@link ServerBound}. Returns the {@code /xds/status} route (for
   * the management server) and the poller (for reloads).
   */
  private static Xds startXds(
      ActorContext<Command> ctx,
      AgentConfig config,
      SigmaApi api,
      ActorRef<RegistrationActor.Command> registration,
      AgentMetrics metrics,
      EnvoySyncReporter.Latest envoySync) {
    XdsGuardian.Started xds = XdsGuardian.start(ctx, config, api, metrics);
    // The fleet's registration tells the VPS id; xds hears it as its own VpsKnown.
    ActorRef<RegistrationActor.Registered> vpsIds =
        ctx.spawn(
            Behaviors.receive(RegistrationActor.Registered.class)
                .onMessage(
                    RegistrationActor.Registered.class,
                    registered -> {
                      xds.guardian().tell(new ConfigPoller.VpsKnown(registered.vpsId()));
                      return Behaviors.same();
                    })
                .build(),
            "xds-vps-id");
    registration.tell(new RegistrationActor.Subscribe(vpsIds));
    AgentHealth.get(ctx.getSystem()).expectEndpoint("xDS server");
    ctx.pipeToSelf(
        xds.server(),
        (server, error) ->
            new ServerBound(
                "xDS server",
                "--xds-port / AGENT_XDS_PORT",
                server == null ? null : server.localAddress(),
                error));
    xds.guardian().tell(new XdsGuardian.ReportSyncStatus(envoySync, envoySyncSettings(config)));
    // Each Envoy node with an admin_port: /ready probed on loopback, exported as sigma_envoy_up.
    ctx.spawn(
        supervised(
            EnvoyAdminProbe.create(
                new EnvoyAdminProbe.Settings(
                    config.xdsPollInterval(),
                    EnvoyAdminProbe.TIMEOUT.plusSeconds(1),
                    EnvoyAdminProbe.MAX_CONCURRENT),
                new EnvoyAdminClient(ctx.getSystem(), EnvoyAdminProbe.TIMEOUT),
                new EnvoyAdminMetrics(metrics),
                xds.guardian())),
        "envoy-admin-probe");
    return new Xds(xds.statusRoute(), xds.poller());
  }

  /**
   * Heartbeats carry {@code system_info.envoy} (see {@link EnvoySyncReport}), refreshed at least
   * twice a heartbeat interval; the heartbeat reads the last report and never waits for it.
   */
  private static EnvoySyncReporter.Settings envoySyncSettings(AgentConfig config) {
    Duration refresh = config.interval().dividedBy(2);
    EnvoySyncReporter.Settings defaults = EnvoySyncReporter.Settings.DEFAULT;
    return refresh.compareTo(defaults.refreshEvery()) >= 0 || refresh.isZero()
        ? defaults
        : new EnvoySyncReporter.Settings(
            refresh, defaults.askTimeout(), refresh.multipliedBy(3).plus(defaults.askTimeout()));
  }

  private static EnvoySyncReporter.Latest envoySyncLatest(AgentConfig config) {
    return new EnvoySyncReporter.Latest(Clock.systemUTC(), envoySyncSettings(config).maxAge());
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
    return Supervision.restartWithBackoff(behavior);
  }
}
