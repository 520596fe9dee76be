package io.sigma.agent.devapi;

import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.Page;
import io.sigma.agent.api.StaticRoute;
import io.sigma.agent.api.SyncStaticResult;
import io.sigma.agent.devapi.DevApiRequests.CreateNodeInput;
import io.sigma.agent.devapi.DevApiRequests.HeartbeatInput;
import io.sigma.agent.devapi.DevApiRequests.RegisterInput;
import io.sigma.agent.devapi.DevApiRequests.SyncStaticInput;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dev API's data: VPS records, Envoy nodes and routes, in memory, with sigma-api's rules
 * (create-or-update by hostname, unique (vps_id, node_id), routes ordered by listen_port, a node's
 * {@code config_version} bumped on every change to its routes). Thread-safe: every method runs
 * under one lock (the store's monitor), and every value handed out is an immutable snapshot.
 *
 * <p>Only what {@code sigma-agent --dev} needs is here: the endpoints the HTTP routes call and the
 * seeding of the first VPS. Refusals are {@link ApiRejection}s with the status sigma-api would
 * answer. The admin edits tests and benchmarks make (nodes, routes, config churn, VPS deletion,
 * per-hostname seeds, reads of the state) are DevApiAdmin's, in the test sources of this package.
 */
public final class DevApiStore {
  private static final Logger log = LoggerFactory.getLogger(DevApiStore.class);

  private static final int DEFAULT_PER_PAGE = 25;
  private static final int MAX_PER_PAGE = 100;

  /** The order routes are listed in: by listen_port, then name and id. */
  static final Comparator<EnvoyRoute> BY_LISTEN_PORT =
      Comparator.comparing(EnvoyRoute::listenPort, Comparator.nullsLast(Comparator.naturalOrder()))
          .thenComparing(EnvoyRoute::name)
          .thenComparing(EnvoyRoute::id);

  private final Clock clock;
  private final Map<String, DevVps> vpsById = new LinkedHashMap<>();
  private final Map<String, String> vpsIdByHostname = new HashMap<>();
  private final Map<String, EnvoyNode> nodesById = new LinkedHashMap<>();
  private final Map<String, Map<String, EnvoyRoute>> routesByNode = new HashMap<>();
  private final Map<String, String> nodeIdOfRoute = new HashMap<>();
  private final Map<String, DevSeed> seedsByHostname = new HashMap<>();
  private DevSeed firstRegistrationSeed;

  public DevApiStore(Clock clock) {
    this.clock = Objects.requireNonNull(clock);
  }

  public DevApiStore() {
    this(Clock.systemUTC());
  }

  // ---------------------------------------------------------------- agent endpoints

  /**
   * Creates the VPS for a new hostname, or updates the one that has it (addresses and ssh_port
   * replaced; alias and system_info kept when the request has none).
   */
  public synchronized DevVps register(RegisterInput in) {
    String now = now();
    String existingId = vpsIdByHostname.get(in.hostname());
    if (existingId != null) {
      DevVps old = vpsById.get(existingId);
      DevVps updated =
          vps(
              old.id(),
              in.hostname(),
              in.alias() != null ? in.alias() : old.alias(),
              in.ipAddresses(),
              in.sshPort(),
              in.systemInfo() != null ? in.systemInfo() : old.systemInfo(),
              old.createdAt(),
              now);
      vpsById.put(updated.id(), updated);
      log.debug("dev sigma-api: re-registration of {} (vps {})", in.hostname(), updated.id());
      return updated;
    }
    DevVps created =
        vps(
            UUID.randomUUID().toString(),
            in.hostname(),
            in.alias(),
            in.ipAddresses(),
            in.sshPort(),
            in.systemInfo(),
            now,
            now);
    vpsById.put(created.id(), created);
    vpsIdByHostname.put(created.hostname(), created.id());
    log.info("dev sigma-api: registered new VPS {} as {}", created.hostname(), created.id());
    if (firstRegistrationSeed != null) {
      DevSeed seed = firstRegistrationSeed;
      firstRegistrationSeed = null;
      seed(created.id(), seed);
    }
    // Per-hostname seeds are the tests' (DevApiAdmin.seedForHostname); --dev sets none.
    DevSeed hostSeed = seedsByHostname.get(created.hostname());
    if (hostSeed != null) {
      seed(created.id(), hostSeed);
    }
    return created;
  }

  /** Updates a registered VPS; 404 "Not found" when no VPS has the hostname. */
  public synchronized DevVps heartbeat(HeartbeatInput in) {
    String id = vpsIdByHostname.get(in.hostname());
    if (id == null) {
      throw ApiRejection.notFound();
    }
    DevVps old = vpsById.get(id);
    DevVps updated =
        vps(
            old.id(),
            old.hostname(),
            old.alias(),
            in.ipAddresses().isEmpty() ? old.ipAddresses() : in.ipAddresses(),
            old.sshPort(),
            in.systemInfo() != null ? in.systemInfo() : old.systemInfo(),
            old.createdAt(),
            now());
    vpsById.put(id, updated);
    return updated;
  }

  /** One page of nodes, optionally filtered by VPS and status, in creation order. */
  public synchronized Page<EnvoyNode> listNodes(
      String vpsId, String status, Integer page, Integer perPage) {
    Stream<EnvoyNode> rows =
        nodesById.values().stream()
            .filter(n -> vpsId == null || n.vpsId().equals(vpsId))
            .filter(n -> status == null || n.status().equals(status));
    return page(rows.toList(), page, perPage);
  }

  /** Creates a node; 400 for an unknown VPS, 409 when the VPS already has that node_id. */
  public synchronized EnvoyNode createNode(CreateNodeInput in) {
    if (!vpsById.containsKey(in.vpsId())) {
      throw ApiRejection.badRequest("vps_id " + in.vpsId() + " does not exist");
    }
    boolean duplicate =
        nodesById.values().stream()
            .anyMatch(n -> n.vpsId().equals(in.vpsId()) && n.nodeId().equals(in.nodeId()));
    if (duplicate) {
      throw ApiRejection.conflict(
          "envoy node " + in.nodeId() + " already exists for vps " + in.vpsId());
    }
    String now = now();
    EnvoyNode node =
        new EnvoyNode(
            UUID.randomUUID().toString(),
            in.vpsId(),
            in.nodeId(),
            in.adminPort(),
            in.description(),
            1L,
            in.status(),
            now,
            now);
    nodesById.put(node.id(), node);
    routesByNode.put(node.id(), new LinkedHashMap<>());
    return node;
  }

  /** One page of routes ordered by listen_port, optionally filtered by node, status, source. */
  public synchronized Page<EnvoyRoute> listRoutes(
      String envoyNodeId, String status, String source, Integer page, Integer perPage) {
    Stream<EnvoyRoute> rows =
        envoyNodeId == null
            ? routesByNode.values().stream().flatMap(m -> m.values().stream())
            : routesByNode.getOrDefault(envoyNodeId, Map.of()).values().stream();
    List<EnvoyRoute> matching =
        rows.filter(r -> status == null || status.equals(r.status()))
            .filter(r -> source == null || source.equals(r.source()))
            .sorted(BY_LISTEN_PORT)
            .toList();
    return page(matching, page, perPage);
  }

  /**
   * Upserts the node's static routes by listen_port and deletes its static routes that are not in
   * the list. {@code upserted} counts the routes sent; {@code config_version} is bumped when
   * anything actually changed.
   */
  public synchronized SyncStaticResult syncStatic(SyncStaticInput in) {
    requireNode(in.envoyNodeId());
    Map<String, EnvoyRoute> routes = routesByNode.get(in.envoyNodeId());
    String now = now();
    boolean changed = false;
    Set<Integer> sentPorts = new HashSet<>();
    for (StaticRoute s : in.routes()) {
      sentPorts.add(s.listenPort());
      Optional<EnvoyRoute> existing =
          routes.values().stream()
              .filter(r -> Objects.equals(r.listenPort(), s.listenPort()))
              .findFirst();
      EnvoyRoute next =
          new EnvoyRoute(
              existing.map(EnvoyRoute::id).orElseGet(() -> UUID.randomUUID().toString()),
              in.envoyNodeId(),
              s.name(),
              s.listenPort(),
              s.backendHost(),
              s.backendPort(),
              s.clusterType(),
              s.connectTimeoutSecs(),
              s.proxyProtocol(),
              RouteSpec.SOURCE_STATIC,
              RouteSpec.STATUS_ACTIVE,
              existing.map(EnvoyRoute::createdAt).orElse(now),
              now);
      if (existing.isPresent() && sameContent(existing.get(), next)) {
        continue;
      }
      routes.put(next.id(), next);
      nodeIdOfRoute.put(next.id(), in.envoyNodeId());
      changed = true;
    }
    List<String> stale =
        routes.values().stream()
            .filter(r -> RouteSpec.SOURCE_STATIC.equals(r.source()))
            .filter(r -> !sentPorts.contains(r.listenPort()))
            .map(EnvoyRoute::id)
            .toList();
    stale.forEach(
        id -> {
          routes.remove(id);
          nodeIdOfRoute.remove(id);
        });
    if (changed || !stale.isEmpty()) {
      bump(in.envoyNodeId(), now);
    }
    return new SyncStaticResult(in.routes().size(), stale.size());
  }

  // ---------------------------------------------------------------- seeding

  /** The next VPS created by a registration (whatever its hostname) gets this seed, once. */
  public synchronized void seedForFirstRegistration(DevSeed seed) {
    firstRegistrationSeed = Objects.requireNonNull(seed);
  }

  /**
   * Creates the seed's node and routes for a VPS; when the VPS already has a node with that
   * node_id, it is returned untouched.
   */
  synchronized EnvoyNode seed(String vpsId, DevSeed seed) {
    Optional<EnvoyNode> existing =
        nodesById.values().stream()
            .filter(n -> n.vpsId().equals(vpsId) && n.nodeId().equals(seed.nodeId()))
            .findFirst();
    if (existing.isPresent()) {
      return existing.get();
    }
    EnvoyNode node =
        createNode(
            new CreateNodeInput(
                vpsId, seed.nodeId(), seed.description(), seed.adminPort(), "active"));
    for (RouteSpec spec : seed.routes()) {
      addRoute(node.id(), spec);
    }
    EnvoyNode seeded = nodesById.get(node.id());
    log.info(
        "dev sigma-api: seeded envoy node {} ({}) with {} routes for vps {}",
        seeded.nodeId(),
        seeded.id(),
        seed.routes().size(),
        vpsId);
    return seeded;
  }

  /** Adds a route; 404 for an unknown node, 409 when the node already uses the listen_port. */
  synchronized EnvoyRoute addRoute(String nodeUuid, RouteSpec spec) {
    requireNode(nodeUuid);
    Map<String, EnvoyRoute> routes = routesByNode.get(nodeUuid);
    requireFreePort(routes, spec.listenPort(), null);
    String now = now();
    EnvoyRoute route = route(UUID.randomUUID().toString(), nodeUuid, spec, now, now);
    routes.put(route.id(), route);
    nodeIdOfRoute.put(route.id(), nodeUuid);
    bump(nodeUuid, now);
    return route;
  }

  // ---------------------------------------------------------------- state, for DevApiAdmin

  // The admin edits of tests and benchmarks (nodes, routes, VPS deletion, per-hostname seeds) live
  // in DevApiAdmin in the test sources of this package: --dev never makes them. It reads and
  // changes the state below while holding this store's monitor, the lock of every synchronized
  // method here, so its edits are as atomic as the store's own.

  /** VPS records by id, in registration order. Caller holds this store's monitor. */
  Map<String, DevVps> vpsById() {
    assert Thread.holdsLock(this);
    return vpsById;
  }

  /** VPS ids by hostname. Caller holds this store's monitor. */
  Map<String, String> vpsIdByHostname() {
    assert Thread.holdsLock(this);
    return vpsIdByHostname;
  }

  /** Envoy nodes by uuid, in creation order. Caller holds this store's monitor. */
  Map<String, EnvoyNode> nodesById() {
    assert Thread.holdsLock(this);
    return nodesById;
  }

  /** Each node's routes by route id (every node has a map). Caller holds this store's monitor. */
  Map<String, Map<String, EnvoyRoute>> routesByNode() {
    assert Thread.holdsLock(this);
    return routesByNode;
  }

  /** The node uuid of each route id. Caller holds this store's monitor. */
  Map<String, String> nodeIdOfRoute() {
    assert Thread.holdsLock(this);
    return nodeIdOfRoute;
  }

  /**
   * Seeds that every VPS created for a hostname gets at registration. Caller holds this store's
   * monitor.
   */
  Map<String, DevSeed> seedsByHostname() {
    assert Thread.holdsLock(this);
    return seedsByHostname;
  }

  // ---------------------------------------------------------------- helpers

  static int clampPerPage(Integer perPage) {
    if (perPage == null) {
      return DEFAULT_PER_PAGE;
    }
    return Math.max(1, Math.min(MAX_PER_PAGE, perPage));
  }

  static int normalizePage(Integer page) {
    return page == null || page < 1 ? 1 : page;
  }

  private static <T> Page<T> page(List<T> rows, Integer page, Integer perPage) {
    int p = normalizePage(page);
    int pp = clampPerPage(perPage);
    long from = (long) (p - 1) * pp;
    List<T> data =
        from >= rows.size()
            ? List.of()
            : List.copyOf(rows.subList((int) from, (int) Math.min(rows.size(), from + pp)));
    return new Page<>(data, rows.size(), p, pp);
  }

  /** The node; 404 if unknown. Caller holds this store's monitor. */
  EnvoyNode requireNode(String nodeUuid) {
    EnvoyNode n = nodeUuid == null ? null : nodesById.get(nodeUuid);
    if (n == null) {
      throw ApiRejection.notFound("envoy node " + nodeUuid + " not found");
    }
    return n;
  }

  /** 409 when another route than {@code exceptId} uses the port. */
  static void requireFreePort(Map<String, EnvoyRoute> routes, int port, String exceptId) {
    Predicate<EnvoyRoute> clash =
        r -> Objects.equals(r.listenPort(), port) && !r.id().equals(exceptId);
    if (routes.values().stream().anyMatch(clash)) {
      throw ApiRejection.conflict("listen_port " + port + " is already used on this node");
    }
  }

  /** Bumps the node's config_version, stamped {@code now}. Caller holds this store's monitor. */
  EnvoyNode bump(String nodeUuid, String now) {
    EnvoyNode n = nodesById.get(nodeUuid);
    EnvoyNode bumped =
        new EnvoyNode(
            n.id(),
            n.vpsId(),
            n.nodeId(),
            n.adminPort(),
            n.description(),
            n.configVersion() + 1,
            n.status(),
            n.createdAt(),
            now);
    nodesById.put(nodeUuid, bumped);
    return bumped;
  }

  /** The route a spec describes, with the store's fields added. */
  static EnvoyRoute route(
      String id, String nodeUuid, RouteSpec s, String createdAt, String updatedAt) {
    return new EnvoyRoute(
        id,
        nodeUuid,
        s.name(),
        s.listenPort(),
        s.backendHost(),
        s.backendPort(),
        s.clusterType(),
        s.connectTimeoutSecs(),
        s.proxyProtocol(),
        s.source(),
        s.status(),
        createdAt,
        updatedAt);
  }

  private static boolean sameContent(EnvoyRoute a, EnvoyRoute b) {
    return a.name().equals(b.name())
        && Objects.equals(a.backendHost(), b.backendHost())
        && Objects.equals(a.backendPort(), b.backendPort())
        && Objects.equals(a.clusterType(), b.clusterType())
        && Objects.equals(a.connectTimeoutSecs(), b.connectTimeoutSecs())
        && Objects.equals(a.proxyProtocol(), b.proxyProtocol())
        && Objects.equals(a.source(), b.source())
        && Objects.equals(a.status(), b.status());
  }

  private static DevVps vps(
      String id,
      String hostname,
      String alias,
      List<IpAddress> ips,
      int sshPort,
      JsonNode systemInfo,
      String createdAt,
      String updatedAt) {
    return new DevVps(
        id,
        hostname,
        alias,
        null,
        ips,
        sshPort,
        null,
        null,
        intField(systemInfo, "cpu_cores"),
        longField(systemInfo, "ram_mb"),
        longField(systemInfo, "disk_gb"),
        DevVps.ACTIVE,
        DevVps.extraWith(systemInfo),
        createdAt,
        updatedAt);
  }

  private static Integer intField(JsonNode info, String field) {
    JsonNode v = info == null ? null : info.get(field);
    return v != null && v.isIntegralNumber() && v.canConvertToInt() ? v.intValue() : null;
  }

  private static Long longField(JsonNode info, String field) {
    JsonNode v = info == null ? null : info.get(field);
    return v != null && v.isIntegralNumber() && v.canConvertToLong() ? v.longValue() : null;
  }

  /** The clock's time as the records stamp it (microseconds, ISO-8601). */
  String now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS).toString();
  }
}
