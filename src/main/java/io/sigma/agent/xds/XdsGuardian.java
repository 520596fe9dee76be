package io.sigma.agent.xds;

import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.feature.Supervision;
import io.sigma.agent.retry.Backoff;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.random.RandomGenerator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The Envoy control plane of one agent, and its supervisor: spawns the {@link SnapshotRegistry} and
 * the {@link ConfigPoller} (which spawns its saver and registrar), starts the ADS server ({@link
 * XdsServer}) on the registry, and answers for the whole: the agent's guardian talks to this actor
 * only.
 *
 * <p>Every {@link ConfigPoller.Command} sent here is forwarded to the poller ({@code PollNow},
 * {@code IntervalChanged} on SIGHUP, {@code GetStatus}, {@link ConfigPoller.VpsKnown}, {@link
 * ConfigPoller.WatchNodes}); {@link GetServedStatus} goes to the registry. A crashed poller is
 * restarted after a pause (growing on repeated crashes) and told again the VPS id and the node
 * watchers it had, so it polls on where it stopped; the registry keeps serving Envoy meanwhile. The
 * registry itself resumes after a failing message with its snapshots and streams intact (see {@link
 * SnapshotRegistry#create}): restarting it would cut every Envoy off its config.
 */
public final class XdsGuardian {

  /** The guardian's protocol: the poller's commands (forwarded) and its own. */
  public sealed interface Command
      permits ConfigPoller.Command,
          GetServedStatus,
          ReportSyncStatus,
          ProbeEnvoyAdmins,
          PollerStarted,
          WatcherStopped {}

  /**
   * Keep {@code latest} filled with the Envoy sync report of what the registry serves (for the
   * heartbeat's {@code system_info.envoy}): spawns one supervised {@link EnvoySyncReporter}.
   */
  public record ReportSyncStatus(
      EnvoySyncReporter.Latest latest, EnvoySyncReporter.Settings settings) implements Command {}

  /**
   * Probe the admin interface of every listed Envoy node with an {@code admin_port} (see {@link
   * EnvoyAdminProbe}): spawns one supervised probe, fed by the poller's node listings and told the
   * reloaded poll interval.
   */
  public record ProbeEnvoyAdmins(
      EnvoyAdminProbe.Settings settings,
      EnvoyAdminProbe.Prober prober,
      EnvoyAdminProbe.Events events)
      implements Command {}

  /** Ask for what the registry serves ({@link XdsStatus}). */
  public record GetServedStatus(ActorRef<XdsStatus> replyTo) implements Command {}

  /** The poller started (the first time, or after a crash). */
  private record PollerStarted() implements Command {}

  /** A node watcher stopped: a restarted poller is not told about it. */
  private record WatcherStopped(ActorRef<ConfigPoller.EnvoyNodes> watcher) implements Command {}

  private static final String SYNC_REPORT = "sync-report";
  private static final String ADMIN_PROBE = "envoy-admin-probe";

  /** How long open ADS streams get to finish when the agent stops. */
  public static final Duration STOP_DEADLINE = Duration.ofSeconds(1);

  /**
   * @param poll polling and backoff
   * @param bind the ADS server's address
   * @param port the ADS server's port (0: any free one)
   * @param stateDir where node configs are saved
   */
  public record Settings(ConfigPoller.Settings poll, String bind, int port, Path stateDir) {

    /** The settings of {@code --xds-*}, {@code --state-dir} and the backoff. */
    public static Settings of(AgentConfig config) {
      return new Settings(
          new ConfigPoller.Settings(
              config.xdsPollInterval(), new Backoff(config.backoffInitial(), config.backoffMax())),
          config.xdsBind(),
          config.xdsPort(),
          config.stateDir().resolve("xds"));
    }
  }

  private XdsGuardian() {}

  /**
   * The guardian's behavior.
   *
   * @param store the state dir of node configs
   * @param metrics the metric hooks of the ADS streams and the poller
   * @param bound completed with the ADS server once it listens (it stops with the actor system), or
   *     failed when it cannot bind
   */
  public static Behavior<Command> create(
      Settings settings,
      SigmaApi api,
      NodeConfigStore store,
      XdsMetrics metrics,
      Clock clock,
      RandomGenerator random,
      CompletableFuture<XdsServer> bound) {
    return Behaviors.setup(
        context -> {
          ActorRef<SnapshotRegistry.Command> registry =
              context.spawn(SnapshotRegistry.create(), "registry");
          ActorRef<Command> self = context.getSelf();
          Behavior<ConfigPoller.Command> poller =
              Behaviors.setup(
                  pollerContext -> {
                    self.tell(new PollerStarted());
                    return ConfigPoller.create(
                        settings.poll(), api, registry, store, metrics, clock, random);
                  });
          ActorRef<ConfigPoller.Command> pollerRef =
              context.spawn(
                  ConfigPoller.restarting(poller),
                  "poller",
                  DispatcherSelector.fromConfig(ConfigPoller.DISPATCHER));
          XdsServer.start(
                  context.getSystem(),
                  new AdsService(registry, metrics, clock),
                  settings.bind(),
                  settings.port())
              .thenApply(
                  server -> server.addToCoordinatedShutdown(STOP_DEADLINE, context.getSystem()))
              .whenComplete(
                  (server, error) -> {
                    if (error == null) {
                      bound.complete(server);
                    } else {
                      bound.completeExceptionally(
                          error instanceof CompletionException && error.getCause() != null
                              ? error.getCause()
                              : error);
                    }
                  });
          return new Forwarding(context, registry, pollerRef).behavior();
        });
  }

  /**
   * Forwards to the children; remembers what a restarted poller must be told again: the VPS id and
   * the node watchers.
   */
  private static final class Forwarding {
    private final ActorContext<Command> context;
    private final ActorRef<SnapshotRegistry.Command> registry;
    private final ActorRef<ConfigPoller.Command> poller;
    private ConfigPoller.VpsKnown vps;
    private ActorRef<EnvoyAdminProbe.Command> adminProbe;
    private final List<ConfigPoller.WatchNodes> watchers = new ArrayList<>();

    Forwarding(
        ActorContext<Command> context,
        ActorRef<SnapshotRegistry.Command> registry,
        ActorRef<ConfigPoller.Command> poller) {
      this.context = context;
      this.registry = registry;
      this.poller = poller;
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(
              GetServedStatus.class,
              message -> {
                registry.tell(new SnapshotRegistry.GetStatus(message.replyTo()));
                return Behaviors.same();
              })
          .onMessage(
              ReportSyncStatus.class,
              report -> {
                if (context.getChild(SYNC_REPORT).isEmpty()) {
                  context.spawn(
                      Supervision.restartWithBackoff(
                          EnvoySyncReporter.create(registry, report.latest(), report.settings())),
                      SYNC_REPORT);
                }
                return Behaviors.same();
              })
          .onMessage(
              ProbeEnvoyAdmins.class,
              probe -> {
                if (adminProbe == null) {
                  adminProbe =
                      context.spawn(
                          Supervision.restartWithBackoff(
                              EnvoyAdminProbe.create(
                                  probe.settings(),
                                  probe.prober(),
                                  probe.events(),
                                  context.getSelf())),
                          ADMIN_PROBE);
                }
                return Behaviors.same();
              })
          .onMessage(
              ConfigPoller.IntervalChanged.class,
              changed -> {
                poller.tell(changed);
                if (adminProbe != null) {
                  adminProbe.tell(new EnvoyAdminProbe.IntervalChanged(changed.interval()));
                }
                return Behaviors.same();
              })
          .onMessage(
              PollerStarted.class,
              started -> {
                if (vps != null) {
                  poller.tell(vps);
                }
                watchers.forEach(poller::tell);
                return Behaviors.same();
              })
          .onMessage(
              ConfigPoller.VpsKnown.class,
              known -> {
                vps = known;
                poller.tell(known);
                return Behaviors.same();
              })
          .onMessage(
              ConfigPoller.WatchNodes.class,
              watch -> {
                if (!watchers.contains(watch)) {
                  watchers.add(watch);
                  context.watchWith(watch.watcher(), new WatcherStopped(watch.watcher()));
                }
                poller.tell(watch);
                return Behaviors.same();
              })
          .onMessage(
              WatcherStopped.class,
              stopped -> {
                watchers.removeIf(watch -> watch.watcher().equals(stopped.watcher()));
                return Behaviors.same();
              })
          .onMessage(
              ConfigPoller.Command.class,
              command -> {
                poller.tell(command);
                return Behaviors.same();
              })
          .build();
    }
  }
}
