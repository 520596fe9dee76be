package io.sigma.agent.devapi;

import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.devapi.DevApiRequests.CreateNodeInput;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an admin of sigma-api does to a {@link DevApiStore} behind the agent's back, for tests and
 * benchmarks: add, change and delete nodes and routes, churn configs, delete VPS records, seed
 * hostnames, and read the state. Test code only: {@code sigma-agent --dev} makes none of these
 * edits, so they are not in the agent's jar.
 *
 * <p>A handle on the store, holding no state of its own ({@code admin(devApi)} or {@link #of} can
 * be called as often as is convenient). Every edit holds the store's monitor, the lock of the
 * store's own synchronized methods, so it is as atomic as the store's endpoints and never seen half
 * done; every value handed out is an immutable snapshot. Refusals are {@link ApiRejection}s with
 * the status sigma-api would answer; every change to a node's routes bumps its {@code
 * config_version}, as the store's endpoints do.
 */
public final class DevApiAdmin {
  private static final Logger log = LoggerFactory.getLogger(DevApiAdmin.class);

  private final DevApiStore store;

  private DevApiAdmin(DevApiStore store) {
    this.store = Objects.requireNonNull(store);
  }

  public static DevApiAdmin of(DevApiStore store) {
    return new DevApiAdmin(store);
  }

  /** The admin of the store a dev API serves (meant to be imported statically). */
  public static DevApiAdmin admin(DevSigmaApi api) {
    return of(api.store());
  }

  // ---------------------------------------------------------------- nodes and routes

  /** An active node without routes (config_version 1). */
  public EnvoyNode addNode(String vpsId, String nodeId) {
    return store.createNode(new CreateNodeInput(vpsId, nodeId, "", null, "active"));
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
  public EnvoyNode updateNode(
      String nodeUuid, String description, Integer adminPort, String status) {
    synchronized (store) {
      EnvoyNode n = store.requireNode(nodeUuid);
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
              store.now());
      store.nodesById().put(n.id(), updated);
      return updated;
    }
  }

  /** Deletes a node and its routes; false if it did not exist. */
  public boolean deleteNode(String nodeUuid) {
    synchronized (store) {
      if (store.nodesById().remove(nodeUuid) == null) {
        return false;
      }
      Map<String, EnvoyRoute> routes = store.routesByNode().remove(nodeUuid);
      if (routes != null) {
        routes.keySet().forEach(store.nodeIdOfRoute()::remove);
      }
      return true;
    }
  }

  /** Adds a route; 404 for an unknown node, 409 when the node already uses the listen_port. */
  public EnvoyRoute addRoute(String nodeUuid, RouteSpec spec) {
    return store.addRoute(nodeUuid, spec);
  }

  /** Replaces a route's fields (same id, same node); 404 if unknown. */
  public EnvoyRoute updateRoute(String routeId, RouteSpec spec) {
    synchronized (store) {
      String nodeUuid = store.nodeIdOfRoute().get(routeId);
      if (nodeUuid == null) {
        throw ApiRejection.notFound("route " + routeId + " not found");
      }
      Map<String, EnvoyRoute> routes = store.routesByNode().get(nodeUuid);
      DevApiStore.requireFreePort(routes, spec.listenPort(), routeId);
      String now = store.now();
      EnvoyRoute route =
          DevApiStore.route(routeId, nodeUuid, spec, routes.get(routeId).createdAt(), now);
      routes.put(routeId, route);
      store.bump(nodeUuid, now);
      return route;
    }
  }

  /** Deletes a route; false if it did not exist. */
  public boolean deleteRoute(String routeId) {
    synchronized (store) {
      String nodeUuid = store.nodeIdOfRoute().remove(routeId);
      if (nodeUuid == null) {
        return false;
      }
      store.routesByNode().get(nodeUuid).remove(routeId);
      store.bump(nodeUuid, store.now());
      return true;
    }
  }

  /** Bumps a node's config_version without any route change; returns the new version. */
  public long bumpConfigVersion(String nodeUuid) {
    synchronized (store) {
      store.requireNode(nodeUuid);
      return store.bump(nodeUuid, store.now()).configVersion();
    }
  }

  /**
   * A small real change to a node's config, as an operator editing a route would make: the first
   * active dynamic route with a backend has its connect_timeout_secs toggled (5 ↔ 6), and the
   * version is bumped. A node without such a route only gets the bump. Never removes a route.
   */
  public EnvoyNode churnConfig(String nodeUuid) {
    synchronized (store) {
      store.requireNode(nodeUuid);
      String now = store.now();
      Map<String, EnvoyRoute> routes = store.routesByNode().get(nodeUuid);
      routes.values().stream()
          .filter(r -> RouteSpec.SOURCE_DYNAMIC.equals(r.source()))
          .filter(r -> RouteSpec.STATUS_ACTIVE.equals(r.status()) && !r.isPlaceholder())
          .min(DevApiStore.BY_LISTEN_PORT)
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
      return store.bump(nodeUuid, now);
    }
  }

  /** {@link #churnConfig} for every node of a VPS; an unknown VPS is left alone. */
  public void churnConfigOfVps(String vpsId) {
    synchronized (store) {
      store.nodesById().values().stream()
          .filter(n -> n.vpsId().equals(vpsId))
          .map(EnvoyNode::id)
          .toList()
          .forEach(this::churnConfig);
    }
  }

  // ---------------------------------------------------------------- VPS records and seeding

  /**
   * Deletes a VPS with its nodes and routes, as an admin would: its heartbeats answer 404 until it
   * registers again, which creates a new record with a new id.
   */
  public boolean deleteVps(String vpsId) {
    synchronized (store) {
      DevVps removed = store.vpsById().remove(vpsId);
      if (removed == null) {
        return false;
      }
      store.vpsIdByHostname().remove(removed.hostname());
      store.nodesById().values().stream()
          .filter(n -> n.vpsId().equals(vpsId))
          .map(EnvoyNode::id)
          .toList()
          .forEach(this::deleteNode);
      log.info("dev sigma-api: deleted VPS {} ({})", removed.hostname(), vpsId);
      return true;
    }
  }

  /**
   * Every VPS created for this hostname gets this seed (again after {@link #deleteVps} and a new
   * registration); a VPS that already has the hostname gets it now.
   */
  public void seedForHostname(String hostname, DevSeed seed) {
    synchronized (store) {
      store.seedsByHostname().put(hostname, Objects.requireNonNull(seed));
      String existing = store.vpsIdByHostname().get(hostname);
      if (existing != null) {
        store.seed(existing, seed);
      }
    }
  }

  /**
   * Creates the seed's node and routes for a VPS; when the VPS already has a node with that
   * node_id, it is returned untouched.
   */
  public EnvoyNode seed(String vpsId, DevSeed seed) {
    return store.seed(vpsId, seed);
  }

  // ---------------------------------------------------------------- reads

  public Optional<DevVps> vps(String vpsId) {
    synchronized (store) {
      return Optional.ofNullable(store.vpsById().get(vpsId));
    }
  }

  public Optional<DevVps> vpsByHostname(String hostname) {
    synchronized (store) {
      return Optional.ofNullable(store.vpsIdByHostname().get(hostname)).map(store.vpsById()::get);
    }
  }

  /** Every VPS, in registration order. */
  public List<DevVps> allVps() {
    synchronized (store) {
      return List.copyOf(store.vpsById().values());
    }
  }

  public Optional<EnvoyNode> node(String nodeUuid) {
    synchronized (store) {
      return Optional.ofNullable(store.nodesById().get(nodeUuid));
    }
  }

  /** The VPS's nodes, in creation order. */
  public List<EnvoyNode> nodes(String vpsId) {
    synchronized (store) {
      return store.nodesById().values().stream().filter(n -> n.vpsId().equals(vpsId)).toList();
    }
  }

  /** The node's routes (all statuses and sources), ordered by listen_port. */
  public List<EnvoyRoute> routes(String nodeUuid) {
    synchronized (store) {
      return store.routesByNode().getOrDefault(nodeUuid, Map.of()).values().stream()
          .sorted(DevApiStore.BY_LISTEN_PORT)
          .toList();
    }
  }
}
