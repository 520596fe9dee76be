package io.sigma.agent.devapi;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static io.sigma.agent.devapi.DevApiTestClient.heartbeatBody;
import static io.sigma.agent.devapi.DevApiTestClient.registerBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.Page;
import io.sigma.agent.api.VpsRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Each fault mode of the dev sigma-api, observed from the client side of a real connection. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DevSigmaApiFaultsIT {
  private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);
  private static final Duration LONG_DELAY = Duration.ofSeconds(30);

  private final ActorTestKit testKit = ActorTestKit.create();
  private FaultInjectingDevApi api;
  private DevApiTestClient client;

  @BeforeEach
  void start() throws Exception {
    api = new FaultInjectingDevApi(0);
    client =
        new DevApiTestClient(
            api.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS));
  }

  @AfterEach
  void stop() throws Exception {
    api.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  private int register(String host) throws Exception {
    return client.post("/agent/register", registerBody(host, "10.0.0.5")).statusCode();
  }

  @Test
  void firstNRegistrationsGet503ThenTheApiIsHealthy() throws Exception {
    api.faults().failNext(EndpointKind.REGISTER, 3, Fault.status(503));
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      statuses.add(register("relay-1"));
    }
    assertEquals(List.of(503, 503, 503, 200), statuses);
    assertEquals(3, api.faults().injected(EndpointKind.REGISTER));
    assertEquals(4, api.stats().total(EndpointKind.REGISTER), "faulted requests are counted");
    assertEquals(200, client.post("/agent/heartbeat", heartbeatBody("relay-1")).statusCode());
  }

  @Test
  void aKindCanAlwaysAnswerAStatusUntilCleared() throws Exception {
    register("relay-1");
    api.faults().failAlways(EndpointKind.HEARTBEAT, Fault.status(401));
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = client.post("/agent/heartbeat", heartbeatBody("relay-1"));
      assertEquals(401, r.statusCode());
      assertEquals("Unauthorized", client.json(r).get("error").asText());
    }
    assertEquals(200, register("relay-1"), "other kinds unaffected");
    api.faults().failAlways(EndpointKind.HEARTBEAT, Fault.status(500, "database is down"));
    HttpResponse<String> r500 = client.post("/agent/heartbeat", heartbeatBody("relay-1"));
    assertEquals(500, r500.statusCode());
    assertEquals("database is down", client.json(r500).get("error").asText());
    api.faults().clear(EndpointKind.HEARTBEAT);
    assertEquals(200, client.post("/agent/heartbeat", heartbeatBody("relay-1")).statusCode());
  }

  @Test
  void wholeApiCanAnswer503() throws Exception {
    api.faults().failAlways(FaultPlan.ALL_KINDS, Fault.status(503));
    assertEquals(503, register("relay-1"));
    assertEquals(503, client.get("/envoy-nodes").statusCode());
    assertEquals(503, client.post("/envoy-routes/sync-static", "{}").statusCode());
    api.faults().clear();
    assertEquals(200, register("relay-1"));
  }

  @Test
  void htmlErrorPageLikeNginx() throws Exception {
    api.faults().failNext(EndpointKind.REGISTER, 1, Fault.html(502));
    HttpResponse<String> r = client.post("/agent/register", registerBody("relay-1"));
    assertEquals(502, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
    assertTrue(r.body().contains("<title>502 Bad Gateway</title>"), r.body());
    assertThrows(JsonProcessingException.class, () -> client.mapper.readTree(r.body()));
    assertTrue(admin(api).allVps().isEmpty(), "a faulted request never reaches the store");
  }

  @Test
  void plainTextAndEmptyErrorBodies() throws Exception {
    api.faults()
        .failNext(EndpointKind.HEARTBEAT, 1, Fault.plainText(504, "upstream timed out"))
        .failNext(EndpointKind.HEARTBEAT, 1, Fault.empty(500));
    HttpResponse<String> text = client.post("/agent/heartbeat", heartbeatBody("relay-1"));
    assertEquals(504, text.statusCode());
    assertEquals("upstream timed out", text.body());
    HttpResponse<String> empty = client.post("/agent/heartbeat", heartbeatBody("relay-1"));
    assertEquals(500, empty.statusCode());
    assertEquals("", empty.body());
  }

  @Test
  void okStatusWithABodyThatIsNotJson() throws Exception {
    api.faults().failNext(EndpointKind.REGISTER, 1, Fault.nonJson());
    HttpResponse<String> r = client.post("/agent/register", registerBody("relay-1"));
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"));
    assertThrows(JsonProcessingException.class, () -> client.mapper.readTree(r.body()));
  }

  @Test
  void okStatusWithJsonMissingFields() throws Exception {
    api.faults()
        .failNext(
            EnumSet.of(EndpointKind.REGISTER, EndpointKind.ENVOY_NODES), 2, Fault.missingFields());
    JsonNode vps = client.json(client.post("/agent/register", registerBody("relay-1")));
    assertFalse(vps.has("id"));
    VpsRecord asRead = client.mapper.treeToValue(vps, VpsRecord.class);
    assertEquals(null, asRead.id());
    HttpResponse<String> nodes = client.get("/envoy-nodes?vps_id=" + java.util.UUID.randomUUID());
    assertEquals(200, nodes.statusCode());
    assertFalse(client.json(nodes).has("data"));
  }

  @Test
  void okStatusWithJsonOfWrongTypes() throws Exception {
    api.faults().failNext(FaultPlan.ALL_KINDS, 2, Fault.wrongTypes());
    JsonNode vps = client.json(client.post("/agent/register", registerBody("relay-1")));
    assertTrue(vps.get("id").isNumber());
    assertTrue(vps.get("hostname").isArray());
    HttpResponse<String> nodes = client.get("/envoy-nodes");
    assertEquals(200, nodes.statusCode());
    JsonNode first = client.json(nodes).get("data").get(0);
    assertTrue(first.get("config_version").isTextual());
    assertThrows(
        JsonProcessingException.class,
        () ->
            client.mapper.readValue(
                nodes.body(),
                client
                    .mapper
                    .getTypeFactory()
                    .constructParametricType(Page.class, EnvoyNode.class)));
  }

  @Test
  void delayedAnswerOutlastsTheClientTimeout() throws Exception {
    register("relay-1");
    api.faults().failNext(EndpointKind.HEARTBEAT, 1, Fault.delay(LONG_DELAY));
    DevApiTestClient impatient = new DevApiTestClient(api.baseUrl(), null, SHORT_TIMEOUT);
    assertThrows(
        HttpTimeoutException.class,
        () -> impatient.post("/agent/heartbeat", heartbeatBody("relay-1")));
    assertEquals(1, api.faults().injected(EndpointKind.HEARTBEAT));
    assertEquals(
        200,
        impatient.post("/agent/heartbeat", heartbeatBody("relay-1")).statusCode(),
        "the slow answer holds no one else up");
  }

  @Test
  void shortDelayThenTheNormalAnswer() throws Exception {
    api.faults().failNext(EndpointKind.REGISTER, 1, Fault.delay(Duration.ofMillis(200)));
    HttpResponse<String> r = client.post("/agent/register", registerBody("relay-1"));
    assertEquals(200, r.statusCode());
    assertEquals("relay-1", client.json(r).get("hostname").asText());
    assertTrue(admin(api).vpsByHostname("relay-1").isPresent());
  }

  @Test
  void resetAbortsTheConnectionWithoutAnAnswer() throws Exception {
    api.faults().failNext(EndpointKind.REGISTER, 1, Fault.reset());
    IOException e =
        assertThrows(
            IOException.class, () -> client.post("/agent/register", registerBody("relay-1")));
    assertFalse(e instanceof HttpTimeoutException, e.toString());
    assertEquals(200, register("relay-1"), "the next request gets a fresh connection");

    // Byte level: not one byte of an answer, the socket ends (RST) instead.
    api.faults().failNext(EndpointKind.HEARTBEAT, 1, Fault.reset());
    try (Socket socket = new Socket("127.0.0.1", api.port())) {
      socket.setSoTimeout(10_000);
      String body = heartbeatBody("relay-1");
      socket
          .getOutputStream()
          .write(
              ("POST /api/agent/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      + "Content-Type: application/json\r\nContent-Length: "
                      + body.getBytes(StandardCharsets.UTF_8).length
                      + "\r\n\r\n"
                      + body)
                  .getBytes(StandardCharsets.UTF_8));
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      try {
        for (int b = in.read(); b != -1; b = in.read()) {
          received.write(b);
        }
      } catch (SocketException reset) {
        // "Connection reset": the expected way for this connection to end
      }
      assertEquals("", received.toString(StandardCharsets.UTF_8));
    }
  }

  @Test
  void downRefusesConnectionsThenComesBackOnTheSamePort() throws Exception {
    assertEquals(200, register("relay-1")); // leaves a keep-alive connection open
    int port = api.port();
    api.down().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(api.isDown());

    assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
    IOException viaHttp =
        assertThrows(
            IOException.class,
            () ->
                new DevApiTestClient(api.baseUrl())
                    .post("/agent/heartbeat", heartbeatBody("relay-1")));
    assertTrue(hasCause(viaHttp, ConnectException.class), viaHttp.toString());
    assertThrows(
        IOException.class,
        () -> client.post("/agent/heartbeat", heartbeatBody("relay-1")),
        "the open keep-alive connection was closed too");
    assertThrows(Exception.class, () -> api.down().toCompletableFuture().get(10, TimeUnit.SECONDS));

    String url = api.up().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals("http://127.0.0.1:" + port + "/api", url);
    assertEquals(port, api.port());
    assertTrue(api.isUp());
    assertEquals(
        200,
        client.post("/agent/heartbeat", heartbeatBody("relay-1")).statusCode(),
        "data survives the outage");
  }

  @Test
  void soakModeMixesEveryFaultReproducibly() throws Exception {
    register("relay-1");
    SoakFaults profile = new SoakFaults(0.25, 0.1, LONG_DELAY, 0.15, 0.2, 0.0, 20261126L);
    List<String> first = soakOutcomes(profile, 40);
    List<String> second = soakOutcomes(profile, 40);
    assertEquals(first, second, "same seed, same request sequence: same faults");
    assertEquals(Set.of("ok", "5xx", "timeout", "reset", "bad-body"), Set.copyOf(first));
  }

  private List<String> soakOutcomes(SoakFaults profile, int requests) throws Exception {
    api.faults().soak(profile);
    DevApiTestClient impatient = new DevApiTestClient(api.baseUrl(), null, SHORT_TIMEOUT);
    List<String> outcomes = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      // POST: java.net.http never retries it behind our back, so every fault is seen.
      outcomes.add(
          outcome(impatient, () -> impatient.post("/agent/heartbeat", heartbeatBody("relay-1"))));
    }
    api.faults().stopSoak();
    return outcomes;
  }

  private interface Call {
    HttpResponse<String> send() throws Exception;
  }

  private static String outcome(DevApiTestClient c, Call call) throws Exception {
    HttpResponse<String> r;
    try {
      r = call.send();
    } catch (HttpTimeoutException e) {
      return "timeout";
    } catch (IOException e) {
      return "reset";
    }
    if (r.statusCode() >= 500) {
      return "5xx";
    }
    try {
      VpsRecord vps = c.mapper.readValue(r.body(), VpsRecord.class);
      return vps.id() != null && r.statusCode() == 200 ? "ok" : "bad-body";
    } catch (JsonProcessingException e) {
      return "bad-body";
    }
  }

  @Test
  void soakChurnChangesTheConfigVersionSeenByPolls() throws Exception {
    api.store().seedForFirstRegistration(DevSeed.standard());
    register("relay-1");
    String vpsId = admin(api).vpsByHostname("relay-1").orElseThrow().id();
    String nodeUuid = admin(api).nodes(vpsId).get(0).id();
    int before = admin(api).routes(nodeUuid).size();
    api.faults().soak(new SoakFaults(0, 0, Duration.ZERO, 0, 0, 1.0, 5));
    List<Long> versions = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      JsonNode page = client.json(client.get("/envoy-nodes?vps_id=" + vpsId + "&status=active"));
      versions.add(page.get("data").get(0).get("config_version").asLong());
    }
    for (int i = 1; i < versions.size(); i++) {
      assertTrue(versions.get(i) > versions.get(i - 1), versions.toString());
    }
    assertEquals(before, admin(api).routes(nodeUuid).size(), "churn never removes routes");
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }
}
