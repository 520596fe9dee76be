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
 * under one lock, and every value handed out is an immutable snapshot.
 *
 * <p>The HTTP-facing methods and the admin methods (used directly by tests and simulations) report
 * refusals as {@link ApiRejection} with the status sigma-api would answer.
 */
public final class DevApiStore {
  private static final Logger log = LoggerFactory.getLogger(DevApiStore.class);

  public static final int DEFAULT_PER_PAGE = 25;
  public static final int MAX_PER_PAGE = 100;
  private static final Comparator<EnvoyRoute> BY_LISTEN_PORT =
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
   * Every VPS created for this hostname gets this seed (again after {@link #deleteVps} and a new
   * registration); a VPS that already has the hostname gets it now.
   */
  public synchronized void seedForHostname(String hostname, DevSeed seed) {
    seedsByHostname.put(hostname, Objects.requireNonNull(seed));
    String existing = vpsIdByHostname.get(hostname);
    if (existing != null) {
      seed(existing, seed);
    }
  }

  /**
   * Creates the seed's node and routes for a VPS; when the VPS already has a node with that
   * node_id, it is returned untouched.
   */
  public synchronized EnvoyNode seed(String vpsId, DevSeed seed) {
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

  // ---------------------------------------------------------------- admin: nodes and routes

  /** An active node without routes (config_version 1). */
  public EnvoyNode addNode(String vpsId, String nodeId) {
    return createNode(new CreateNodeInput(vpsId, nodeId, "", null, "active"));
  }

  /** Changes a node's status (e.g. "disabled"); does not touch config_version. */
  public EnvoyNode setNodeStatus(String nodeUuid, String status) {
    EnvoyNode n =
        node(nodeUuid)
            .orElseThrow(() -> ApiRejection.notFound("envoy node " + nodeUuid + " not found"));
    return updateNode(nodeUuid, n.description(), n.adminPort(), status);
  }

  /**
   * Replaces a node's description, admin_port and status (node_id and vps_id stay); does not touch
   * config_version, which follows route changes only.
   */
  public synchronized EnvoyNode updateNode(
      String nodeUuid, String description, Integer adminPort, String status) {
    EnvoyNode n = requireNode(nodeUuid);
    EnvoyNode updated =
        new EnvoyNode(
            n.id(),
            n.vpsId(),
            n.nodeId(),
            adminPort,
            description == null ? "" : description,
            n.configVersion(),
            Objects.requireNonNull(status),
            n.createdAt(),
            now());
    nodesById.put(n.id(), updated);
    return updated;
  }

  /** Deletes a node and its routes; false if it did not exist. */
  public synchronized boolean deleteNode(String nodeUuid) {
    if (nodesById.remove(nodeUuid) == null) {
      return false;
    }
    Map<String, EnvoyRoute> routes = routesByNode.remove(nodeUuid);
    if (routes != null) {
      routes.keySet().forEach(nodeIdOfRoute::remove);
    }
    return true;
  }

  /** Adds a route; 404 for an unknown node, 409 when the node already uses the listen_port. */
  public synchronized EnvoyRoute addRoute(String nodeUuid, RouteSpec spec) {
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

  /** Replaces a route's fields (same id, same node); 404 if unknown. */
  public synchronized EnvoyRoute updateRoute(String routeId, RouteSpec spec) {
    String nodeUuid = nodeIdOfRoute.get(routeId);
    if (nodeUuid == null) {
      throw ApiRejection.notFound("route " + routeId + " not found");
    }
    Map<String, EnvoyRoute> routes = routesByNode.get(nodeUuid);
    requireFreePort(routes, spec.listenPort(), routeId);
    String now = now();
    EnvoyRoute route = route(routeId, nodeUuid, spec, routes.get(routeId).createdAt(), now);
    routes.put(routeId, route);
    bump(nodeUuid, now);
    return route;
  }

  /** Deletes a route; false if it did not exist. */
  public synchronized boolean deleteRoute(String routeId) {
    String nodeUuid = nodeIdOfRoute.remove(routeId);
    if (nodeUuid == null) {
      return false;
    }
    routesByNode.get(nodeUuid).remove(routeId);
    bump(nodeUuid, now());
    return true;
  }

  /** Bumps a node's config_version without any route change; returns the new version. */
  public synchronized long bumpConfigVersion(String nodeUuid) {
    requireNode(nodeUuid);
    return bump(nodeUuid, now()).configVersion();
  }

  /**
   * A small real change to a node's config, as an operator editing a route would make: the first
   * active dynamic route with a backend has its connect_timeout_secs toggled (5 ↔ 6), and the
   * version is bumped. A node without such a route only gets the bump. Never removes a route.
   */
  public synchronized EnvoyNode churnConfig(String nodeUuid) {
    requireNode(nodeUuid);
    String now = now();
    Map<String, EnvoyRoute> routes = routesByNode.get(nodeUuid);
    routes.values().stream()
        .filter(r -> RouteSpec.SOURCE_DYNAMIC.equals(r.source()))
        .filter(r -> RouteSpec.STATUS_ACTIVE.equals(r.status()) && !r.isPlaceholder())
        .min(BY_LISTEN_PORT)
        .ifPresent(
            r -> {
              int timeout =
                  r.connectTimeoutSecs() == null
                      ? RouteSpec.DEFAULT_CONNECT_TIMEOUT_SECS
                      : r.connectTimeoutSecs();
              routes.put(
                  r.id(),
                  new EnvoyRoute(
                      r.id(),
                      r.envoyNodeId(),
                      r.name(),
                      r.listenPort(),
                      r.backendHost(),
                      r.backendPort(),
                      r.clusterType(),
                      timeout == 5 ? 6 : 5,
                      r.proxyProtocol(),
                      r.source(),
                      r.status(),
                      r.createdAt(),
                      now));
            });
    return bump(nodeUuid, now);
  }

  /** {@link #churnConfig} for every node of a VPS; an unknown VPS is left alone. */
  public synchronized void churnConfigOfVps(String vpsId) {
    nodesById.values().stream()
        .filter(n -> n.vpsId().equals(vpsId))
        .map(EnvoyNode::id)
        .toList()
        .forEach(this::churnConfig);
  }

  // ---------------------------------------------------------------- admin: VPS records

  /**
   * Deletes a VPS with its nodes and routes, as an admin would: its heartbeats answer 404 until it
   * registers again, which creates a new record with a new id.
   */
  public synchronized boolean deleteVps(String vpsId) {
    DevVps removed = vpsById.remove(vpsId);
    if (removed == null) {
      return false;
    }
    vpsIdByHostname.remove(removed.hostname());
    nodesById.values().stream()
        .filter(n -> n.vpsId().equals(vpsId))
        .map(EnvoyNode::id)
        .toList()
        .forEach(this::deleteNode);
    log.info("dev sigma-api: deleted VPS {} ({})", removed.hostname(), vpsId);
    return true;
  }

  public synchronized Optional<DevVps> vps(String vpsId) {
    return Optional.ofNullable(vpsById.get(vpsId));
  }

  public synchronized Optional<DevVps> vpsByHostname(String hostname) {
    return Optional.ofNullable(vpsIdByHostname.get(hostname)).map(vpsById::get);
  }

  /** Every VPS, in registration order. */
  public synchronized List<DevVps> allVps() {
    return List.copyOf(vpsById.values());
  }

  public synchronized Optional<EnvoyNode> node(String nodeUuid) {
    return Optional.ofNullable(nodesById.get(nodeUuid));
  }

  /** The VPS's nodes, in creation order. */
  public synchronized List<EnvoyNode> nodes(String vpsId) {
    return nodesById.values().stream().filter(n -> n.vpsId().equals(vpsId)).toList();
  }

  /** The node's routes (all statuses and sources), ordered by listen_port. */
  public synchronized List<EnvoyRoute> routes(String nodeUuid) {
    return routesByNode.getOrDefault(nodeUuid, Map.of()).values().stream()
        .sorted(BY_LISTEN_PORT)
        .toList();
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

  private EnvoyNode requireNode(String nodeUuid) {
    EnvoyNode n = nodeUuid == null ? null : nodesById.get(nodeUuid);
    if (n == null) {
      throw ApiRejection.notFound("envoy node " + nodeUuid + " not found");
    }
    return n;
  }

  private static void requireFreePort(Map<String, EnvoyRoute> routes, int port, String exceptId) {
    Predicate<EnvoyRoute> clash =
        r -> Objects.equals(r.listenPort(), port) && !r.id().equals(exceptId);
    if (routes.values().stream().anyMatch(clash)) {
      throw ApiRejection.conflict("listen_port " + port + " is already used on this node");
    }
  }

  private EnvoyNode bump(String nodeUuid, String now) {
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

  private static EnvoyRoute route(
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

  private String now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS).toString();
  }
}
