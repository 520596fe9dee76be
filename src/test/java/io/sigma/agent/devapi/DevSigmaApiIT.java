package io.sigma.agent.devapi;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static io.sigma.agent.devapi.DevApiTestClient.heartbeatBody;
import static io.sigma.agent.devapi.DevApiTestClient.q;
import static io.sigma.agent.devapi.DevApiTestClient.registerBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.VpsRecord;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every endpoint of the dev sigma-api over real HTTP on loopback. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DevSigmaApiIT {
  private final ActorTestKit testKit = ActorTestKit.create();
  private FaultInjectingDevApi api;
  private DevApiTestClient client;

  @BeforeEach
  void start() throws Exception {
    api = new FaultInjectingDevApi(0);
    String url = api.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    client = new DevApiTestClient(url);
  }

  @AfterEach
  void stop() throws Exception {
    api.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  private JsonNode ok(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    return client.json(r);
  }

  private void assertError(int status, HttpResponse<String> r) {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode body = client.json(r);
    assertTrue(body.path("error").isTextual() && !body.path("error").asText().isEmpty(), r.body());
  }

  private String registerVps(String hostname) throws Exception {
    return ok(client.post("/agent/register", registerBody(hostname, "10.0.0.5")))
        .get("id")
        .asText();
  }

  @Test
  void baseUrlIsLoopbackWithTheBoundPort() {
    assertEquals("http://127.0.0.1:" + api.port() + "/api", api.baseUrl());
    assertTrue(api.port() > 0);
    assertTrue(api.isUp());
  }

  @Test
  void registerCreatesTheFullVpsRecord() throws Exception {
    String body =
        q(
            "{'hostname':'relay-hk-01','alias':'hk01.example.com',"
                + "'ip_addresses':[{'ip':'10.0.0.5','label':'internal'},{'ip':'203.0.113.7','label':''}],"
                + "'ssh_port':2222,'system_info':{'cpu_cores':2,'ram_mb':1987,'disk_gb':40,"
                + "'disk_used_gb':12,'uptime_seconds':86400,'load_avg':[0.12,0.08,0.01],"
                + "'metrics_port':9102,'public_ip':'203.0.113.7','not_in_contract':{'kept':true}}}");
    JsonNode vps = ok(client.post("/agent/register", body));

    UUID.fromString(vps.get("id").asText());
    assertEquals("relay-hk-01", vps.get("hostname").asText());
    assertEquals("active", vps.get("status").asText());
    assertEquals("hk01.example.com", vps.get("alias").asText());
    assertTrue(vps.has("provider_id") && vps.get("provider_id").isNull());
    assertEquals(2222, vps.get("ssh_port").asInt());
    assertEquals(2, vps.get("ip_addresses").size());
    assertEquals("203.0.113.7", vps.get("ip_addresses").get(1).get("ip").asText());
    assertEquals("", vps.get("ip_addresses").get(1).get("label").asText());
    assertEquals(
        client.mapper.readTree(body).get("system_info"), vps.get("extra").get("system_info"));
    assertEquals(2, vps.get("cpu_cores").asInt());
    assertTrue(vps.has("country") && vps.has("city"));
    assertFalse(vps.has("system_info"), "system_info lives in extra only");
    OffsetDateTime.parse(vps.get("created_at").asText());
    OffsetDateTime.parse(vps.get("updated_at").asText());
    VpsRecord asAgentReadsIt = client.mapper.treeToValue(vps, VpsRecord.class);
    assertEquals("relay-hk-01", asAgentReadsIt.hostname());
    assertEquals(
        vps.get("id").asText(), admin(api).vpsByHostname("relay-hk-01").orElseThrow().id());
  }

  @Test
  void registeringTheSameHostnameUpdatesTheSameRecord() throws Exception {
    JsonNode first = ok(client.post("/agent/register", registerBody("relay-1", "10.0.0.5")));
    JsonNode second = ok(client.post("/agent/register", registerBody("relay-1", "10.0.0.6")));
    assertEquals(first.get("id"), second.get("id"));
    assertEquals(first.get("created_at"), second.get("created_at"));
    assertEquals("10.0.0.6", second.get("ip_addresses").get(0).get("ip").asText());
    assertEquals(1, admin(api).allVps().size());
  }

  @Test
  void registerRejectsBadInputWith400() throws Exception {
    for (String bad :
        List.of(
            q("{'hostname':'','ip_addresses':[]}"),
            q("{'ip_addresses':[]}"),
            q("{'hostname':'h','ip_addresses':[{'ip':'300.1.1.1','label':''}]}"),
            q("{'hostname':'h','ip_addresses':[{'ip':'not-an-ip','label':''}]}"),
            q("{'hostname':'h','ssh_port':'twenty-two'}"),
            "{\"hostname\": \"h\",",
            "this is not json",
            "")) {
      assertError(400, client.post("/agent/register", bad));
    }
    assertEquals(List.of(), admin(api).allVps());
  }

  @Test
  void heartbeatFor404UnknownHostsAndUpdatesKnownOnes() throws Exception {
    HttpResponse<String> unknown = client.post("/agent/heartbeat", heartbeatBody("nobody"));
    assertEquals(404, unknown.statusCode());
    assertEquals("Not found", client.json(unknown).get("error").asText());

    String id = registerVps("relay-1");
    JsonNode hb = ok(client.post("/agent/heartbeat", heartbeatBody("relay-1")));
    assertEquals(id, hb.get("id").asText());
    assertEquals(13, hb.get("extra").get("system_info").get("disk_used_gb").asInt());
    assertEquals(
        "10.0.0.5",
        hb.get("ip_addresses").get(0).get("ip").asText(),
        "an empty ip list keeps the stored ones");
    JsonNode moved =
        ok(
            client.post(
                "/agent/heartbeat",
                q("{'hostname':'relay-1','ip_addresses':[{'ip':'10.9.9.9','label':'internal'}]}")));
    assertEquals("10.9.9.9", moved.get("ip_addresses").get(0).get("ip").asText());
    assertError(400, client.post("/agent/heartbeat", q("{'hostname':''}")));
    assertError(400, client.post("/agent/heartbeat", "{nope"));
  }

  @Test
  void deletedVpsGets404OnHeartbeatAndANewIdOnRegister() throws Exception {
    String id = registerVps("relay-1");
    assertTrue(admin(api).deleteVps(id));
    assertEquals(404, client.post("/agent/heartbeat", heartbeatBody("relay-1")).statusCode());
    String again = registerVps("relay-1");
    assertNotEquals(id, again);
    assertEquals(200, client.post("/agent/heartbeat", heartbeatBody("relay-1")).statusCode());
  }

  @Test
  void seededNodeIsListedForTheFirstRegisteredVps() throws Exception {
    api.store().seedForFirstRegistration(DevSeed.standard());
    String id = registerVps("relay-1");
    String other = registerVps("relay-2");
    JsonNode page =
        ok(client.get("/envoy-nodes?vps_id=" + id + "&status=active&page=1&per_page=100"));
    assertEquals(1, page.get("total").asLong());
    assertEquals(1, page.get("page").asInt());
    assertEquals(100, page.get("per_page").asInt());
    JsonNode node = page.get("data").get(0);
    assertEquals("dev-envoy", node.get("node_id").asText());
    assertEquals(id, node.get("vps_id").asText());
    assertEquals("active", node.get("status").asText());
    assertTrue(node.get("config_version").isIntegralNumber());
    assertTrue(node.has("admin_port") && node.has("description"));
    OffsetDateTime.parse(node.get("created_at").asText());
    assertEquals(0, ok(client.get("/envoy-nodes?vps_id=" + other)).get("total").asLong());
    assertEquals(
        0, ok(client.get("/envoy-nodes?vps_id=" + id + "&status=disabled")).get("total").asLong());

    String nodeId = node.get("id").asText();
    JsonNode routes =
        ok(
            client.get(
                "/envoy-routes?envoy_node_id="
                    + nodeId
                    + "&status=active&source=dynamic&page=1&per_page=100"));
    List<Integer> ports =
        StreamSupport.stream(routes.get("data").spliterator(), false)
            .map(r -> r.get("listen_port").asInt())
            .toList();
    assertEquals(List.of(10001, 10002, 10003, 10004), ports);
    Set<Integer> proxyProtocols = new HashSet<>();
    routes.get("data").forEach(r -> proxyProtocols.add(r.get("proxy_protocol").asInt()));
    assertEquals(Set.of(0, 1, 2), proxyProtocols);
    JsonNode noBackend = routes.get("data").get(3);
    assertTrue(noBackend.get("backend_host").isNull() && noBackend.get("backend_port").isNull());
  }

  @Test
  void envoyNodesPaginationDefaultsClampsAndValidates() throws Exception {
    String id = registerVps("relay-1");
    for (int i = 0; i < 30; i++) {
      admin(api).addNode(id, String.format("node-%02d", i));
    }
    JsonNode defaults = ok(client.get("/envoy-nodes?vps_id=" + id));
    assertEquals(25, defaults.get("data").size());
    assertEquals(25, defaults.get("per_page").asInt());
    assertEquals(30, defaults.get("total").asInt());
    JsonNode page2 = ok(client.get("/envoy-nodes?vps_id=" + id + "&page=2"));
    assertEquals(5, page2.get("data").size());
    assertEquals("node-25", page2.get("data").get(0).get("node_id").asText());
    JsonNode tiny = ok(client.get("/envoy-nodes?vps_id=" + id + "&per_page=0"));
    assertEquals(1, tiny.get("per_page").asInt());
    assertEquals(1, tiny.get("data").size());
    JsonNode huge = ok(client.get("/envoy-nodes?per_page=1000"));
    assertEquals(100, huge.get("per_page").asInt());
    assertEquals(30, huge.get("data").size());
    assertError(400, client.get("/envoy-nodes?vps_id=not-a-uuid"));
    assertError(400, client.get("/envoy-nodes?page=two"));
  }

  @Test
  void createNodeAnswersTheNodeAndRefusesDuplicates() throws Exception {
    String id = registerVps("relay-1");
    String body =
        q(
            "{'vps_id':'"
                + id
                + "','node_id':'layer4-01','description':'edge',"
                + "'admin_port':null,'status':'active'}");
    JsonNode node = ok(client.post("/envoy-nodes", body));
    UUID.fromString(node.get("id").asText());
    assertEquals("layer4-01", node.get("node_id").asText());
    assertEquals(id, node.get("vps_id").asText());
    assertTrue(node.get("admin_port").isNull());
    assertEquals("edge", node.get("description").asText());
    EnvoyNode typed = client.mapper.treeToValue(node, EnvoyNode.class);
    assertEquals(node.get("config_version").asLong(), typed.configVersion());

    assertError(409, client.post("/envoy-nodes", body));
    assertError(
        400,
        client.post(
            "/envoy-nodes",
            q("{'vps_id':'" + UUID.randomUUID() + "','node_id':'x','status':'active'}")));
    assertError(400, client.post("/envoy-nodes", q("{'vps_id':'" + id + "'}")));
    assertError(400, client.post("/envoy-nodes", "[1,2"));
    assertEquals(1, admin(api).nodes(id).size());
  }

  @Test
  void routesPaginateOverThreePagesInListenPortOrder() throws Exception {
    String id = registerVps("relay-1");
    EnvoyNode node = admin(api).addNode(id, "big");
    List<String> created = new ArrayList<>();
    for (int i = 249; i >= 0; i--) { // created out of order: the server must sort
      created.add(
          admin(api)
              .addRoute(node.id(), RouteSpec.active("r" + i, 20000 + i, "backend-" + i, 30000 + i))
              .id());
    }
    List<String> seen = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    int[] sizes = new int[3];
    for (int page = 1; page <= 3; page++) {
      JsonNode p =
          ok(
              client.get(
                  "/envoy-routes?envoy_node_id="
                      + node.id()
                      + "&status=active&source=dynamic&page="
                      + page
                      + "&per_page=100"));
      assertEquals(250, p.get("total").asInt());
      assertEquals(page, p.get("page").asInt());
      sizes[page - 1] = p.get("data").size();
      for (JsonNode r : p.get("data")) {
        seen.add(r.get("id").asText());
        ports.add(r.get("listen_port").asInt());
        client.mapper.treeToValue(r, EnvoyRoute.class);
      }
    }
    assertEquals(List.of(100, 100, 50), List.of(sizes[0], sizes[1], sizes[2]));
    assertEquals(new HashSet<>(created), new HashSet<>(seen));
    assertEquals(250, new HashSet<>(seen).size());
    List<Integer> sorted = new ArrayList<>(ports);
    sorted.sort(null);
    assertEquals(sorted, ports);
    assertEquals(
        0,
        ok(client.get("/envoy-routes?envoy_node_id=" + node.id() + "&page=4&per_page=100"))
            .get("data")
            .size());
    assertEquals(
        100,
        ok(client.get("/envoy-routes?envoy_node_id=" + node.id() + "&per_page=500"))
            .get("data")
            .size());
    assertEquals(
        1,
        ok(client.get("/envoy-routes?envoy_node_id=" + node.id() + "&per_page=-3"))
            .get("per_page")
            .asInt());
    assertEquals(25, ok(client.get("/envoy-routes?envoy_node_id=" + node.id())).get("data").size());
  }

  @Test
  void routeFiltersByStatusAndSource() throws Exception {
    String id = registerVps("relay-1");
    EnvoyNode node = admin(api).addNode(id, "n");
    admin(api).addRoute(node.id(), RouteSpec.active("dyn", 10001, "h", 1));
    admin(api).addRoute(node.id(), RouteSpec.placeholder("ph", 10002));
    admin(api).addRoute(node.id(), RouteSpec.active("off", 10003, "h", 3).withStatus("disabled"));
    admin(api).addRoute(node.id(), RouteSpec.active("st", 10004, "h", 4).withSource("static"));
    String base = "/envoy-routes?envoy_node_id=" + node.id();
    assertEquals(4, ok(client.get(base)).get("total").asInt());
    assertEquals(2, ok(client.get(base + "&status=active")).get("total").asInt());
    assertEquals(1, ok(client.get(base + "&status=active&source=dynamic")).get("total").asInt());
    assertEquals(
        "st", ok(client.get(base + "&source=static")).get("data").get(0).get("name").asText());
    assertEquals(
        0, ok(client.get("/envoy-routes?envoy_node_id=" + UUID.randomUUID())).get("total").asInt());
    assertError(400, client.get("/envoy-routes?envoy_node_id=zzz"));
    assertError(400, client.get(base + "&per_page=many"));
  }

  @Test
  void syncStaticUpsertsAndDeletes() throws Exception {
    String id = registerVps("relay-1");
    EnvoyNode node = admin(api).addNode(id, "n");
    String two =
        q(
            "{'envoy_node_id':'"
                + node.id()
                + "','routes':["
                + "{'name':'admin','listen_port':9901,'backend_host':'127.0.0.1','backend_port':9000,"
                + "'cluster_type':'static','connect_timeout_secs':1,'proxy_protocol':0},"
                + "{'name':'legacy','listen_port':9902,'backend_host':'legacy.example','backend_port':443,"
                + "'cluster_type':'logical_dns','connect_timeout_secs':5,'proxy_protocol':2}]}");
    JsonNode first = ok(client.post("/envoy-routes/sync-static", two));
    assertEquals(2, first.get("upserted").asInt());
    assertEquals(0, first.get("deleted").asInt());
    JsonNode statics =
        ok(client.get("/envoy-routes?envoy_node_id=" + node.id() + "&source=static"));
    assertEquals(2, statics.get("total").asInt());
    assertEquals("static", statics.get("data").get(0).get("source").asText());

    String one =
        q(
            "{'envoy_node_id':'"
                + node.id()
                + "','routes':[{'name':'admin',"
                + "'listen_port':9901,'backend_host':'127.0.0.1','backend_port':9000,"
                + "'cluster_type':'static','connect_timeout_secs':1,'proxy_protocol':0}]}");
    JsonNode second = ok(client.post("/envoy-routes/sync-static", one));
    assertEquals(1, second.get("upserted").asInt());
    assertEquals(1, second.get("deleted").asInt());
    assertEquals(1, admin(api).routes(node.id()).size());

    assertError(
        404,
        client.post(
            "/envoy-routes/sync-static",
            q("{'envoy_node_id':'" + UUID.randomUUID() + "','routes':[]}")));
    assertError(
        400,
        client.post(
            "/envoy-routes/sync-static",
            q("{'envoy_node_id':'" + node.id() + "','routes':[{'name':'x','listen_port':'80'}]}")));
  }

  @Test
  void configVersionIsBumpedOnEveryRouteChange() throws Exception {
    String id = registerVps("relay-1");
    EnvoyNode node = admin(api).addNode(id, "n");
    long v0 = nodeVersion(id);
    EnvoyRoute r = admin(api).addRoute(node.id(), RouteSpec.active("a", 10001, "h", 1));
    long v1 = nodeVersion(id);
    admin(api).updateRoute(r.id(), RouteSpec.active("a", 10001, "h2", 1));
    long v2 = nodeVersion(id);
    admin(api).deleteRoute(r.id());
    long v3 = nodeVersion(id);
    ok(
        client.post(
            "/envoy-routes/sync-static",
            q(
                "{'envoy_node_id':'"
                    + node.id()
                    + "','routes':[{'name':'s','listen_port':9000,'backend_host':'h','backend_port':1}]}")));
    long v4 = nodeVersion(id);
    assertTrue(v0 < v1 && v1 < v2 && v2 < v3 && v3 < v4, List.of(v0, v1, v2, v3, v4).toString());
  }

  private long nodeVersion(String vpsId) throws Exception {
    return ok(client.get("/envoy-nodes?vps_id=" + vpsId))
        .get("data")
        .get(0)
        .get("config_version")
        .asLong();
  }

  @Test
  void unknownPathsAndMethodsAre404Json() throws Exception {
    assertError(404, client.get("/nothing-here"));
    assertError(404, client.get("/agent/register"));
    assertError(404, client.post("/envoy-routes", "{}"));
  }

  @Test
  void apiKeyIsCheckedWhenConfigured() throws Exception {
    DevSigmaApi keyed = new DevSigmaApi(0, "s3cret-key");
    try {
      String url = keyed.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      DevApiTestClient none = new DevApiTestClient(url);
      DevApiTestClient wrong = new DevApiTestClient(url, "guess", DevApiTestClient.DEFAULT_TIMEOUT);
      DevApiTestClient right =
          new DevApiTestClient(url, "s3cret-key", DevApiTestClient.DEFAULT_TIMEOUT);
      HttpResponse<String> missing = none.post("/agent/register", registerBody("relay-1"));
      assertEquals(401, missing.statusCode());
      assertTrue(none.json(missing).get("error").isTextual());
      assertEquals(401, wrong.post("/agent/register", registerBody("relay-1")).statusCode());
      assertEquals(401, wrong.get("/envoy-nodes").statusCode());
      assertEquals(List.of(), admin(keyed).allVps());
      assertEquals(200, right.post("/agent/register", registerBody("relay-1")).statusCode());
      assertEquals(200, right.get("/envoy-nodes").statusCode());
      assertFalse(missing.body().contains("s3cret-key"));
    } finally {
      keyed.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anInterceptorSeesEveryRequestFirstAndMayAnswerItInstead() throws Exception {
    List<EndpointKind> seen = new CopyOnWriteArrayList<>();
    DevApiStore store = new DevApiStore();
    DevSigmaApi hooked =
        new DevSigmaApi(
            0,
            "s3cret-key",
            store,
            (kind, request, normal) -> {
              seen.add(kind);
              return kind == EndpointKind.REGISTER
                  ? Directives.complete(StatusCodes.IM_A_TEAPOT)
                  : normal.get();
            });
    try {
      String url = hooked.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      DevApiTestClient right =
          new DevApiTestClient(url, "s3cret-key", DevApiTestClient.DEFAULT_TIMEOUT);
      DevApiTestClient none = new DevApiTestClient(url);

      assertEquals(418, right.post("/agent/register", registerBody("relay-1")).statusCode());
      assertEquals(
          List.of(),
          DevApiAdmin.of(store).allVps(),
          "an intercepted request never reaches the store");
      assertEquals(418, none.post("/agent/register", registerBody("relay-1")).statusCode());
      assertEquals(401, none.get("/envoy-nodes").statusCode(), "normal answers check the key");
      assertEquals(200, right.get("/envoy-nodes").statusCode());
      assertEquals(404, right.get("/elsewhere").statusCode());
      assertEquals(
          List.of(
              EndpointKind.REGISTER,
              EndpointKind.REGISTER,
              EndpointKind.ENVOY_NODES,
              EndpointKind.ENVOY_NODES,
              EndpointKind.OTHER),
          seen);
    } finally {
      hooked.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void countsEveryRequestPerKindAndPerSecond() throws Exception {
    long from = Instant.now().getEpochSecond();
    for (int i = 0; i < 3; i++) {
      client.post("/agent/register", registerBody("relay-" + i));
    }
    for (int i = 0; i < 4; i++) {
      client.post("/agent/heartbeat", heartbeatBody("relay-" + i)); // the 4th is a 404
    }
    String vpsId = admin(api).vpsByHostname("relay-0").orElseThrow().id();
    client.get("/envoy-nodes?vps_id=" + vpsId);
    client.get("/envoy-nodes?vps_id=bad");
    client.post("/envoy-nodes", q("{'vps_id':'" + vpsId + "','node_id':'n'}"));
    client.get("/envoy-routes");
    client.get("/envoy-routes?page=2");
    client.post("/envoy-routes/sync-static", "{}");
    client.get("/elsewhere");
    long to = Instant.now().getEpochSecond();

    RequestStats stats = api.stats();
    assertEquals(3, stats.total(EndpointKind.REGISTER));
    assertEquals(4, stats.total(EndpointKind.HEARTBEAT));
    assertEquals(2, stats.total(EndpointKind.ENVOY_NODES));
    assertEquals(1, stats.total(EndpointKind.CREATE_NODE));
    assertEquals(2, stats.total(EndpointKind.ENVOY_ROUTES));
    assertEquals(1, stats.total(EndpointKind.SYNC_STATIC));
    assertEquals(1, stats.total(EndpointKind.OTHER));
    List<SecondCounts> seconds = stats.perSecond();
    assertTrue(seconds.get(0).epochSecond() >= from);
    assertTrue(seconds.get(seconds.size() - 1).epochSecond() <= to);
    for (EndpointKind kind : EndpointKind.values()) {
      assertEquals(
          stats.total(kind), seconds.stream().mapToLong(s -> s.count(kind)).sum(), kind.name());
    }
  }

  @Test
  void instancesAreIndependentAndStartOnlyOnce() throws Exception {
    DevSigmaApi second = new DevSigmaApi(0, null);
    try {
      String url = second.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertNotEquals(api.baseUrl(), url);
      new DevApiTestClient(url).post("/agent/register", registerBody("only-here"));
      assertTrue(admin(second).vpsByHostname("only-here").isPresent());
      assertTrue(admin(api).vpsByHostname("only-here").isEmpty());
      assertEquals(0, api.stats().total(EndpointKind.REGISTER));
      ExecutionException again =
          assertThrows(
              ExecutionException.class,
              () -> second.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(again.getCause() instanceof IllegalStateException);
    } finally {
      second.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void portInUseFailsTheStart() throws Exception {
    DevSigmaApi clash = new DevSigmaApi(api.port(), null);
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> clash.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof IllegalStateException, e.toString());
    assertThrows(IllegalArgumentException.class, () -> new DevSigmaApi(70000, null));
    assertThrows(
        IllegalArgumentException.class,
        () -> new FaultInjectingDevApi(0, null, java.time.Clock.systemUTC(), Duration.ZERO));
  }
}
