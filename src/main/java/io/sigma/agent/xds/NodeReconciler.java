package io.sigma.agent.xds;

import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SigmaApiException;
import io.sigma.agent.retry.Backoff;
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
import org.slf4j.Logger;

/**
 * The config poller's decisions, with no actor, no I/O and no timer: the protocol state machine of
 * polling sigma-api (as {@link AdsStreamState} is the one of an ADS stream). The {@link
 * ConfigPoller} feeds it what happened (the VPS id, a node listing, a routes read, a re-check of
 * the listing, a tick) and carries out the {@link Effect}s it answers: requests to sigma-api
 * (stamped with the poll they belong to), snapshots to set or remove, configs to save or delete,
 * the next poll's delay. Everything {@link ConfigPoller} documents about what is polled, served,
 * removed and numbered is decided here.
 *
 * <p>Not thread-safe: one poller actor owns one reconciler.
 */
final class NodeReconciler {

  /** What the poller must do. */
  sealed interface Effect
      permits ListNodes,
          ReadRoutes,
          RecheckNode,
          ReadAgainLater,
          Serve,
          Remove,
          Save,
          DeleteSaved,
          SchedulePoll,
          Listed,
          VpsChanged {}

  /** Read the node listing of {@code vpsId} (every page) for poll {@code poll}. */
  record ListNodes(long poll, String vpsId) implements Effect {}

  /** Read the routes of {@code node} (every page): attempt {@code attempt} of poll {@code poll}. */
  record ReadRoutes(long poll, EnvoyNode node, int attempt) implements Effect {}

  /**
   * Read the node listing of {@code vpsId} again: {@code routes} of {@code node} count only if the
   * node did not change meanwhile.
   */
  record RecheckNode(long poll, String vpsId, EnvoyNode node, int attempt, List<EnvoyRoute> routes)
      implements Effect {}

  /** Read the routes of {@code node} again after {@code pause}: the last read was torn. */
  record ReadAgainLater(long poll, EnvoyNode node, int attempt, Duration pause) implements Effect {}

  /**
   * Hand {@code snapshot} to the registry; {@code onlyIfAbsent} for saved configs, which never
   * replace a snapshot the registry already has.
   */
  record Serve(XdsSnapshot snapshot, boolean onlyIfAbsent) implements Effect {}

  /** The node is gone: its streams get an empty config numbered {@code serial}. */
  record Remove(String nodeId, long serial) implements Effect {}

  /** Save {@code config}, served as {@code serial}, in the state dir. */
  record Save(NodeConfig config, long serial) implements Effect {}

  /** Forget the saved config of {@code nodeId} (and a pending save of it). */
  record DeleteSaved(String nodeId) implements Effect {}

  /** The next poll is due in {@code delay} (replacing a poll scheduled before). */
  record SchedulePoll(Duration delay) implements Effect {}

  /** A successful node listing of {@code vpsId}: its usable nodes, by node.id. */
  record Listed(String vpsId, List<EnvoyNode> nodes) implements Effect {}

  /** This agent is VPS {@code vpsId} now (the first time, or after a re-registration). */
  record VpsChanged(String vpsId) implements Effect {}

  /**
   * @param rejected the first {@link ConfigPoller#MAX_REJECTED_IN_STATUS} routes left out
   * @param rejectedCount all routes left out
   */
  private record Served(
      String envoyNodeUuid,
      long version,
      long serial,
      List<PollerStatus.Rejected> rejected,
      int rejectedCount) {}

  private record FetchFailure(String message, Instant at, int count) {}

  private ConfigPoller.Settings settings;
  private final PollerEvents events;
  private final Clock clock;
  private final RandomGenerator random;
  private final Logger log;
  private final RouteResourceMapper mapper = new RouteResourceMapper();

  /** What the registry serves, by node.id (only this poller sets snapshots). */
  private final Map<String, Served> served = new TreeMap<>();

  /** Nodes of the last successful listing, by node.id; null before one for the current VPS id. */
  private Map<String, EnvoyNode> listed;

  /** Served nodes a multi-page listing missed once (removed when the next one misses them too). */
  private final Set<String> missingOnce = new HashSet<>();

  /** Routes fetch failures of the current streak, by node.id. */
  private final Map<String, FetchFailure> fetchFailures = new TreeMap<>();

  /** Listing entries already warned about (bad node_id), by node UUID. */
  private final Set<String> warnedBadNodes = new HashSet<>();

  /**
   * The last serial handed out per node.id, kept after a node is removed (a re-created node must
   * not reuse a version_info its Envoys saw). One entry per node.id sigma-api ever listed.
   */
  private final Map<String, Long> lastSerials = new HashMap<>();

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

  /**
   * @param log where the poller's log lines go (the poller's own logger)
   */
  NodeReconciler(
      ConfigPoller.Settings settings,
      PollerEvents events,
      Clock clock,
      RandomGenerator random,
      Logger log) {
    this.settings = settings;
    this.events = events;
    this.clock = clock;
    this.random = random;
    this.log = log;
  }

  // ------------------------------------------------------------------ start-up

  /** The configs saved in the state dir, served until sigma-api answers (and saved again). */
  List<Effect> serveSaved(List<NodeConfigStore.Saved> saved) {
    List<Effect> effects = new ArrayList<>();
    for (NodeConfigStore.Saved entry : saved) {
      // A new serial: this agent may map the saved routes differently than the one that saved them.
      long serial = serve(entry.config(), true, entry.serial(), effects);
      // Saved again with its new serial, so the next start numbers above what is served now.
      effects.add(new Save(entry.config(), serial));
    }
    return effects;
  }

  // ------------------------------------------------------------------ VPS id and polling

  List<Effect> onVpsKnown(String newVpsId) {
    if (newVpsId.equals(vpsId)) {
      return List.of();
    }
    if (vpsId == null) {
      log.info(
          "xDS: polling sigma-api for the Envoy nodes of VPS {} every {} s",
          newVpsId,
          settings.interval().toMillis() / 1000.0);
    } else {
      log.info(
          "xDS: this agent is now VPS {} (was {}); polling the Envoy nodes of the new id",
          newVpsId,
          vpsId);
      missingOnce.clear();
    }
    vpsId = newVpsId;
    listed = null;
    phaseChosen = false;
    // Answers about the old VPS id are ignored (they carry the old poll id).
    pollInFlight = false;
    toFetch.clear();
    fetchesInFlight = 0;
    List<Effect> effects = new ArrayList<>();
    effects.add(new VpsChanged(newVpsId));
    effects.add(startPoll());
    return effects;
  }

  /** The poll timer fired. */
  List<Effect> onTick() {
    if (vpsId != null && !pollInFlight) {
      return List.of(startPoll());
    }
    return List.of();
  }

  /** Poll now (right after the poll in flight, if any). */
  List<Effect> onPollNow() {
    if (vpsId == null) {
      log.debug("xDS: poll asked before registration; polling starts once the VPS id is known");
      return List.of();
    }
    if (pollInFlight) {
      pollAgain = true;
      return List.of();
    }
    return List.of(startPoll());
  }

  /**
   * The poll interval changed: a poll waiting for the old interval waits one new interval from now;
   * a poll in flight or backing off after failures schedules with the new interval when it ends.
   */
  List<Effect> onIntervalChanged(Duration interval) {
    settings = new ConfigPoller.Settings(interval, settings.backoff(), settings.fetchConcurrency());
    if (vpsId != null && !pollInFlight && consecutiveFailures == 0) {
      return List.of(new SchedulePoll(Backoff.jittered(interval, random)));
    }
    return List.of();
  }

  private Effect startPoll() {
    pollId++;
    pollInFlight = true;
    pollAgain = false;
    pollStartedNanos = System.nanoTime();
    pollStartedAt = clock.instant();
    fetchesFailedThisPoll = 0;
    return new ListNodes(pollId, vpsId);
  }

  /** Whether an answer stamped with {@code poll} is one the current poll waits for. */
  private boolean current(long poll) {
    return poll == pollId && pollInFlight;
  }

  List<Effect> onNodesListed(long poll, List<EnvoyNode> nodes, Throwable error) {
    if (!current(poll)) {
      return List.of();
    }
    List<Effect> effects = new ArrayList<>();
    if (error != null) {
      finishPoll(PollResult.FAILURE, reason(error), effects);
      return effects;
    }
    Map<String, EnvoyNode> valid = validNodes(nodes);
    listed = valid;
    fetchFailures.keySet().retainAll(valid.keySet());
    removeNodesMissingFrom(valid, nodes.size() >= SigmaApi.MAX_PER_PAGE, effects);
    for (EnvoyNode node : valid.values()) {
      Served now = served.get(node.nodeId());
      if (now == null
          || now.version() != node.configVersion()
          || !node.id().equals(now.envoyNodeUuid())) {
        toFetch.add(node);
      }
    }
    effects.add(new Listed(vpsId, List.copyOf(valid.values())));
    fetchMore(effects);
    return effects;
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

  private void removeNodesMissingFrom(
      Map<String, EnvoyNode> nodes, boolean multiPage, List<Effect> effects) {
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
      effects.add(new Remove(nodeId, nextSerial(nodeId, 0)));
      effects.add(new DeleteSaved(nodeId));
      events.onNodeRemoved(nodeId);
      log.info(
          "xDS: Envoy node {} is no longer an active node of VPS {} in sigma-api; its Envoys get an "
              + "empty config",
          nodeId,
          vpsId);
    }
  }

  private void fetchMore(List<Effect> effects) {
    while (fetchesInFlight < settings.fetchConcurrency() && !toFetch.isEmpty()) {
      fetchesInFlight++;
      effects.add(new ReadRoutes(pollId, toFetch.poll(), 1));
    }
    if (fetchesInFlight == 0 && toFetch.isEmpty()) {
      finishPoll(
          fetchesFailedThisPoll == 0 ? PollResult.SUCCESS : PollResult.PARTIAL, null, effects);
    }
  }

  /** The answer to {@link ReadRoutes}. */
  List<Effect> onRoutesRead(
      long poll, EnvoyNode node, int attempt, List<EnvoyRoute> routes, Throwable error) {
    if (!current(poll)) {
      return List.of();
    }
    List<Effect> effects = new ArrayList<>();
    if (error != null) {
      if (SigmaApiException.of(error).map(SigmaApiException::isListingChanged).orElse(false)) {
        // Routes added or removed between two page reads: a torn read, read again like one.
        retryOrFail(node, node, attempt, reason(error), effects);
      } else {
        fetchFailed(node, reason(error), effects);
      }
      return effects;
    }
    // The routes endpoint does not say which config_version it answered for: read the node again.
    effects.add(new RecheckNode(poll, vpsId, node, attempt, routes));
    return effects;
  }

  /** The answer to {@link RecheckNode}. */
  List<Effect> onNodeRechecked(
      long poll,
      EnvoyNode node,
      int attempt,
      List<EnvoyRoute> routes,
      List<EnvoyNode> nodes,
      Throwable error) {
    if (!current(poll)) {
      return List.of();
    }
    List<Effect> effects = new ArrayList<>();
    if (error != null) {
      fetchFailed(
          node,
          "read its routes, but cannot read its config_version again to check that they did "
              + "not change meanwhile: "
              + reason(error),
          effects);
      return effects;
    }
    EnvoyNode now = findNode(nodes, node.nodeId());
    if (now == null) {
      retryOrFail(node, node, attempt, "the node is no longer listed", effects);
      return effects;
    }
    if (!now.id().equals(node.id()) || now.configVersion() != node.configVersion()) {
      retryOrFail(
          node,
          now,
          attempt,
          "config_version "
              + node.configVersion()
              + " became "
              + now.configVersion()
              + (now.id().equals(node.id()) ? "" : " (a new node, id " + now.id() + ")"),
          effects);
      return effects;
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
    NodeConfig config = new NodeConfig(now, routes);
    long serial = serve(config, false, 0, effects);
    effects.add(new Save(config, serial));
    fetchesInFlight--;
    fetchMore(effects);
    return effects;
  }

  /** The pause of {@link ReadAgainLater} is over. */
  List<Effect> onReadAgain(long poll, EnvoyNode node, int attempt) {
    if (!current(poll)) {
      return List.of();
    }
    return List.of(new ReadRoutes(poll, node, attempt));
  }

  /**
   * The read of {@code node}'s routes was torn ({@code why}): read again from {@code next} (the
   * node as listed now) after a short pause, or give up after {@link
   * ConfigPoller#MAX_READ_ATTEMPTS}.
   */
  private void retryOrFail(
      EnvoyNode node, EnvoyNode next, int attempt, String why, List<Effect> effects) {
    if (attempt >= ConfigPoller.MAX_READ_ATTEMPTS) {
      fetchFailed(
          node,
          "its routes changed while being read, "
              + attempt
              + " reads in a row (last: "
              + why
              + "); nothing of those reads is served",
          effects);
      return;
    }
    Duration pause = ConfigPoller.READ_RETRY_BACKOFF.delay(attempt, random);
    log.debug(
        "xDS: the routes of Envoy node {} changed while being read ({}); reading them again in {} ms",
        node.nodeId(),
        why,
        pause.toMillis());
    effects.add(new ReadAgainLater(pollId, next, attempt + 1, pause));
  }

  private void fetchFailed(EnvoyNode node, String reason, List<Effect> effects) {
    fetchesInFlight--;
    fetchesFailedThisPoll++;
    FetchFailure previous = fetchFailures.get(node.nodeId());
    int count = previous == null ? 1 : previous.count() + 1;
    fetchFailures.put(node.nodeId(), new FetchFailure(reason, clock.instant(), count));
    events.onRoutesFetchFailed(node.nodeId());
    Served now = served.get(node.nodeId());
    String keeping =
        now == null
            ? "it has no config yet, its Envoys keep waiting"
            : "keeping its config_version "
                + now.version()
                + " (version_info "
                + now.serial()
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
    fetchMore(effects);
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

  private void finishPoll(PollResult result, String error, List<Effect> effects) {
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
      effects.add(startPoll());
    } else {
      effects.add(new SchedulePoll(next));
    }
  }

  // ------------------------------------------------------------------ serving

  /**
   * Maps {@code config} into a snapshot for the registry (an effect); returns its serial.
   *
   * @param serialFloor a serial the node.id is known to have had (from the state dir), else 0
   */
  private long serve(
      NodeConfig config, boolean fromStateDir, long serialFloor, List<Effect> effects) {
    RouteMapping mapping = config.map(mapper);
    long serial = nextSerial(config.nodeId(), serialFloor);
    XdsSnapshot snapshot = mapping.toSnapshot(config.nodeId(), config.configVersion(), serial);
    // A saved config never replaces what the registry serves (this poller may be a restarted one).
    effects.add(new Serve(snapshot, fromStateDir));
    List<PollerStatus.Rejected> rejectedInStatus =
        mapping.rejected().stream()
            .limit(ConfigPoller.MAX_REJECTED_IN_STATUS)
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

  // ------------------------------------------------------------------ status

  String vpsId() {
    return vpsId;
  }

  /** The poller's status; the saves part comes from the saver. */
  PollerStatus status(List<String> unsavedNodes, String lastSaveError) {
    Set<String> nodeIds = new TreeSet<>(served.keySet());
    if (listed != null) {
      nodeIds.addAll(listed.keySet());
    }
    List<PollerStatus.Node> nodes = new ArrayList<>(nodeIds.size());
    for (String nodeId : nodeIds) {
      EnvoyNode node = listed == null ? null : listed.get(nodeId);
      Served now = served.get(nodeId);
      FetchFailure failure = fetchFailures.get(nodeId);
      nodes.add(
          new PollerStatus.Node(
              nodeId,
              node != null ? node.id() : now != null ? now.envoyNodeUuid() : null,
              node == null ? null : node.configVersion(),
              now == null ? null : now.version(),
              failure == null ? null : failure.message(),
              failure == null ? null : failure.at(),
              now == null ? List.of() : now.rejected(),
              now == null ? 0 : now.rejectedCount()));
    }
    return new PollerStatus(
        vpsId,
        settings.interval(),
        pollInFlight,
        lastPollAt,
        lastResult,
        lastError,
        lastSuccessAt,
        consecutiveFailures,
        unsavedNodes,
        lastSaveError,
        nodes);
  }

  static String reason(Throwable error) {
    return SigmaApiException.of(error)
        .map(Throwable::getMessage)
        .orElseGet(() -> error.getClass().getSimpleName() + ": " + error.getMessage());
  }
}
