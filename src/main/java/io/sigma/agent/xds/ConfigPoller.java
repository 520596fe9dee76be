package io.sigma.agent.xds;

import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.retry.Backoff;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Feeds the {@link SnapshotRegistry} from sigma-api: the config source of the xDS control plane.
 *
 * <ol>
 *   <li>On start, every node config saved in the state dir ({@link NodeConfigStore}) is served at
 *       once, before sigma-api has answered anything.
 *   <li>It learns the VPS id from {@link VpsKnown} (the composition root adapts the fleet's
 *       registration into it, and follows re-registrations); nothing is polled before.
 *   <li>Every poll interval (±10%; the second poll after the VPS id is known at a random point of a
 *       whole interval, so agents that registered together do not poll together): all active Envoy
 *       nodes of the VPS (every page); for each node whose config_version (or UUID) differs from
 *       what is served, all its active dynamic routes (every page, a few nodes at a time), mapped
 *       and set as the node's snapshot, and saved. Only changed nodes get a new snapshot.
 *   <li>A node's routes are read page by page, and an edit between two page reads would tear the
 *       set (rows shift between pages). So a read counts only if it is consistent: its pages fit
 *       together (one total, no route id twice, none short: a listing that does not is refused as
 *       changed, {@code SigmaApiException.isListingChanged()}), and the VPS's node listing read
 *       again after the last page still shows the node with the UUID and config_version the read
 *       started from. Otherwise the read is retried (at most {@link #MAX_READ_ATTEMPTS} attempts, a
 *       short jittered pause between them) from the re-read node; after that it is a failed fetch
 *       of that node. A torn read is never served nor saved; a snapshot is labelled with the
 *       config_version it was read at.
 *   <li>A node missing from a successful listing is removed (its streams get an empty config) and
 *       its saved config deleted. Listings longer than one page are not read atomically by the API
 *       (a deletion between two pages shifts rows), so there a node is removed only when two
 *       listings in a row miss it.
 * </ol>
 *
 * <p>Each snapshot gets a serial, its xDS version_info (see {@link XdsSnapshot}): the previous
 * serial of the node.id + 1, or the wall clock in milliseconds when that is higher. Serials are
 * remembered per node.id also after a node is removed, and saved with the node's config, so
 * version_info never names two resource sets for one node.id, also when a node is deleted and
 * re-created in sigma-api (its config_version restarts at 1) and across restarts.
 *
 * <p>A config that cannot be saved (disk full, unwritable state dir) is served from memory and its
 * save retried (backoff with jitter) until it works; a newer config of the node replaces a pending
 * save. So a restart never serves a config older than the last one served. Saving is the job of a
 * child, {@link NodeConfigSaver}.
 *
 * <p>Failures never clear a snapshot: a failed listing changes nothing and the next poll waits
 * longer (backoff, never less than the interval); a failed routes fetch keeps that node's last
 * snapshot, does not hold back the other nodes, and is retried at the next poll. At most one poll
 * is in flight.
 *
 * <p>Envoys whose node.id sigma-api does not list for this VPS are registered with {@code POST
 * /envoy-nodes} (the {@link SnapshotRegistry} tells which node.ids are connected), once per node.id
 * and VPS; a node.id that was listed before (then deleted by an operator) is not registered again.
 * The new node is served from the poll that follows. That is the job of a child, {@link
 * NodeRegistrar}.
 *
 * <p>Every decision above is taken by a {@link NodeReconciler} (pure, no actor); this actor feeds
 * it what sigma-api answered (each answer stamped with the poll it belongs to) and carries out its
 * effects. Whoever needs the listed nodes (node.id, admin port, config_version) sends {@link
 * WatchNodes}.
 */
public final class ConfigPoller extends AbstractBehavior<ConfigPoller.Command> {

  /**
   * The poller's protocol. Every poller command is also an {@link XdsGuardian.Command}: the xDS
   * guardian forwards them to its poller.
   */
  public sealed interface Command extends XdsGuardian.Command
      permits PollNow,
          GetStatus,
          VpsKnown,
          WatchNodes,
          IntervalChanged,
          SavesChanged,
          Tick,
          NodesListed,
          RoutesFetched,
          NodeRechecked,
          RetryRead {}

  /** Poll now instead of at the next interval (right after the poll in flight, if any). */
  public record PollNow() implements Command {}

  /** SIGHUP changed the poll interval: the next poll is due one new interval from now. */
  public record IntervalChanged(Duration interval) implements Command {}

  /** Ask for the poller's {@link PollerStatus}. */
  public record GetStatus(ActorRef<PollerStatus> replyTo) implements Command {}

  /** This agent is registered as VPS {@code vpsId} (again, or under a new id). */
  public record VpsKnown(String vpsId) implements Command {}

  /**
   * Tell {@code watcher} the Envoy nodes sigma-api lists for this VPS: at once, then after each
   * listing that changes them.
   */
  public record WatchNodes(ActorRef<EnvoyNodes> watcher) implements Command {}

  /** The Envoy nodes of the last successful listing of VPS {@code vpsId} (null before one). */
  public record EnvoyNodes(String vpsId, List<ListedNode> nodes) {
    public EnvoyNodes {
      nodes = List.copyOf(nodes);
    }
  }

  /**
   * One listed Envoy node.
   *
   * @param adminPort its admin port as sigma-api knows it, null when unset
   */
  public record ListedNode(String nodeId, Integer adminPort, long configVersion) {}

  /** The saver's pending saves changed (for the status). */
  record SavesChanged(List<String> unsavedNodes, String lastError) implements Command {
    SavesChanged {
      unsavedNodes = List.copyOf(unsavedNodes);
    }
  }

  private enum Tick implements Command {
    INSTANCE
  }

  private record NodesListed(long poll, List<EnvoyNode> nodes, Throwable error)
      implements Command {}

  /** Attempt {@code attempt} at reading the routes of {@code node} (as listed when it started). */
  private record RoutesFetched(
      long poll, EnvoyNode node, int attempt, List<EnvoyRoute> routes, Throwable error)
      implements Command {}

  /**
   * The node listing read again after the routes of {@code node}, to tell whether they moved
   * meanwhile.
   */
  private record NodeRechecked(
      long poll,
      EnvoyNode node,
      int attempt,
      List<EnvoyRoute> routes,
      List<EnvoyNode> nodes,
      Throwable error)
      implements Command {}

  /** Read the routes of {@code node} again: the previous attempt was torn. */
  private record RetryRead(long poll, EnvoyNode node, int attempt) implements Command {}

  /**
   * The dispatcher to run the poller on (sigma-agent.conf): its saver child writes the state dir,
   * blocking file I/O that must not hold up the default dispatcher's threads.
   */
  public static final String DISPATCHER = "sigma-agent.xds-poller-dispatcher";

  /** Description of the nodes this agent creates for unknown Envoys. */
  public static final String AUTO_REGISTERED_DESCRIPTION = "auto-registered by sigma-agent";

  /** How many nodes' routes are fetched at once (the API client's pool has 4 connections). */
  public static final int DEFAULT_FETCH_CONCURRENCY = 4;

  /** Reads of one node's routes per poll before a read that keeps changing counts as a failure. */
  static final int MAX_READ_ATTEMPTS = 3;

  /** Pauses between reads of a node's routes that changed while being read (full jitter). */
  static final Backoff READ_RETRY_BACKOFF =
      new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1));

  /** Rejected routes listed per node in the status (all of them are counted). */
  static final int MAX_REJECTED_IN_STATUS = 50;

  /**
   * @param interval time between polls
   * @param backoff delays after failed polls (never below {@code interval}) and failed saves
   * @param fetchConcurrency routes fetches in flight at once
   */
  public record Settings(Duration interval, Backoff backoff, int fetchConcurrency) {
    public Settings {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("poll interval must be positive: " + interval);
      }
      if (fetchConcurrency < 1) {
        throw new IllegalArgumentException(
            "fetchConcurrency must be at least 1: " + fetchConcurrency);
      }
    }

    public Settings(Duration interval, Backoff backoff) {
      this(interval, backoff, DEFAULT_FETCH_CONCURRENCY);
    }
  }

  private static final Object POLL_TIMER = "poll";

  /** A crashed child (saver, registrar) restarts after a pause that grows on repeated crashes. */
  static <T> Behavior<T> restarting(Behavior<T> behavior) {
    return Behaviors.supervise(behavior)
        .onFailure(
            SupervisorStrategy.restartWithBackoff(
                Duration.ofSeconds(1), Duration.ofMinutes(1), 0.2));
  }

  private final SigmaApi api;
  private final ActorRef<SnapshotRegistry.Command> registry;
  private final TimerScheduler<Command> timers;
  private final NodeReconciler reconciler;
  private final ActorRef<NodeConfigSaver.Command> saver;
  private final ActorRef<NodeRegistrar.Command> registrar;
  private final List<ActorRef<EnvoyNodes>> nodeWatchers = new ArrayList<>();
  private EnvoyNodes published;
  private SavesChanged saves = new SavesChanged(List.of(), null);

  /**
   * @param registry where snapshots go; also tells which node.ids are connected
   * @param store the state dir: loaded at start, written after each new snapshot
   * @param pendingSaves saves not done yet, kept across restarts of the saver child
   */
  public static Behavior<Command> create(
      Settings settings,
      SigmaApi api,
      ActorRef<SnapshotRegistry.Command> registry,
      NodeConfigStore store,
      PollerEvents events,
      Clock clock,
      RandomGenerator random) {
    NodeConfigSaver.Pending pendingSaves = new NodeConfigSaver.Pending();
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  context.setLoggerName(ConfigPoller.class);
                  return new ConfigPoller(
                      context,
                      timers,
                      settings,
                      api,
                      registry,
                      store,
                      events,
                      clock,
                      random,
                      pendingSaves);
                }));
  }

  private ConfigPoller(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Settings settings,
      SigmaApi api,
      ActorRef<SnapshotRegistry.Command> registry,
      NodeConfigStore store,
      PollerEvents events,
      Clock clock,
      RandomGenerator random,
      NodeConfigSaver.Pending pendingSaves) {
    super(context);
    this.timers = timers;
    this.api = api;
    this.registry = registry;
    this.reconciler = new NodeReconciler(settings, events, clock, random, context.getLog());
    this.saver =
        context.spawn(
            restarting(
                NodeConfigSaver.create(
                    store, settings.backoff(), random, context.getSelf(), pendingSaves)),
            "saver");
    this.registrar =
        context.spawn(
            restarting(NodeRegistrar.create(api, registry, context.getSelf(), events)),
            "registrar");
    List<NodeConfigStore.Saved> saved = store.loadAll();
    apply(reconciler.serveSaved(saved));
    if (!saved.isEmpty()) {
      registrar.tell(
          new NodeRegistrar.NotToRegister(
              saved.stream().map(entry -> entry.config().nodeId()).collect(Collectors.toSet())));
      context
          .getLog()
          .info(
              "xDS: serving the saved config of {} Envoy node(s) from {} until sigma-api answers: {}",
              saved.size(),
              store.dir(),
              saved.stream()
                  .map(NodeConfigStore.Saved::config)
                  .map(c -> c.nodeId() + " v" + c.configVersion())
                  .collect(Collectors.joining(", ")));
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(VpsKnown.class, message -> apply(reconciler.onVpsKnown(message.vpsId())))
        .onMessageEquals(Tick.INSTANCE, () -> apply(reconciler.onTick()))
        .onMessage(PollNow.class, message -> apply(reconciler.onPollNow()))
        .onMessage(
            IntervalChanged.class,
            message -> apply(reconciler.onIntervalChanged(message.interval())))
        .onMessage(
            NodesListed.class,
            message ->
                apply(reconciler.onNodesListed(message.poll(), message.nodes(), message.error())))
        .onMessage(
            RoutesFetched.class,
            message ->
                apply(
                    reconciler.onRoutesRead(
                        message.poll(),
                        message.node(),
                        message.attempt(),
                        message.routes(),
                        message.error())))
        .onMessage(
            NodeRechecked.class,
            message ->
                apply(
                    reconciler.onNodeRechecked(
                        message.poll(),
                        message.node(),
                        message.attempt(),
                        message.routes(),
                        message.nodes(),
                        message.error())))
        .onMessage(
            RetryRead.class,
            message ->
                apply(reconciler.onReadAgain(message.poll(), message.node(), message.attempt())))
        .onMessage(
            SavesChanged.class,
            message -> {
              saves = message;
              return this;
            })
        .onMessage(WatchNodes.class, this::onWatchNodes)
        .onMessage(
            GetStatus.class,
            message -> {
              message.replyTo().tell(reconciler.status(saves.unsavedNodes(), saves.lastError()));
              return this;
            })
        .onSignal(
            Terminated.class,
            terminated -> {
              nodeWatchers.remove(terminated.getRef());
              return this;
            })
        .build();
  }

  /** Carries out what the reconciler decided, in order. */
  private Behavior<Command> apply(List<NodeReconciler.Effect> effects) {
    for (NodeReconciler.Effect effect : effects) {
      if (effect instanceof NodeReconciler.ListNodes list) {
        timers.cancel(POLL_TIMER);
        getContext()
            .pipeToSelf(
                api.allEnvoyNodes(list.vpsId()),
                (nodes, error) -> new NodesListed(list.poll(), nodes, error));
      } else if (effect instanceof NodeReconciler.ReadRoutes read) {
        getContext()
            .pipeToSelf(
                api.allEnvoyRoutes(read.node().id()),
                (routes, error) ->
                    new RoutesFetched(read.poll(), read.node(), read.attempt(), routes, error));
      } else if (effect instanceof NodeReconciler.RecheckNode recheck) {
        getContext()
            .pipeToSelf(
                api.allEnvoyNodes(recheck.vpsId()),
                (nodes, error) ->
                    new NodeRechecked(
                        recheck.poll(),
                        recheck.node(),
                        recheck.attempt(),
                        recheck.routes(),
                        nodes,
                        error));
      } else if (effect instanceof NodeReconciler.ReadAgainLater later) {
        timers.startSingleTimer(
            "read:" + later.node().nodeId(),
            new RetryRead(later.poll(), later.node(), later.attempt()),
            later.pause());
      } else if (effect instanceof NodeReconciler.Serve serve) {
        registry.tell(
            serve.onlyIfAbsent()
                ? new SnapshotRegistry.SetSnapshotIfAbsent(serve.snapshot())
                : new SnapshotRegistry.SetSnapshot(serve.snapshot()));
      } else if (effect instanceof NodeReconciler.Remove remove) {
        registry.tell(new SnapshotRegistry.RemoveNode(remove.nodeId(), remove.serial()));
      } else if (effect instanceof NodeReconciler.Save save) {
        saver.tell(new NodeConfigSaver.Save(save.config(), save.serial()));
      } else if (effect instanceof NodeReconciler.DeleteSaved delete) {
        saver.tell(new NodeConfigSaver.Delete(delete.nodeId()));
      } else if (effect instanceof NodeReconciler.SchedulePoll next) {
        timers.startSingleTimer(POLL_TIMER, Tick.INSTANCE, next.delay());
      } else if (effect instanceof NodeReconciler.VpsChanged changed) {
        registrar.tell(new NodeRegistrar.VpsChanged(changed.vpsId()));
        publish(new EnvoyNodes(changed.vpsId(), List.of()));
      } else if (effect instanceof NodeReconciler.Listed listed) {
        registrar.tell(
            new NodeRegistrar.Listed(
                listed.vpsId(),
                listed.nodes().stream().map(EnvoyNode::nodeId).collect(Collectors.toSet())));
        publish(
            new EnvoyNodes(
                listed.vpsId(),
                listed.nodes().stream()
                    .map(
                        node ->
                            new ListedNode(node.nodeId(), node.adminPort(), node.configVersion()))
                    .toList()));
      }
    }
    return this;
  }

  private Behavior<Command> onWatchNodes(WatchNodes message) {
    if (!nodeWatchers.contains(message.watcher())) {
      nodeWatchers.add(message.watcher());
      getContext().watch(message.watcher());
    }
    message
        .watcher()
        .tell(published == null ? new EnvoyNodes(reconciler.vpsId(), List.of()) : published);
    return this;
  }

  /** Tells the node watchers {@code nodes} if they differ from what they were told last. */
  private void publish(EnvoyNodes nodes) {
    if (nodes.equals(published)) {
      return;
    }
    published = nodes;
    nodeWatchers.forEach(watcher -> watcher.tell(nodes));
  }
}
