package io.sigma.agent.ports;

import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.config.AllocationToken;
import io.sigma.agent.feature.FeatureGuardian;
import io.sigma.agent.feature.MetricsBinder;
import io.sigma.agent.feature.Supervision;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ports feature. With --port-scan: the supervised {@link PortScanActor}, the {@link
 * PortAllocator} actor behind {@code POST /ports/allocate} and the port series ({@link
 * PortMetrics}). Without: the route alone, answering 503. The route goes on the metrics port; a
 * reloaded --allocate-token applies to the next request.
 */
public final class PortsGuardian implements FeatureGuardian {
  private static final Logger LOG = LoggerFactory.getLogger(PortsGuardian.class);

  private final Route route;
  private final MetricsBinder metrics;
  private final AtomicReference<Optional<AllocationToken>> token;

  private PortsGuardian(
      Route route, MetricsBinder metrics, AtomicReference<Optional<AllocationToken>> token) {
    this.route = route;
    this.metrics = metrics;
    this.token = token;
  }

  /** Spawns the ports' actors (with --port-scan) as children of {@code ctx}'s actor. */
  public static PortsGuardian start(ActorContext<?> ctx, AgentConfig config) {
    PortScanner scanner = PortScanner.onProc(config.hostProc());
    return start(ctx, config, () -> scanner.scan(config.portScanRange()), new BindProbe());
  }

  /**
   * @param scan one scan of the range, run every --port-scan-interval on the blocking dispatcher
   * @param bindCheck the bind test of every allocated port
   */
  public static PortsGuardian start(
      ActorContext<?> ctx, AgentConfig config, Supplier<PortScan> scan, PortBindCheck bindCheck) {
    Executor blocking =
        ctx.getSystem()
            .dispatchers()
            .lookup(DispatcherSelector.fromConfig(PortScanActor.BLOCKING_DISPATCHER));
    AtomicReference<Optional<AllocationToken>> token =
        new AtomicReference<>(config.allocateToken());
    Optional<AllocationRoutes.Allocator> allocator = Optional.empty();
    MetricsBinder metrics = MetricsBinder.NONE;
    if (config.portScan()) {
      LatestPortScan latest = new LatestPortScan();
      metrics = registry -> PortMetrics.register(registry, latest);
      ctx.spawn(
          Supervision.restartWithBackoff(
              PortScanActor.create(scan, config.portScanInterval(), latest, blocking)),
          "port-scan");
      ActorRef<PortAllocator.Command> actor =
          ctx.spawn(
              PortAllocator.create(
                  config.portScanRange(),
                  latest,
                  bindCheck,
                  config.allocateReservation(),
                  Clock.systemUTC()),
              "port-allocator");
      allocator = Optional.of(new AllocationRoutes.Allocator(actor, config.portScanRange()));
    }
    AllocationCallers callers =
        new AllocationCallers(
            config.allocateAllowFrom(),
            Optional.of(ApiHostAddresses.of(config.apiUrl().getHost(), blocking)));
    logAllocationCallers(config);
    Route route =
        new AllocationRoutes(
                allocator,
                token::get,
                callers,
                CallerRateLimiter.standard(),
                ctx.getSystem().scheduler())
            .route();
    return new PortsGuardian(route, metrics, token);
  }

  private static void logAllocationCallers(AgentConfig config) {
    if (AllocationCallers.opensToEveryone(config.allocateAllowFrom())) {
      LOG.warn(
          "POST /ports/allocate is open to every address (--allocate-allow-from {}): "
              + "anyone who reaches the metrics port can reserve ports, up to {} requests at once "
              + "and one a second per address. List sigma-api's ranges instead.",
          config.allocateAllowFrom(),
          CallerRateLimiter.BURST);
    } else {
      LOG.info(
          "POST /ports/allocate answers loopback, sigma-api ({}){}; others get 403",
          config.apiUrl().getHost(),
          config.allocateAllowFrom().isEmpty()
              ? ""
              : " and " + config.allocateAllowFrom() + " (--allocate-allow-from)");
    }
  }

  /** {@code POST /ports/allocate}. */
  @Override
  public List<Route> metricsRoutes() {
    return List.of(route);
  }

  @Override
  public MetricsBinder metrics() {
    return metrics;
  }

  /** --allocate-token is live: the next request is checked against the reloaded one. */
  @Override
  public void apply(AgentConfig applied, AgentConfig loaded) {
    token.set(loaded.allocateToken());
  }
}
