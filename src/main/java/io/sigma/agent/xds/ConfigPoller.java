package io.sigma.agent.xds;

import io.sigma.agent.api.CreateEnvoyNodeRequest;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SigmaApiException;
import io.sigma.agent.fleet.Backoff;
import io.sigma.agent.fleet.RegistrationActor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
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
 *   <li>Every poll interval (±10%; the second poll after the VPS id is known at a random point
 *       of a whole interval, so agents that registered together do not poll together): all
 *       active Envoy nodes of the VPS (every page); for each node whose config_version (or
 *       UUID) differs from what is served, all its active dynamic routes (every page, a few
 *       nodes at a time), mapped and set as the node's snapshot, and saved.
 *       Only changed nodes get a new snapshot.
 *   <li>A node missing from a successful listing is removed (its streams get an empty config) and
 *       its saved config deleted. Listings longer than one page are not read atomically by the
 *       API (a deletion between two pages shifts rows), so there a node is removed only when two
 *       listings in a row miss it.
 * </ol>
 *
 * <p>Failures never clear a snapshot: a failed listing changes nothing and the next poll waits
 * longer (backoff, never less than the interval); a failed routes fetch keeps that node's last
 * snapshot, does not hold back the other nodes, and is retried at the next poll. At most one
 * poll is in flight.
 *
 * <p>Envoys whose node.id sigma-api does not list for this VPS are registered with
 * {@code POST /envoy-nodes} (the {@link SnapshotRegistry} tells which node.ids are connected),
 * once per node.id and VPS; a node.id that was listed before (then deleted by an operator) is
 * not registered again. The new node is served from the poll that follows.
 */
public final class ConfigPoller extends AbstractBehavior<ConfigPoller.Command> {

  /** The poller's protocol. */
  public sealed interface Command
      permits PollNow, GetStatus, VpsIdentified, ConnectedNodesChanged, Tick, NodesListed, RoutesFetched,
          NodeRegistered {}

  /** Poll now instead of at the next interval (right after the poll in flight, if any). */
  public record PollNow() implements Command {}

  /** Ask for the poller's {@link PollerStatus}. */
  public record GetStatus(ActorRef<PollerStatus> replyTo) implements Command {}

  private record VpsIdentified(String vpsId) implements Command {}

  private record ConnectedNodesChanged(Set<String> nodeIds) implements Command {}

  private enum Tick implements Command { INSTANCE }

  private record NodesListed(long poll, List<EnvoyNode> nodes, Throwable error) implements Command {}

  private record RoutesFetched(long poll, EnvoyNode node, List<EnvoyRoute> routes, Throwable error)
      implements Command {}

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
        throw new IllegalArgumentException("fetchConcurrency must be at least 1: " + fetchConcurrency);
      }
    }

    public Settings(Duration interval, Backoff backoff) {
      this(interval, backoff, DEFAULT_FETCH_CONCURRENCY);
    }
  }

  private static final Object POLL_TIMER = "poll";

  private final Settings settings;
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

  private String vpsId;
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

  private record Served(String envoyNodeUuid, long version) {}

  private record FetchFailure(String message, Instant at, int count) {}

  /**
   * @param registration tells the VPS id (the poller subscribes)
   * @param registry where snapshots go; also tells which node.ids are connected
   * @param store the state dir: loaded at start, written after each new snapshot
   */
  public static Behavior<Command> create(Settings settings, SigmaApi api,
      ActorRef<RegistrationActor.Command> registration, ActorRef<SnapshotRegistry.Command> registry,
      NodeConfigStore store, PollerEvents events, Clock clock, RandomGenerator random) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      ConfigPoller poller = new ConfigPoller(context, timers, settings, api, registry, store, events, clock, random);
      poller.serveSavedConfigs();
      registration.tell(new RegistrationActor.Subscribe(context.messageAdapter(
          RegistrationActor.Registered.class, registered -> new VpsIdentified(registered.vpsId()))));
      registry.tell(new SnapshotRegistry.WatchConnectedNodes(context.messageAdapter(
          SnapshotRegistry.ConnectedNodes.class, nodes -> new ConnectedNodesChanged(nodes.nodeIds()))));
      return poller;
    }));
  }

  private ConfigPoller(ActorContext<Command> context, TimerScheduler<Command> timers, Settings settings,
      SigmaApi api, ActorRef<SnapshotRegistry.Command> registry, NodeConfigStore store, PollerEvents events,
      Clock clock, RandomGenerator random) {
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
        .onMessage(ConnectedNodesChanged.class, this::onConnectedNodesChanged)
        .onMessage(NodeRegistered.class, this::onNodeRegistered)
        .onMessage(GetStatus.class, this::onGetStatus)
        .build();
  }

  // ------------------------------------------------------------------ start-up

  private void serveSavedConfigs() {
    List<NodeConfig> saved = store.loadAll();
    for (NodeConfig config : saved) {
      serve(config, true);
      notToRegister.add(config.nodeId());
    }
    if (!saved.isEmpty()) {
      log.info("xDS: serving the saved config of {} Envoy node(s) from {} until sigma-api answers: {}",
          saved.size(), store.dir(), saved.stream()
              .map(c -> c.nodeId() + " v" + c.configVersion()).collect(Collectors.joining(", ")));
    }
  }

  // ------------------------------------------------------------------ VPS id and polling

  private Behavior<Command> onVpsIdentified(VpsIdentified message) {
    if (message.vpsId().equals(vpsId)) {
      return this;
    }
    if (vpsId == null) {
      log.info("xDS: polling sigma-api for the Envoy nodes of VPS {} every {} s", message.vpsId(),
          settings.interval().toMillis() / 1000.0);
    } else {
      log.info("xDS: this agent is now VPS {} (was {}); polling the Envoy nodes of the new id",
          message.vpsId(), vpsId);
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
    getContext().pipeToSelf(api.allEnvoyNodes(vpsId), (nodes, error) -> new NodesListed(poll, nodes, error));
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
    notToRegister.addAll(nodes.keySet());
    fetchFailures.keySet().retainAll(nodes.keySet());
    removeNodesMissingFrom(nodes, message.nodes().size() >= SigmaApi.MAX_PER_PAGE);
    for (EnvoyNode node : nodes.values()) {
      Served current = served.get(node.nodeId());
      if (current == null || current.version() != node.configVersion()
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
      if (node.id() == null || node.id().isBlank() || node.nodeId() == null || node.nodeId().isBlank()) {
        if (warnedBadNodes.add(key)) {
          log.warn("xDS: sigma-api lists an Envoy node without id or node_id ({}); skipping it", node);
        }
        continue;
      }
      EnvoyNode first = valid.putIfAbsent(node.nodeId(), node);
      if (first != null && warnedBadNodes.add(key)) {
        log.warn("xDS: sigma-api lists node_id {} twice for VPS {} (ids {} and {}); serving the first",
            node.nodeId(), vpsId, first.id(), node.id());
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
        log.info("xDS: Envoy node {} is missing from a multi-page node listing; removing it if the next "
            + "listing misses it too", nodeId);
        continue;
      }
      missingOnce.remove(nodeId);
      served.remove(nodeId);
      fetchFailures.remove(nodeId);
      registry.tell(new SnapshotRegistry.RemoveNode(nodeId));
      store.delete(nodeId);
      events.onNodeRemoved(nodeId);
      log.info("xDS: Envoy node {} is no longer an active node of VPS {} in sigma-api; its Envoys get an "
          + "empty config", nodeId, vpsId);
    }
  }

  private void fetchMore() {
    while (fetchesInFlight < settings.fetchConcurrency() && !toFetch.isEmpty()) {
      EnvoyNode node = toFetch.poll();
      fetchesInFlight++;
      long poll = pollId;
      getContext().pipeToSelf(api.allEnvoyRoutes(node.id()),
          (routes, error) -> new RoutesFetched(poll, node, routes, error));
    }
    if (fetchesInFlight == 0 && toFetch.isEmpty()) {
      finishPoll(fetchesFailedThisPoll == 0 ? PollResult.SUCCESS : PollResult.PARTIAL, null);
    }
  }

  private Behavior<Command> onRoutesFetched(RoutesFetched message) {
    if (message.poll() != pollId || !pollInFlight) {
      return this;
    }
    fetchesInFlight--;
    EnvoyNode node = message.node();
    if (message.error() != null) {
      fetchesFailedThisPoll++;
      onFetchFailed(node, reason(message.error()));
    } else {
      FetchFailure recovered = fetchFailures.remove(node.nodeId());
      if (recovered != null) {
        log.info("xDS: routes of Envoy node {} fetched again after {} failed attempt(s)",
            node.nodeId(), recovered.count());
      }
      NodeConfig config = new NodeConfig(node, message.routes());
      serve(config, false);
      store.save(config);
    }
    fetchMore();
    return this;
  }

  private void onFetchFailed(EnvoyNode node, String reason) {
    FetchFailure previous = fetchFailures.get(node.nodeId());
    int count = previous == null ? 1 : previous.count() + 1;
    fetchFailures.put(node.nodeId(), new FetchFailure(reason, clock.instant(), count));
    events.onRoutesFetchFailed(node.nodeId());
    Served current = served.get(node.nodeId());
    String keeping = current == null
        ? "it has no config yet, its Envoys keep waiting"
        : "keeping its version " + current.version();
    String message = "xDS: cannot fetch the routes of Envoy node {} (config_version {}): {}; {}; retrying "
        + "at the next poll";
    if (count == 1) {
      log.warn(message, node.nodeId(), node.configVersion(), reason, keeping);
    } else {
      log.debug(message + " (failure {} in a row)", node.nodeId(), node.configVersion(), reason, keeping, count);
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
    Duration next = phaseChosen
        ? Backoff.jittered(settings.interval(), random)
        : Backoff.spreadOverInterval(settings.interval(), random);
    phaseChosen = true;
    if (result == PollResult.FAILURE) {
      consecutiveFailures++;
      Duration backoff = settings.backoff().delay(consecutiveFailures, random);
      if (backoff.compareTo(next) > 0) {
        next = backoff;
      }
      log.warn("xDS: cannot list the Envoy nodes of VPS {} ({} failure(s) in a row): {}; serving the last "
              + "good config of every node, next attempt in {} ms", vpsId, consecutiveFailures, error,
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

  private void serve(NodeConfig config, boolean fromStateDir) {
    RouteMapping mapping = config.map(mapper);
    XdsSnapshot snapshot = mapping.toSnapshot(config.nodeId(), config.configVersion());
    // A saved config never replaces what the registry serves (this poller may be a restarted one).
    registry.tell(fromStateDir
        ? new SnapshotRegistry.SetSnapshotIfAbsent(snapshot)
        : new SnapshotRegistry.SetSnapshot(snapshot));
    served.put(config.nodeId(), new Served(config.node().id(), config.configVersion()));
    Map<RejectedRoute.Reason, Integer> rejected = new EnumMap<>(RejectedRoute.Reason.class);
    for (RejectedRoute route : mapping.rejected()) {
      rejected.merge(route.reason(), 1, Integer::sum);
    }
    events.onSnapshotServed(config.nodeId(), config.configVersion(), snapshot.routeCount(), rejected);
    if (fromStateDir) {
      return;
    }
    // Logged once per node version: a version is fetched (and mapped) once.
    log.info("xDS: Envoy node {} now at config_version {}: {} route(s) served{}", config.nodeId(),
        config.configVersion(), snapshot.routeCount(), rejected.isEmpty() ? "" : ", left out: " + rejected);
    for (RejectedRoute route : mapping.rejected()) {
      if (route.reason().invalid()) {
        log.warn("xDS: Envoy node {} v{}: invalid {}", config.nodeId(), config.configVersion(), route.describe());
      } else {
        log.info("xDS: Envoy node {} v{}: skipped {}", config.nodeId(), config.configVersion(), route.describe());
      }
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
      if (nodeId.length() > MAX_REGISTERED_NODE_ID || nodeId.chars().anyMatch(Character::isISOControl)) {
        log.warn("xDS: an Envoy connected with node.id '{}', which sigma-api does not know; not registering "
            + "it (longer than {} characters or control characters)", excerpt(nodeId), MAX_REGISTERED_NODE_ID);
        continue;
      }
      log.info("xDS: an Envoy connected as node.id {}, which sigma-api does not list for VPS {}; registering it",
          nodeId, vpsId);
      String vps = vpsId;
      getContext().pipeToSelf(
          api.createEnvoyNode(new CreateEnvoyNodeRequest(vps, nodeId, AUTO_REGISTERED_DESCRIPTION, null, "active")),
          (node, error) -> new NodeRegistered(vps, nodeId, node, error));
    }
  }

  private Behavior<Command> onNodeRegistered(NodeRegistered message) {
    if (!message.vpsId().equals(vpsId)) {
      return this;
    }
    events.onNodeRegistration(message.nodeId(), message.error() == null);
    if (message.error() == null) {
      log.info("xDS: registered Envoy node {} with sigma-api (id {}); serving it from the next poll",
          message.nodeId(), message.node().id());
      getContext().getSelf().tell(new PollNow());
      return this;
    }
    SigmaApiException failure = SigmaApiException.of(message.error()).orElse(null);
    if (failure != null && failure.status().map(s -> s >= 400 && s < 500).orElse(false)) {
      // 409 (or the like) when the pair exists, e.g. as an inactive node: that is not retried.
      log.info("xDS: sigma-api refused to register Envoy node {} ({}); it probably exists already (not active?). "
          + "Not registering it again", message.nodeId(), failure.getMessage());
    } else {
      notToRegister.remove(message.nodeId());
      log.warn("xDS: could not register Envoy node {} with sigma-api: {}; trying again after the next poll",
          message.nodeId(), reason(message.error()));
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
      nodes.add(new PollerStatus.Node(nodeId,
          node != null ? node.id() : current != null ? current.envoyNodeUuid() : null,
          node == null ? null : node.configVersion(),
          current == null ? null : current.version(),
          failure == null ? null : failure.message(),
          failure == null ? null : failure.at()));
    }
    message.replyTo().tell(new PollerStatus(vpsId, settings.interval(), pollInFlight, lastPollAt, lastResult,
        lastError, lastSuccessAt, consecutiveFailures, nodes));
    return this;
  }

  private static String reason(Throwable error) {
    return SigmaApiException.of(error).map(Throwable::getMessage)
        .orElseGet(() -> error.getClass().getSimpleName() + ": " + error.getMessage());
  }

  private static String excerpt(String text) {
    String clean = text.replaceAll("\\p{Cntrl}", "?");
    return clean.length() <= 80 ? clean : clean.substring(0, 80) + "…";
  }
}
