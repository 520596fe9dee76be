package io.sigma.agent.xds;

import io.sigma.agent.api.CreateEnvoyNodeRequest;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SigmaApiException;
import io.sigma.agent.fleet.RegistrationActor;
import io.sigma.agent.retry.Backoff;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;

/**
 * Feeds the {@link SnapshotRegistry} from sigma-api: the config source of the xDS control plane.
 *
 * <ol>
 *   <li>On start, every node config saved in the state dir ({@link NodeConfigStore}) is served at
 *       once, before sigma-api has answered anything.
 *   <li>It learns the VPS id from the {@link RegistrationActor} (and follows it when a
 *       re-registration changes it); nothing is polled before.
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
 * save. So a restart never serves a config older than the last one served.
 *
 * <p>Failures never clear a snapshot: a failed listing changes nothing and the next poll waits
 * longer (backoff, never less than the interval); a failed routes fetch keeps that node's last
 * snapshot, does not hold back the other nodes, and is retried at the next poll. At most one poll
 * is in flight.
 *
 * <p>Envoys whose node.id sigma-api does not list for this VPS are registered with {@code POST
 * /envoy-nodes} (the {@link SnapshotRegistry} tells which node.ids are connected), once per node.id
 * and VPS; a node.id that was listed before (then deleted by an operator) is not registered again.
 * The new node is served from the poll that follows.
 */
public final class ConfigPoller extends AbstractBehavior<ConfigPoller.Command> {

  /** The poller's protocol. */
  public sealed interface Command
      permits PollNow,
          GetStatus,
          VpsIdentified,
          ConnectedNodesChanged,
          Tick,
          NodesListed,
          RoutesFetched,
          NodeRechecked,
          RetryRead,
          RetrySaves,
          NodeRegistered,
          IntervalChanged,
          WatchNodes {}

  /** Poll now instead of at the next interval (right after the poll in flight, if any). */
  public record PollNow() implements Command {}

  /** SIGHUP changed the poll interval: the next poll is due one new interval from now. */
  public record IntervalChanged(Duration interval) implements Command {}

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

  /** Ask for the poller's {@link PollerStatus}. */
  public record GetStatus(ActorRef<PollerStatus> replyTo) implements Command {}

  private record VpsIdentified(String vpsId) implements Command {}

  private record ConnectedNodesChanged(Set<String> nodeIds) implements Command {}

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

  private enum RetrySaves implements Command {
    INSTANCE
  }

  private record NodeRegistered(String vpsId, String nodeId, EnvoyNode node, Throwable error)
      implements Command {}

  /**
   * The dispatcher to run the poller on (sigma-agent.conf): it writes the state dir, blocking file
   * I/O that must not hold up the default dispatcher's threads.
   */
  public static final String DISPATCHER = "sigma-agent.xds-poller-dispatcher";

  /** Description of the nodes this agent creates for unknown Envoys. */
  public static final String AUTO_REGISTERED_DESCRIPTION = "auto-registered by sigma-agent";

  /** How many nodes' routes are fetched at once (the API client's pool has 4 connections). */
  public static final int DEFAULT_FETCH_CONCURRENCY = 4;

  /** Longest node.id this agent registers on its own (a garbage id is not worth a node). */
  static final int MAX_REGISTERED_NODE_ID = 255;

  /** Reads of one node's routes per poll before a read that keeps changing counts as a failure. */
  static final int MAX_READ_ATTEMPTS = 3;

  /** Pauses between reads of a node's routes that changed while being read (full jitter). */
  static final Backoff READ_RETRY_BACKOFF =
      new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1));

  /** Rejected routes listed per node in the status (all of them are counted). */
  static final int MAX_REJECTED_IN_STATUS = 50;

  /**
   * @param interval time between polls
   * @param backoff delays after failed polls (never below {@code interval})
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
  private static final Object SAVE_TIMER = "save";

  private Settings settings;
  private final SigmaApi api;
  private final ActorRef<SnapshotRegistry.Command> registry;
  private final NodeConfigStore store;
  private final PollerEvents events;
  private final Clock clock;
  private final RandomGenerator random;
  private final TimerScheduler<Command> timers;
  private final Logger log;
  private final RouteResourceMapper mapper = new RouteResourceMapper();

  /** What the registry serves, by node.id (only this actor sets snapshots). */
  private final Map<String, Served> served = new TreeMap<>();

  /** Nodes of the last successful listing, by node.id; null before one for the current VPS id. */
  private Map<String, EnvoyNode> listed;

  /** Served nodes a multi-page listing missed once (removed when the next one misses them too). */
  private final Set<String> missingOnce = new HashSet<>();

  /** node.ids never to auto-register for the current VPS: listed or served before, or tried. */
  private final Set<String> notToRegister = new HashSet<>();

  private Set<String> connected = Set.of();

  /** Routes fetch failures of the current streak, by node.id. */
  private final Map<String, FetchFailure> fetchFailures = new TreeMap<>();

  /** Listing entries already warned about (bad node_id), by node UUID. */
  private final Set<String> warnedBadNodes = new HashSet<>();

  /**
   * The last serial handed out per node.id, kept after a node is removed (a re-created node must
   * not reuse a version_info its Envoys saw). One entry per node.id sigma-api ever listed.
   */
  private final Map<String, Long> lastSerials = new HashMap<>();

  /** Configs served but not saved yet (the state dir failed), newest per node.id. */
  private final Map<String, PendingSave> pendingSaves = new TreeMap<>();

  /** Failed save rounds in a row (the retry delay grows with it). */
  private int saveFailures;

  private String lastSaveError;

  private String vpsId;
  private final List<ActorRef<EnvoyNodes>> nodeWatchers = new ArrayList<>();
  private EnvoyNodes published;
  private long pollId;
  private boolean pollInFlight;
  private boolean pollAgain;

  /** False until the poll after the first one is scheduled for the current VPS id. */
  private boolean phaseChosen;

  private long pollStartedNanos;
  private Instant pollStartedAt;
  private final Queue<EnvoyNode> toFetch = new ArrayDeque<>();
  private int fetchesInFlight;
  private int fetchesFailedThisPoll;

  private Instant lastPollAt;
  private PollResult lastResult;
  private String lastError;
  private Instant lastSuccessAt;
  private int consecutiveFailures;

  /**
   * @param rejected the first {@link #MAX_REJECTED_IN_STATUS} routes left out
   * @param rejectedCount all routes left out
   */
  private record Served(
      String envoyNodeUuid,
      long version,
      long serial,
      List<PollerStatus.Rejected> rejected,
      int rejectedCount) {}

  private record PendingSave(NodeConfig config, long serial) {}

  private record FetchFailure(String message, Instant at, int count) {}

  /**
   * @param registration tells the VPS id (the poller subscribes)
   * @param registry where snapshots go; also tells which node.ids are connected
   * @param store the state dir: loaded at start, written after each new snapshot
   */
  public static Behavior<Command> create(
      Settings settings,
      SigmaApi api,
      ActorRef<RegistrationActor.Command> registration,
      ActorRef<SnapshotRegistry.Command> registry,
      NodeConfigStore store,
      PollerEvents events,
      Clock clock,
      RandomGenerator random) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  ConfigPoller poller =
                      new ConfigPoller(
                          context, timers, settings, api, registry, store, events, clock, random);
                  poller.serveSavedConfigs();
                  registration.tell(
                      new RegistrationActor.Subscribe(
                          context.messageAdapter(
                              RegistrationActor.Registered.class,
                              registered -> new VpsIdentified(registered.vpsId()))));
                  registry.tell(
                      new SnapshotRegistry.WatchConnectedNodes(
                          context.messageAdapter(
                              SnapshotRegistry.ConnectedNodes.class,
                              nodes -> new ConnectedNodesChanged(nodes.nodeIds()))));
                  return poller;
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
      RandomGenerator random) {
    super(context);
    this.timers = timers;
    this.settings = settings;
    this.api = api;
    this.registry = registry;
    this.store = store;
    this.events = events;
    this.clock = clock;
    this.random = random;
    this.log = context.getLog();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(VpsIdentified.class, this::onVpsIdentified)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(PollNow.class, this::onPollNow)
        .onMessage(NodesListed.class, this::onNodesListed)
        .onMessage(RoutesFetched.class, this::onRoutesFetched)
        .onMessage(NodeRechecked.class, this::onNodeRechecked)
        .onMessage(RetryRead.class, this::onRetryRead)
        .onMessageEquals(RetrySaves.INSTANCE, this::onRetrySaves)
        .onMessage(ConnectedNodesChanged.class, this::onConnectedNodesChanged)
        .onMessage(NodeRegistered.class, this::onNodeRegistered)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(IntervalChanged.class, this::onIntervalChanged)
        .onMessage(WatchNodes.class, this::onWatchNodes)
        .build();
  }

  private Behavior<Command> onWatchNodes(WatchNodes message) {
    if (!nodeWatchers.contains(message.watcher())) {
      nodeWatchers.add(message.watcher());
    }
    message.watcher().tell(published == null ? new EnvoyNodes(vpsId, List.of()) : published);
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

  private Behavior<Command> onIntervalChanged(IntervalChanged changed) {
    settings = new Settings(changed.interval(), settings.backoff(), settings.fetchConcurrency());
    // A poll waiting for the old interval waits for the new one; a poll in flight or backing off
    // after failures schedules with the new interval when it ends.
    if (!pollInFlight && consecutiveFailures == 0 && timers.isTimerActive(POLL_TIMER)) {
      timers.startSingleTimer(
          POLL_TIMER, Tick.INSTANCE, Backoff.jittered(changed.interval(), random));
    }
    return this;
  }

  // ------------------------------------------------------------------ start-up

  private void serveSavedConfigs() {
    List<NodeConfigStore.Saved> saved = store.loadAll();
    for (NodeConfigStore.Saved entry : saved) {
      // A new serial: this agent may map the saved routes differently than the one that saved them.
      long serial = serve(entry.config(), true, entry.serial());
      notToRegister.add(entry.config().nodeId());
      // Saved again with its new serial, so the next start numbers above what is served now.
      persist(entry.config(), serial);
    }
    if (!saved.isEmpty()) {
      log.info(
          "xDS: serving the saved config of {} Envoy node(s) from {} until sigma-api answers: {}",
          saved.size(),
          store.dir(),
          saved.stream()
              .map(NodeConfigStore.Saved::config)
              .map(c -> c.nodeId() + " v" + c.configVersion())
              .collect(Collectors.joining(", ")));
    }
  }

  // ------------------------------------------------------------------ VPS id and polling

  private Behavior<Command> onVpsIdentified(VpsIdentified message) {
    if (message.vpsId().equals(vpsId)) {
      return this;
    }
    if (vpsId == null) {
      log.info(
          "xDS: polling sigma-api for the Envoy nodes of VPS {} every {} s",
          message.vpsId(),
          settings.interval().toMillis() / 1000.0);
    } else {
      log.info(
          "xDS: this agent is now VPS {} (was {}); polling the Envoy nodes of the new id",
          message.vpsId(),
          vpsId);
      notToRegister.clear();
      missingOnce.clear();
    }
    vpsId = message.vpsId();
    listed = null;
    phaseChosen = false;
    if (pollInFlight) {
      // Answers about the old VPS id are ignored (they carry the old poll id).
      pollInFlight = false;
      toFetch.clear();
      fetchesInFlight = 0;
    }
    startPoll();
    return this;
  }

  private Behavior<Command> onTick() {
    if (vpsId != null && !pollInFlight) {
      startPoll();
    }
    return this;
  }

  private Behavior<Command> onPollNow(PollNow message) {
    if (vpsId == null) {
      log.debug("xDS: poll asked before registration; polling starts once the VPS id is known");
    } else if (pollInFlight) {
      pollAgain = true;
    } else {
      startPoll();
    }
    return this;
  }

  private void startPoll() {
    timers.cancel(POLL_TIMER);
    pollId++;
    pollInFlight = true;
    pollAgain = false;
    pollStartedNanos = System.nanoTime();
    pollStartedAt = clock.instant();
    fetchesFailedThisPoll = 0;
    long poll = pollId;
    getContext()
        .pipeToSelf(
            api.allEnvoyNodes(vpsId), (nodes, error) -> new NodesListed(poll, nodes, error));
  }

  private Behavior<Command> onNodesListed(NodesListed message) {
    if (message.poll() != pollId || !pollInFlight) {
      return this;
    }
    if (message.error() != null) {
      finishPoll(PollResult.FAILURE, reason(message.error()));
      return this;
    }
    Map<String, EnvoyNode> nodes = validNodes(message.nodes());
    listed = nodes;
    publish(
        new EnvoyNodes(
            vpsId,
            nodes.values().stream()
                .map(node -> new ListedNode(node.nodeId(), node.adminPort(), node.configVersion()))
                .toList()));
    notToRegister.addAll(nodes.keySet());
    fetchFailures.keySet().retainAll(nodes.keySet());
    removeNodesMissingFrom(nodes, message.nodes().size() >= SigmaApi.MAX_PER_PAGE);
    for (EnvoyNode node : nodes.values()) {
      Served current = served.get(node.nodeId());
      if (current == null
          || current.version() != node.configVersion()
          || !node.id().equals(current.envoyNodeUuid())) {
        toFetch.add(node);
      }
    }
    registerUnknownNodes();
    fetchMore();
    return this;
  }

  /** The listing's usable nodes by node.id; bad entries are warned about once and skipped. */
  private Map<String, EnvoyNode> validNodes(List<EnvoyNode> nodes) {
    Map<String, EnvoyNode> valid = new LinkedHashMap<>();
    for (EnvoyNode node : nodes) {
      if (node == null) {
        continue;
      }
      String key = String.valueOf(node.id());
      if (node.id() == null
          || node.id().isBlank()
          || node.nodeId() == null
          || node.nodeId().isBlank()) {
        if (warnedBadNodes.add(key)) {
          log.warn(
              "xDS: sigma-api lists an Envoy node without id or node_id ({}); skipping it", node);
        }
        continue;
      }
      EnvoyNode first = valid.putIfAbsent(node.nodeId(), node);
      if (first != null && warnedBadNodes.add(key)) {
        log.warn(
            "xDS: sigma-api lists node_id {} twice for VPS {} (ids {} and {}); serving the first",
            node.nodeId(),
            vpsId,
            first.id(),
            node.id());
      }
    }
    return valid;
  }

  private void removeNodesMissingFrom(Map<String, EnvoyNode> nodes, boolean multiPage) {
    missingOnce.removeIf(nodes::containsKey);
    for (String nodeId : List.copyOf(served.keySet())) {
      if (nodes.containsKey(nodeId)) {
        continue;
      }
      if (multiPage && missingOnce.add(nodeId)) {
        log.info(
            "xDS: Envoy node {} is missing from a multi-page node listing; removing it if the next "
                + "listing misses it too",
            nodeId);
        continue;
      }
      missingOnce.remove(nodeId);
      served.remove(nodeId);
      fetchFailures.remove(nodeId);
      registry.tell(new SnapshotRegistry.RemoveNode(nodeId, nextSerial(nodeId, 0)));
      dropPendingSave(nodeId);
      store.delete(nodeId);
      events.onNodeRemoved(nodeId);
      log.info(
          "xDS: Envoy node {} is no longer an active node of VPS {} in sigma-api; its Envoys get an "
              + "empty config",
          nodeId,
          vpsId);
    }
  }

  private void fetchMore() {
    while (fetchesInFlight < settings.fetchConcurrency() && !toFetch.isEmpty()) {
      fetchesInFlight++;
      readRoutes(toFetch.poll(), 1);
    }
    if (fetchesInFlight == 0 && toFetch.isEmpty()) {
      finishPoll(fetchesFailedThisPoll == 0 ? PollResult.SUCCESS : PollResult.PARTIAL, null);
    }
  }

  /** Attempt {@code attempt} at a consistent read of the routes of {@code node}. */
  private void readRoutes(EnvoyNode node, int attempt) {
    long poll = pollId;
    getContext()
        .pipeToSelf(
            api.allEnvoyRoutes(node.id()),
            (routes, error) -> new RoutesFetched(poll, node, attempt, routes, error));
  }

  private Behavior<Command> onRoutesFetched(RoutesFetched message) {
    if (message.poll() != pollId || !pollInFlight) {
      return this;
    }
    EnvoyNode node = message.node();
    if (message.error() != null) {
      if (SigmaApiException.of(message.error())
          .map(SigmaApiException::isListingChanged)
          .orElse(false)) {
        // Routes added or removed between two page reads: a torn read, read again like one.
        retryOrFail(node, node, message.attempt(), reason(message.error()));
      } else {
        fetchFailed(node, reason(message.error()));
      }
      return this;
    }
    // The routes endpoint does not say which config_version it answered for: read the node again.
    long poll = pollId;
    String vps = vpsId;
    getContext()
        .pipeToSelf(
            api.allEnvoyNodes(vps),
            (nodes, error) ->
                new NodeRechecked(poll, node, message.attempt(), message.routes(), nodes, error));
    return this;
  }

  private Behavior<Command> onNodeRechecked(NodeRechecked message) {
    if (message.poll() != pollId || !pollInFlight) {
      return this;
    }
    EnvoyNode node = message.node();
    if (message.error() != null) {
      fetchFailed(
          node,
          "read its routes, but cannot read its config_version again to check that they did "
              + "not change meanwhile: "
              + reason(message.error()));
      return this;
    }
    EnvoyNode now = findNode(message.nodes(), node.nodeId());
    if (now == null) {
      retryOrFail(node, node, message.attempt(), "the node is no longer listed");
      return this;
    }
    if (!now.id().equals(node.id()) || now.configVersion() != node.configVersion()) {
      retryOrFail(
          node,
          now,
          message.attempt(),
          "config_version "
              + node.configVersion()
              + " became "
              + now.configVersion()
              + (now.id().equals(node.id()) ? "" : " (a new node, id " + now.id() + ")"));
      return this;
    }
    if (listed != null && listed.containsKey(now.nodeId())) {
      listed.put(now.nodeId(), now);
    }
    FetchFailure recovered = fetchFailures.remove(now.nodeId());
    if (recovered != null) {
      log.info(
          "xDS: routes of Envoy node {} fetched again after {} failed attempt(s)",
          now.nodeId(),
          recovered.count());
    }
    NodeConfig config = new NodeConfig(now, message.routes());
    long serial = serve(config, false, 0);
    persist(config, serial);
    fetchesInFlight--;
    fetchMore();
    return this;
  }

  /**
   * The read of {@code node}'s routes was torn ({@code why}): read again from {@code next} (the
   * node as listed now) after a short pause, or give up after {@link #MAX_READ_ATTEMPTS}.
   */
  private void retryOrFail(EnvoyNode node, EnvoyNode next, int attempt, String why) {
    if (attempt >= MAX_READ_ATTEMPTS) {
      fetchFailed(
          node,
          "its routes changed while being read, "
              + attempt
              + " reads in a row (last: "
              + why
              + "); nothing of those reads is served");
      return;
    }
    Duration pause = READ_RETRY_BACKOFF.delay(attempt, random);
    log.debug(
        "xDS: the routes of Envoy node {} changed while being read ({}); reading them again in {} ms",
        node.nodeId(),
        why,
        pause.toMillis());
    timers.startSingleTimer(
        "read:" + node.nodeId(), new RetryRead(pollId, next, attempt + 1), pause);
  }

  private Behavior<Command> onRetryRead(RetryRead message) {
    if (message.poll() == pollId && pollInFlight) {
      readRoutes(message.node(), message.attempt());
    }
    return this;
  }

  private void fetchFailed(EnvoyNode node, String reason) {
    fetchesInFlight--;
    fetchesFailedThisPoll++;
    onFetchFailed(node, reason);
    fetchMore();
  }

  /**
   * The first usable entry for {@code nodeId} in a listing (as {@link #validNodes} picks it), or
   * null.
   */
  private static EnvoyNode findNode(List<EnvoyNode> nodes, String nodeId) {
    for (EnvoyNode node : nodes) {
      if (node != null
          && node.id() != null
          && !node.id().isBlank()
          && nodeId.equals(node.nodeId())) {
        return node;
      }
    }
    return null;
  }

  private void onFetchFailed(EnvoyNode node, String reason) {
    FetchFailure previous = fetchFailures.get(node.nodeId());
    int count = previous == null ? 1 : previous.count() + 1;
    fetchFailures.put(node.nodeId(), new FetchFailure(reason, clock.instant(), count));
    events.onRoutesFetchFailed(node.nodeId());
    Served current = served.get(node.nodeId());
    String keeping =
        current == null
            ? "it has no config yet, its Envoys keep waiting"
            : "keeping its config_version "
                + current.version()
                + " (version_info "
                + current.serial()
                + ")";
    String message =
        "xDS: cannot fetch the routes of Envoy node {} (config_version {}): {}; {}; retrying "
            + "at the next poll";
    if (count == 1) {
      log.warn(message, node.nodeId(), node.configVersion(), reason, keeping);
    } else {
      log.debug(
          message + " (failure {} in a row)",
          node.nodeId(),
          node.configVersion(),
          reason,
          keeping,
          count);
    }
  }

  private void finishPoll(PollResult result, String error) {
    pollInFlight = false;
    Duration took = Duration.ofNanos(System.nanoTime() - pollStartedNanos);
    lastPollAt = pollStartedAt;
    lastResult = result;
    lastError = error;
    events.onPollFinished(result, took);
    // The first poll runs at once when the VPS id is known; the next one at a random point of a
    // whole interval, later ones every interval +-10%: agents that registered together (a fleet
    // restart, an API answering a backlog at once) do not poll together for ever after.
    Duration next =
        phaseChosen
            ? Backoff.jittered(settings.interval(), random)
            : Backoff.spreadOverInterval(settings.interval(), random);
    phaseChosen = true;
    if (result == PollResult.FAILURE) {
      consecutiveFailures++;
      Duration backoff = settings.backoff().delay(consecutiveFailures, random);
      if (backoff.compareTo(next) > 0) {
        next = backoff;
      }
      log.warn(
          "xDS: cannot list the Envoy nodes of VPS {} ({} failure(s) in a row): {}; serving the last "
              + "good config of every node, next attempt in {} ms",
          vpsId,
          consecutiveFailures,
          error,
          next.toMillis());
    } else {
      if (consecutiveFailures > 0) {
        log.info("xDS: sigma-api answers again after {} failed poll(s)", consecutiveFailures);
      }
      consecutiveFailures = 0;
      lastSuccessAt = pollStartedAt;
      log.debug("xDS: poll of VPS {} done in {} ms: {}", vpsId, took.toMillis(), result.label());
    }
    if (pollAgain) {
      startPoll();
    } else {
      timers.startSingleTimer(POLL_TIMER, Tick.INSTANCE, next);
    }
  }

  // ------------------------------------------------------------------ serving

  /**
   * Maps {@code config} and hands the snapshot to the registry; returns its serial.
   *
   * @param serialFloor a serial the node.id is known to have had (from the state dir), else 0
   */
  private long serve(NodeConfig config, boolean fromStateDir, long serialFloor) {
    RouteMapping mapping = config.map(mapper);
    long serial = nextSerial(config.nodeId(), serialFloor);
    XdsSnapshot snapshot = mapping.toSnapshot(config.nodeId(), config.configVersion(), serial);
    // A saved config never replaces what the registry serves (this poller may be a restarted one).
    registry.tell(
        fromStateDir
            ? new SnapshotRegistry.SetSnapshotIfAbsent(snapshot)
            : new SnapshotRegistry.SetSnapshot(snapshot));
    List<PollerStatus.Rejected> rejectedInStatus =
        mapping.rejected().stream()
            .limit(MAX_REJECTED_IN_STATUS)
            .map(
                route ->
                    new PollerStatus.Rejected(
                        route.route().name(),
                        route.route().listenPort(),
                        route.reason().name(),
                        route.describe()))
            .toList();
    served.put(
        config.nodeId(),
        new Served(
            config.node().id(),
            config.configVersion(),
            serial,
            rejectedInStatus,
            mapping.rejected().size()));
    Map<RejectedRoute.Reason, Integer> rejected = new EnumMap<>(RejectedRoute.Reason.class);
    for (RejectedRoute route : mapping.rejected()) {
      rejected.merge(route.reason(), 1, Integer::sum);
    }
    events.onSnapshotServed(
        config.nodeId(), config.configVersion(), snapshot.routeCount(), rejected);
    if (fromStateDir) {
      return serial;
    }
    // Logged once per node version: a version is fetched (and mapped) once.
    log.info(
        "xDS: Envoy node {} now at config_version {} (version_info {}): {} route(s) served{}",
        config.nodeId(),
        config.configVersion(),
        snapshot.versionInfo(),
        snapshot.routeCount(),
        rejected.isEmpty() ? "" : ", left out: " + rejected);
    for (RejectedRoute route : mapping.rejected()) {
      if (route.reason().invalid()) {
        log.warn(
            "xDS: Envoy node {} v{}: invalid {}",
            config.nodeId(),
            config.configVersion(),
            route.describe());
      } else {
        log.info(
            "xDS: Envoy node {} v{}: skipped {}",
            config.nodeId(),
            config.configVersion(),
            route.describe());
      }
    }
    return serial;
  }

  /**
   * The serial of a new snapshot (or removal) of {@code nodeId}: above every serial it had, and at
   * least the wall clock in milliseconds, so a restart (which remembers only saved serials) still
   * numbers above what Envoy saw before.
   */
  private long nextSerial(String nodeId, long floor) {
    long previous = Math.max(lastSerials.getOrDefault(nodeId, 0L), floor);
    long serial = Math.max(previous + 1, clock.millis());
    lastSerials.put(nodeId, serial);
    return serial;
  }

  // ------------------------------------------------------------------ saving

  /**
   * Saves {@code config} (served with {@code serial}) now, or with the pending saves if they are
   * failing.
   */
  private void persist(NodeConfig config, long serial) {
    pendingSaves.put(config.nodeId(), new PendingSave(config, serial));
    if (!timers.isTimerActive(SAVE_TIMER)) {
      savePending();
    }
  }

  private Behavior<Command> onRetrySaves() {
    savePending();
    return this;
  }

  /** Writes every pending save; schedules a retry of those that failed. */
  private void savePending() {
    String failure = null;
    for (PendingSave pending : List.copyOf(pendingSaves.values())) {
      try {
        store.save(pending.config(), pending.serial());
        pendingSaves.remove(pending.config().nodeId());
      } catch (IOException e) {
        failure = e.getMessage();
      }
    }
    if (pendingSaves.isEmpty()) {
      if (saveFailures > 0) {
        log.info(
            "xDS state: {} is writable again after {} failed attempt(s); every served Envoy config is "
                + "saved",
            store.dir(),
            saveFailures);
      }
      saveFailures = 0;
      lastSaveError = null;
      return;
    }
    saveFailures++;
    lastSaveError = failure;
    Duration retry = settings.backoff().delay(saveFailures, random);
    String message =
        "xDS state: cannot save the config of Envoy node(s) {} to {} ({}); serving it from memory "
            + "(a restart now would serve an older config), retrying in {} ms";
    if (saveFailures == 1) {
      log.warn(
          message + "; further failures are logged at debug level until a save works",
          pendingSaves.keySet(),
          store.dir(),
          failure,
          retry.toMillis());
    } else {
      log.debug(
          message + " (attempt {})",
          pendingSaves.keySet(),
          store.dir(),
          failure,
          retry.toMillis(),
          saveFailures);
    }
    timers.startSingleTimer(SAVE_TIMER, RetrySaves.INSTANCE, retry);
  }

  /** A removed node's config is not saved any more. */
  private void dropPendingSave(String nodeId) {
    if (pendingSaves.remove(nodeId) != null && pendingSaves.isEmpty()) {
      timers.cancel(SAVE_TIMER);
      saveFailures = 0;
      lastSaveError = null;
    }
  }

  // ------------------------------------------------------------------ unknown node.ids

  private Behavior<Command> onConnectedNodesChanged(ConnectedNodesChanged message) {
    connected = message.nodeIds();
    registerUnknownNodes();
    return this;
  }

  /** Registers connected node.ids that the last successful listing of this VPS does not have. */
  private void registerUnknownNodes() {
    if (vpsId == null || listed == null) {
      return;
    }
    for (String nodeId : connected) {
      if (listed.containsKey(nodeId) || notToRegister.contains(nodeId)) {
        continue;
      }
      notToRegister.add(nodeId);
      if (nodeId.length() > MAX_REGISTERED_NODE_ID
          || nodeId.chars().anyMatch(Character::isISOControl)) {
        log.warn(
            "xDS: an Envoy connected with node.id '{}', which sigma-api does not know; not registering "
                + "it (longer than {} characters or control characters)",
            excerpt(nodeId),
            MAX_REGISTERED_NODE_ID);
        continue;
      }
      log.info(
          "xDS: an Envoy connected as node.id {}, which sigma-api does not list for VPS {}; registering it",
          nodeId,
          vpsId);
      String vps = vpsId;
      getContext()
          .pipeToSelf(
              api.createEnvoyNode(
                  new CreateEnvoyNodeRequest(
                      vps, nodeId, AUTO_REGISTERED_DESCRIPTION, null, "active")),
              (node, error) -> new NodeRegistered(vps, nodeId, node, error));
    }
  }

  private Behavior<Command> onNodeRegistered(NodeRegistered message) {
    if (!message.vpsId().equals(vpsId)) {
      return this;
    }
    events.onNodeRegistration(message.nodeId(), message.error() == null);
    if (message.error() == null) {
      log.info(
          "xDS: registered Envoy node {} with sigma-api (id {}); serving it from the next poll",
          message.nodeId(),
          message.node().id());
      getContext().getSelf().tell(new PollNow());
      return this;
    }
    SigmaApiException failure = SigmaApiException.of(message.error()).orElse(null);
    if (failure != null && failure.status().map(s -> s >= 400 && s < 500).orElse(false)) {
      // 409 (or the like) when the pair exists, e.g. as an inactive node: that is not retried.
      log.info(
          "xDS: sigma-api refused to register Envoy node {} ({}); it probably exists already (not active?). "
              + "Not registering it again",
          message.nodeId(),
          failure.getMessage());
    } else {
      notToRegister.remove(message.nodeId());
      log.warn(
          "xDS: could not register Envoy node {} with sigma-api: {}; trying again after the next poll",
          message.nodeId(),
          reason(message.error()));
    }
    return this;
  }

  // ------------------------------------------------------------------ status

  private Behavior<Command> onGetStatus(GetStatus message) {
    Set<String> nodeIds = new HashSet<>(served.keySet());
    if (listed != null) {
      nodeIds.addAll(listed.keySet());
    }
    List<PollerStatus.Node> nodes = new ArrayList<>(nodeIds.size());
    for (String nodeId : new TreeSet<>(nodeIds)) {
      EnvoyNode node = listed == null ? null : listed.get(nodeId);
      Served current = served.get(nodeId);
      FetchFailure failure = fetchFailures.get(nodeId);
      nodes.add(
          new PollerStatus.Node(
              nodeId,
              node != null ? node.id() : current != null ? current.envoyNodeUuid() : null,
              node == null ? null : node.configVersion(),
              current == null ? null : current.version(),
              failure == null ? null : failure.message(),
              failure == null ? null : failure.at(),
              current == null ? List.of() : current.rejected(),
              current == null ? 0 : current.rejectedCount()));
    }
    message
        .replyTo()
        .tell(
            new PollerStatus(
                vpsId,
                settings.interval(),
                pollInFlight,
                lastPollAt,
                lastResult,
                lastError,
                lastSuccessAt,
                consecutiveFailures,
                List.copyOf(pendingSaves.keySet()),
                lastSaveError,
                nodes));
    return this;
  }

  private static String reason(Throwable error) {
    return SigmaApiException.of(error)
        .map(Throwable::getMessage)
        .orElseGet(() -> error.getClass().getSimpleName() + ": " + error.getMessage());
  }

  private static String excerpt(String text) {
    String clean = text.replaceAll("\\p{Cntrl}", "?");
    return clean.length() <= 80 ? clean : clean.substring(0, 80) + "…";
  }
}
