package io.sigma.agent.devapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
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
import io.sigma.agent.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class DevApiStoreTest {
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
  void registerCreatesThenUpdatesByHostname() {
    DevVps first = register("relay-1");
    assertEquals("active", first.status());
    assertEquals(null, first.providerId());
    assertEquals(2, first.cpuCores());
    assertEquals(1987L, first.ramMb());
    assertEquals("kept", first.systemInfo().get("odd").asText());
    assertEquals(first.createdAt(), first.updatedAt());

    clock.advance(Duration.ofSeconds(5));
    DevVps second =
        store.register(new RegisterInput("relay-1", "alias.example", List.of(), 2200, info(4)));
    assertEquals(first.id(), second.id());
    assertEquals(first.createdAt(), second.createdAt());
    assertNotEquals(first.updatedAt(), second.updatedAt());
    assertEquals("alias.example", second.alias());
    assertEquals(2200, second.sshPort());
    assertEquals(4, second.cpuCores());
    assertEquals(1, admin.allVps().size());
  }

  @Test
  void heartbeatUpdatesAndKeepsIpsWhenEmpty() {
    DevVps vps = register("relay-1");
    DevVps hb = store.heartbeat(new HeartbeatInput("relay-1", List.of(), info(8)));
    assertEquals(vps.ipAddresses(), hb.ipAddresses());
    assertEquals(8, hb.systemInfo().get("cpu_cores").intValue());
    DevVps moved =
        store.heartbeat(
            new HeartbeatInput("relay-1", List.of(new IpAddress("203.0.113.7", "")), null));
    assertEquals(List.of(new IpAddress("203.0.113.7", "")), moved.ipAddresses());
    assertEquals(8, moved.systemInfo().get("cpu_cores").intValue(), "absent system_info kept");
    ApiRejection unknown =
        assertThrows(
            ApiRejection.class,
            () -> store.heartbeat(new HeartbeatInput("nobody", List.of(), null)));
    assertEquals(404, unknown.status());
    assertEquals("Not found", unknown.getMessage());
  }

  @Test
  void storedRecordsCannotBeChangedThroughTheirJson() {
    DevVps vps = register("relay-1");
    ((com.fasterxml.jackson.databind.node.ObjectNode) vps.extra().get("system_info"))
        .put("cpu_cores", 99);
    assertEquals(2, admin.vps(vps.id()).orElseThrow().systemInfo().get("cpu_cores").intValue());
  }

  @Test
  void nodesArePaginatedWithClampedPageSizes() {
    DevVps vps = register("relay-1");
    DevVps other = register("relay-2");
    for (int i = 0; i < 30; i++) {
      admin.addNode(vps.id(), "n" + i);
    }
    admin.addNode(other.id(), "elsewhere");
    Page<EnvoyNode> defaults = store.listNodes(vps.id(), null, null, null);
    assertEquals(25, defaults.data().size());
    assertEquals(30, defaults.total());
    assertEquals(1, defaults.page());
    assertEquals(25, defaults.perPage());
    Page<EnvoyNode> second = store.listNodes(vps.id(), "active", 2, null);
    assertEquals(5, second.data().size());
    assertEquals("n25", second.data().get(0).nodeId());
    assertEquals(1, store.listNodes(vps.id(), null, 1, 0).perPage());
    assertEquals(1, store.listNodes(vps.id(), null, 1, -7).data().size());
    assertEquals(100, store.listNodes(null, null, 1, 1000).perPage());
    assertEquals(31, store.listNodes(null, null, 1, 1000).data().size());
    assertEquals(1, store.listNodes(vps.id(), null, -3, 10).page());
    assertEquals(List.of(), store.listNodes(vps.id(), null, 99, 10).data());
    assertEquals(0, store.listNodes(vps.id(), "disabled", 1, 10).total());
  }

  @Test
  void nodeCreationRules() {
    DevVps vps = register("relay-1");
    EnvoyNode node = store.createNode(new CreateNodeInput(vps.id(), "n1", "d", 9901, "active"));
    assertEquals(1L, node.configVersion());
    assertEquals(
        409, assertThrows(ApiRejection.class, () -> admin.addNode(vps.id(), "n1")).status());
    assertEquals(
        400,
        assertThrows(
                ApiRejection.class,
                () -> admin.addNode("00000000-0000-0000-0000-000000000000", "n1"))
            .status());
    DevVps other = register("relay-2");
    assertEquals("n1", admin.addNode(other.id(), "n1").nodeId(), "same node_id on another VPS");
  }

  @Test
  void routesAreOrderedFilteredAndBumpTheVersionOnEveryAddition() {
    DevVps vps = register("relay-1");
    EnvoyNode node = admin.addNode(vps.id(), "n1");
    admin.addRoute(node.id(), RouteSpec.active("c", 10003, "h", 3));
    admin.addRoute(node.id(), RouteSpec.active("a", 10001, "h", 1));
    admin.addRoute(node.id(), RouteSpec.placeholder("b", 10002));
    admin.addRoute(node.id(), RouteSpec.active("s", 10000, "h", 9).withSource("static"));
    assertEquals(5L, version(node));
    assertEquals(
        List.of("s", "a", "b", "c"), names(store.listRoutes(node.id(), null, null, 1, 100)));
    assertEquals(
        List.of("a", "c"), names(store.listRoutes(node.id(), "active", "dynamic", 1, 100)));
    assertEquals(List.of("b"), names(store.listRoutes(node.id(), "placeholder", null, 1, 100)));
    assertEquals(
        409,
        assertThrows(
                ApiRejection.class,
                () -> admin.addRoute(node.id(), RouteSpec.active("dup", 10001, "h", 1)))
            .status());
    assertEquals(5L, version(node), "a refused route changes nothing");
    assertEquals(
        404,
        assertThrows(
                ApiRejection.class,
                () ->
                    admin.addRoute(
                        "00000000-0000-0000-0000-000000000000", RouteSpec.placeholder("x", 1)))
            .status());
  }

  @Test
  void syncStaticUpsertsByPortDeletesMissingStaticRoutesAndBumpsOnlyOnChange() {
    DevVps vps = register("relay-1");
    EnvoyNode node = admin.addNode(vps.id(), "n1");
    admin.addRoute(node.id(), RouteSpec.active("dyn", 20000, "h", 1));
    long v0 = version(node);
    SyncStaticResult first =
        store.syncStatic(
            new SyncStaticInput(
                node.id(),
                List.of(
                    new StaticRoute("s1", 10001, "h", 1, "static", 5, 0),
                    new StaticRoute("s2", 10002, "h", 2, "logical_dns", 5, 1))));
    assertEquals(new SyncStaticResult(2, 0), first);
    assertEquals(v0 + 1, version(node));
    assertEquals(List.of("s1", "s2"), names(store.listRoutes(node.id(), null, "static", 1, 100)));

    SyncStaticResult same =
        store.syncStatic(
            new SyncStaticInput(
                node.id(),
                List.of(
                    new StaticRoute("s1", 10001, "h", 1, "static", 5, 0),
                    new StaticRoute("s2", 10002, "h", 2, "logical_dns", 5, 1))));
    assertEquals(new SyncStaticResult(2, 0), same);
    assertEquals(v0 + 1, version(node), "nothing changed, no bump");

    String s1Id = admin.routes(node.id()).get(0).id();
    SyncStaticResult shrink =
        store.syncStatic(
            new SyncStaticInput(
                node.id(), List.of(new StaticRoute("s1-renamed", 10001, "h", 1, "static", 5, 0))));
    assertEquals(new SyncStaticResult(1, 1), shrink);
    assertEquals(v0 + 2, version(node));
    List<EnvoyRoute> routes = admin.routes(node.id());
    assertEquals(List.of("s1-renamed", "dyn"), routes.stream().map(EnvoyRoute::name).toList());
    assertEquals(s1Id, routes.get(0).id(), "upsert keeps the row");

    assertEquals(
        new SyncStaticResult(0, 1), store.syncStatic(new SyncStaticInput(node.id(), List.of())));
    assertEquals(List.of("dyn"), names(store.listRoutes(node.id(), null, null, 1, 100)));
    assertEquals(
        404,
        assertThrows(
                ApiRejection.class,
                () ->
                    store.syncStatic(
                        new SyncStaticInput("00000000-0000-0000-0000-000000000000", List.of())))
            .status());
  }

  @Test
  void seedsTheFirstRegistrationOnlyOnce() {
    store.seedForFirstRegistration(DevSeed.standard());
    DevVps first = register("relay-1");
    DevVps second = register("relay-2");
    List<EnvoyNode> nodes = admin.nodes(first.id());
    assertEquals(1, nodes.size());
    assertEquals("dev-envoy", nodes.get(0).nodeId());
    assertEquals(List.of(), admin.nodes(second.id()));
    List<EnvoyRoute> routes = admin.routes(nodes.get(0).id());
    assertEquals(DevSeed.standard().routes().size(), routes.size());
    assertEquals(
        Set.of("logical_dns", "static", "strict_dns"),
        routes.stream().map(EnvoyRoute::clusterType).collect(Collectors.toSet()));
    assertEquals(
        Set.of(0, 1, 2),
        routes.stream().map(EnvoyRoute::proxyProtocol).collect(Collectors.toSet()));
    assertTrue(routes.stream().anyMatch(r -> "active".equals(r.status()) && r.isPlaceholder()));
    assertTrue(routes.stream().anyMatch(r -> "placeholder".equals(r.status())));
    assertTrue(routes.stream().anyMatch(r -> "static".equals(r.source())));
    assertEquals(1L + routes.size(), nodes.get(0).configVersion());
  }

  private long version(EnvoyNode node) {
    return admin.node(node.id()).orElseThrow().configVersion();
  }

  private static List<String> names(Page<EnvoyRoute> page) {
    return page.data().stream().map(EnvoyRoute::name).toList();
  }
}
