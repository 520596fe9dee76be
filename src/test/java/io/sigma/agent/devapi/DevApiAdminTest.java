package io.sigma.agent.devapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.Page;
import io.sigma.agent.devapi.DevApiRequests.HeartbeatInput;
import io.sigma.agent.devapi.DevApiRequests.RegisterInput;
import io.sigma.agent.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DevApiAdminTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-26T10:00:00Z"));
  private final DevApiStore store = new DevApiStore(clock);
  private final DevApiAdmin admin = DevApiAdmin.of(store);

  private static JsonNode info(int cores) {
    return JsonNodeFactory.instance
        .objectNode()
        .put("cpu_cores", cores)
        .put("ram_mb", 1987L)
        .put("disk_gb", 40L)
        .put("odd", "kept");
  }

  private DevVps register(String host) {
    return store.register(
        new RegisterInput(host, null, List.of(new IpAddress("10.0.0.5", "internal")), 22, info(2)));
  }

  @Test
  void deleteVpsCascadesAndReRegistrationGetsANewId() {
    DevVps vps = register("relay-1");
    EnvoyNode node = admin.addNode(vps.id(), "n1");
    EnvoyRoute route = admin.addRoute(node.id(), RouteSpec.active("r", 10001, "h", 80));
    assertTrue(admin.deleteVps(vps.id()));
    assertFalse(admin.deleteVps(vps.id()));
    assertTrue(admin.node(node.id()).isEmpty());
    assertFalse(admin.deleteRoute(route.id()));
    assertEquals(
        404,
        assertThrows(
                ApiRejection.class,
                () -> store.heartbeat(new HeartbeatInput("relay-1", List.of(), null)))
            .status());
    assertNotEquals(vps.id(), register("relay-1").id());
  }

  @Test
  void routeUpdatesAndDeletionsBumpTheVersion() {
    DevVps vps = register("relay-1");
    EnvoyNode node = admin.addNode(vps.id(), "n1");
    EnvoyRoute c = admin.addRoute(node.id(), RouteSpec.active("c", 10003, "h", 3));
    admin.addRoute(node.id(), RouteSpec.active("a", 10001, "h", 1));
    assertEquals(3L, version(node));

    clock.advance(Duration.ofSeconds(5));
    EnvoyRoute moved = admin.updateRoute(c.id(), RouteSpec.active("c", 9000, "h2", 3));
    assertEquals(c.id(), moved.id());
    assertEquals(c.createdAt(), moved.createdAt());
    assertNotEquals(c.updatedAt(), moved.updatedAt());
    assertEquals("h2", moved.backendHost());
    assertEquals(4L, version(node));
    assertEquals(
        List.of("c", "a"), admin.routes(node.id()).stream().map(EnvoyRoute::name).toList());
    assertEquals(
        409,
        assertThrows(
                ApiRejection.class,
                () -> admin.updateRoute(c.id(), RouteSpec.active("c", 10001, "h", 3)))
            .status(),
        "the port of another route");
    admin.updateRoute(c.id(), RouteSpec.active("c", 9000, "h3", 3));
    assertEquals(5L, version(node), "its own port is free for it");

    assertTrue(admin.deleteRoute(c.id()));
    assertEquals(6L, version(node));
    assertFalse(admin.deleteRoute(c.id()));
    assertEquals(6L, version(node));
    assertEquals(7L, admin.bumpConfigVersion(node.id()));
    assertEquals(7L, version(node));
    assertEquals(List.of("a"), admin.routes(node.id()).stream().map(EnvoyRoute::name).toList());
    assertEquals(
        404,
        assertThrows(
                ApiRejection.class, () -> admin.updateRoute("nope", RouteSpec.placeholder("x", 1)))
            .status());
    assertEquals(
        404,
        assertThrows(
                ApiRejection.class,
                () -> admin.bumpConfigVersion("00000000-0000-0000-0000-000000000000"))
            .status());
  }

  @Test
  void churnChangesARouteAndTheVersionButNeverRemovesRoutes() {
    DevVps vps = register("relay-1");
    EnvoyNode node = admin.addNode(vps.id(), "n1");
    admin.addRoute(node.id(), RouteSpec.placeholder("p", 10000));
    admin.addRoute(node.id(), RouteSpec.active("a", 10001, "h", 1));
    long before = version(node);
    admin.churnConfigOfVps(vps.id());
    assertEquals(before + 1, version(node));
    assertEquals(6, admin.routes(node.id()).get(1).connectTimeoutSecs());
    admin.churnConfig(node.id());
    assertEquals(5, admin.routes(node.id()).get(1).connectTimeoutSecs());
    assertEquals(2, admin.routes(node.id()).size());
    EnvoyNode empty = admin.addNode(vps.id(), "empty");
    assertEquals(2L, admin.churnConfig(empty.id()).configVersion());
  }

  @Test
  void seedsAHostnameNowAndAgainAfterDeletion() {
    DevVps early = register("relay-1");
    admin.seedForHostname("relay-1", DevSeed.standard());
    admin.seedForHostname("relay-9", DevSeed.standard());
    assertEquals(1, admin.nodes(early.id()).size());
    assertEquals(List.of(), admin.nodes(register("relay-2").id()));
    DevVps nine = register("relay-9");
    assertEquals(1, admin.nodes(nine.id()).size());
    assertEquals(nine.id(), admin.seed(nine.id(), DevSeed.standard()).vpsId(), "idempotent");
    assertEquals(1, admin.nodes(nine.id()).size());
    admin.deleteVps(nine.id());
    DevVps again = register("relay-9");
    assertEquals(1, admin.nodes(again.id()).size());
  }

  @Test
  void nodeStatusAndDeletion() {
    DevVps vps = register("relay-1");
    EnvoyNode node = admin.addNode(vps.id(), "n1");
    EnvoyNode disabled = admin.setNodeStatus(node.id(), "disabled");
    assertEquals(node.configVersion(), disabled.configVersion());
    EnvoyNode described = admin.updateNode(node.id(), "edge proxy", 9901, "disabled");
    assertEquals("edge proxy", described.description());
    assertEquals(9901, described.adminPort());
    assertEquals("n1", described.nodeId());
    assertEquals(
        404,
        assertThrows(ApiRejection.class, () -> admin.setNodeStatus("nope", "active")).status());
    assertEquals(0, store.listNodes(vps.id(), "active", 1, 10).total());
    assertTrue(admin.deleteNode(node.id()));
    assertFalse(admin.deleteNode(node.id()));
    assertEquals(List.of(), admin.routes(node.id()));
  }

  private long version(EnvoyNode node) {
    return admin.node(node.id()).orElseThrow().configVersion();
  }

  private static List<String> names(Page<EnvoyRoute> page) {
    return page.data().stream().map(EnvoyRoute::name).toList();
  }
}
