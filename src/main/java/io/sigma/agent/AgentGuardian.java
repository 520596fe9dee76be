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
import io.sigma.agent.feature.FeatureServer;
import io.sigma.agent.feature.ManagementPage;
import io.sigma.agent.fleet.FleetGuardian;
import io.sigma.agent.fleet.ProcHostFacts;
import io.sigma.agent.fleet.RegistrationActor;
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
import io.sigma.agent.staticsync.StaticSyncGuardian;
import io.sigma.agent.xds.XdsFeature;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * {@code POST /ports/allocate}, with {@code --xds-enabled} {@link XdsFeature}, the Envoy control
 * plane, and with {@code --envoy-config-sync} {@link StaticSyncGuardian}), mounts their routes on
 * the metrics and management servers, binds their series to the registry, passes the VPS id the
 * fleet learns and the system_info the others report, waits for their servers, and hands them
 * reloaded configs. In {@code --dev} mode it first starts the embedded sigma-api and points the
 * agent at it. A server that cannot bind its port (metrics, xDS) stops the agent with {@link
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

    List<FeatureGuardian> features = new ArrayList<>();
    features.add(PortsGuardian.start(ctx, config));
    if (config.xdsEnabled()) {
      features.add(XdsFeature.start(ctx, config, api, metrics));
    }
    if (config.envoyConfigSync().enabled()) {
      features.add(
          StaticSyncGuardian.start(
              ctx,
              config,
              api,
              metrics,
              hostname,
              ctx.getSystem()
                  .dispatchers()
                  .lookup(DispatcherSelector.fromConfig(PortScanActor.BLOCKING_DISPATCHER))));
    }
    // The fleet goes last: its heartbeats carry what the others add to system_info.
    List<FeatureGuardian> others = List.copyOf(features);
    FleetGuardian fleet =
        FleetGuardian.start(
            ctx,
            config,
            new FleetGuardian.Dependencies(
                api,
                new ProcHostFacts(hostname, addresses, new SystemFactsReader(proc, Path.of("/"))),
                addresses::discover,
                () -> CompletableFuture.completedFuture(systemInfo(others))));
    features.add(0, fleet);
    fleet.subscribe(
        ctx.spawn(
            Behaviors.receiveMessage(
                (RegistrationActor.Registered registered) -> {
                  others.forEach(feature -> feature.vpsKnown(registered.vpsId()));
                  return Behaviors.same();
                }),
            "vps-id"));
    features.forEach(feature -> feature.metrics().bindTo(metrics));

    List<Route> routes = new ArrayList<>();
    routes.add(new MetricsRoutes(metrics.registry()).route());
    routes.add(new LandingPage(Version.current(), Version.revision()).route());
    features.forEach(feature -> routes.addAll(feature.metricsRoutes()));
    List<String> pages = new ArrayList<>(List.of("/alive", "/ready"));
    if (config.managementEnabled()) {
      ManagementRoutes management = ManagementRoutes.get(ctx.getSystem());
      for (FeatureGuardian feature : features) {
        for (ManagementPage page : feature.managementPages()) {
          management.add(page.route());
          pages.add(page.path());
        }
      }
    }
    List<LiveSettings> live = new ArrayList<>(features);
    live.add(AgentGuardian::applyLogLevel);
    ActorRef<ConfigReloader.Command> reloader =
        ctx.spawn(ConfigReloader.create(loaded, live), "config-reloader");

    List<FeatureServer> servers = new ArrayList<>();
    if (config.metricsEnabled()) {
      servers.add(
          new FeatureServer(
              "metrics server",
              "--metrics-port / AGENT_METRICS_PORT",
              MetricsServer.bind(
                      ctx.getSystem(),
                      config.metricsBind(),
                      config.metricsPort(),
                      routes,
                      HttpGuard.METRICS,
                      config.webConfigFile())
                  .thenApply(binding -> binding.localAddress())));
    }
    features.forEach(feature -> servers.addAll(feature.servers()));
    AgentHealth health = AgentHealth.get(ctx.getSystem());
    for (FeatureServer server : servers) {
      health.expectEndpoint(server.what());
      ctx.pipeToSelf(
          server.listening(),
          (address, error) -> new ServerBound(server.what(), server.setting(), address, error));
    }
    if (config.managementEnabled()) {
      startManagement(ctx, String.join(", ", pages));
    }
    ctx.getLog()
        .info(
            "Agent started for hostname {}; registering with {}",
            hostname,
            RedactedUrl.of(config.apiUrl()));
    return running(ctx, reloader);
  }

  /** The features' system_info objects, by key (a feature that fails to answer is left out). */
  private static Map<String, JsonNode> systemInfo(List<FeatureGuardian> features) {
    Map<String, JsonNode> info = new LinkedHashMap<>();
    for (FeatureGuardian feature : features) {
      try {
        feature.systemInfo().forEach(info::putIfAbsent);
      } catch (RuntimeException e) {
        LoggerFactory.getLogger(AgentGuardian.class)
            .warn(
                "A feature's system_info failed ({}); the heartbeat goes without it", e.toString());
      }
    }
    return info;
  }

  /** --log-level is live. */
  private static void applyLogLevel(AgentConfig applied, AgentConfig loaded) {
    if (loaded.logLevel() != applied.logLevel()) {
      AgentLogConfigurator.setLevel(loaded.logLevel());
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
}
