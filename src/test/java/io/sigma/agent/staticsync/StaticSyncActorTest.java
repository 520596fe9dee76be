package io.sigma.agent.staticsync;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.ApiKey;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.devapi.DevApiRequests.RegisterInput;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.Fault;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.host.LogCapture;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.retry.Backoff;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync actor against the dev sigma-api over real HTTP on loopback, with real files in a
 * temporary directory: first sync, edits, broken and fixed files, globs and excludes, node
 * creation, and sigma-api failing or hanging.
 */
class StaticSyncActorTest {
  private static final Duration INTERVAL = Duration.ofMillis(200);
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final String KEY = "it-key";
  private static final String HOST = "relay-it";
  private static ActorTestKit testKit;

  @TempDir Path dir;
  private FaultInjectingDevApi devApi;
  private SigmaApi api;
  private String vpsId;
  private LogCapture log;
  private AgentMetrics metrics;
  private ActorRef<StaticSyncActor.Command> sync;

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startApi() throws Exception {
    devApi = new FaultInjectingDevApi(0, KEY);
    String baseUrl = devApi.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    api =
        new HttpSigmaApi(
            testKit.system(),
            URI.create(baseUrl),
            Optional.of(new ApiKey(KEY)),
            Duration.ofMillis(800));
    vpsId = devApi.store().register(new RegisterInput(HOST, null, List.of(), 22, null)).id();
    log = new LogCapture(StaticSyncActor.class);
    metrics = new AgentMetrics(HOST, false, false);
  }

  @AfterEach
  void stopApi() throws Exception {
    if (sync != null) {
      testKit.stop(sync);
    }
    log.close();
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private ActorRef<StaticSyncActor.Command> start(List<String> paths, List<String> excludes) {
    StaticSyncActor.Settings settings =
        new StaticSyncActor.Settings(
            new ConfigFileSet(paths, excludes),
            INTERVAL,
            new Backoff(Duration.ofMillis(50), Duration.ofMillis(400)),
            HOST,
            testKit
                .system()
                .dispatchers()
                .lookup(DispatcherSelector.fromConfig("sigma-agent.blocking-io-dispatcher")));
    sync =
        testKit.spawn(
            StaticSyncActor.create(
                settings,
                api,
                new StaticSyncMetrics(metrics),
                Clock.systemUTC(),
                new SplittableRandom(7)));
    sync.tell(new StaticSyncActor.VpsKnown(vpsId));
    return sync;
  }

  private Path write(String name, String text) throws Exception {
    Path file = dir.resolve(name);
    Path tmp = dir.resolve("." + name + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  private static String config(String... listeners) {
    StringBuilder l = new StringBuilder("static_resources:\n  listeners:\n");
    StringBuilder c = new StringBuilder("  clusters:\n");
    for (String spec : listeners) {
      String[] p = spec.split(":"); // name:port:host:backendPort
      l.append("  - name: ")
          .append(p[0])
          .append("\n    address: {socket_address: {address: 0.0.0.0, port_value: ")
          .append(p[1])
          .append("}}\n    filter_chains: [{filters: [{name: envoy.filters.network.tcp_proxy,")
          .append(" typed_config: {cluster: c-")
          .append(p[0])
          .append("}}]}]\n");
      c.append("  - name: c-")
          .append(p[0])
          .append("\n    type: LOGICAL_DNS\n    connect_timeout: 3s\n")
          .append("    load_assignment: {endpoints: [{lb_endpoints: [{endpoint: {address:")
          .append(" {socket_address: {address: ")
          .append(p[2])
          .append(", port_value: ")
          .append(p[3])
          .append("}}}}]}]}\n");
    }
    return l.append(c).toString();
  }

  private Optional<EnvoyNode> node(String nodeId) {
    return admin(devApi).nodes(vpsId).stream().filter(n -> n.nodeId().equals(nodeId)).findFirst();
  }

  /** The node's routes as "name port host:port", in listen_port order. */
  private List<String> routes(String nodeId) {
    return node(nodeId)
        .map(
            n ->
                admin(devApi).routes(n.id()).stream()
                    .map(
                        r ->
                            r.name()
                                + " "
                                + r.listenPort()
                                + " "
                                + r.backendHost()
                                + ":"
                                + r.backendPort())
                    .toList())
        .orElse(List.of());
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (ConcurrentModificationException ignored) {
        // the log list was appended to while read; look again
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.onSpinWait();
      try {
        TimeUnit.MILLISECONDS.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private List<String> logged(Level level) {
    while (true) {
      try {
        return List.copyOf(log.messages(level));
      } catch (ConcurrentModificationException retry) {
        // appended to while copied
      }
    }
  }

  private long count(Level level, String fragment) {
    return logged(level).stream().filter(m -> m.contains(fragment)).count();
  }

  /** Waits until the actor has finished {@code n} more checks of the files. */
  private void awaitChecks(int n) {
    long before = count(Level.DEBUG, "Envoy static config check:");
    await(n + " more checks", () -> count(Level.DEBUG, "Envoy static config check:") >= before + n);
  }

  private static <T> void awaitEquals(T expected, Supplier<T> actual) {
    await("value " + expected, () -> expected.equals(actual.get()));
  }

  @Test
  void syncsAtStartUnderANewNodeAndAgainAfterEachEdit() throws Exception {
    Path file = write("edge.yaml", config("a:10001:h1.example:8001", "b:10002:h2.example:8002"));
    start(List.of(file.toString()), List.of());
    String nodeId = "static-" + HOST + "-edge";
    awaitEquals(
        List.of("a 10001 h1.example:8001", "b 10002 h2.example:8002"), () -> routes(nodeId));
    EnvoyNode node = node(nodeId).orElseThrow();
    assertEquals("active", node.status());
    for (EnvoyRoute r : admin(devApi).routes(node.id())) {
      assertEquals("static", r.source());
      assertEquals("logical_dns", r.clusterType());
      assertEquals(3, r.connectTimeoutSecs());
      assertEquals(0, r.proxyProtocol());
    }

    write("edge.yaml", config("a:10001:h1.example:9001", "c:10003:h3.example:8003"));
    await("the edit synced", () -> count(Level.INFO, "upserted 2, deleted 1") == 1);
    assertEquals(List.of("a 10001 h1.example:9001", "c 10003 h3.example:8003"), routes(nodeId));
    assertEquals(1, admin(devApi).nodes(vpsId).size(), "one node, reused for the edit");
  }

  @Test
  void anExistingNodeIsReusedAndTheDefaultFileIsNamedAfterTheHostAlone() throws Exception {
    EnvoyNode existing = admin(devApi).addNode(vpsId, "static-" + HOST + "-envoy");
    Path file = write("envoy.yaml", config("a:10001:h1.example:8001"));
    start(List.of(file.toString()), List.of());
    awaitEquals(List.of("a 10001 h1.example:8001"), () -> routes("static-" + HOST + "-envoy"));
    assertEquals(
        List.of(existing.id()), admin(devApi).nodes(vpsId).stream().map(EnvoyNode::id).toList());
    assertEquals("static-" + HOST, NodeIds.of(Path.of("/etc/envoy/envoy.yaml"), HOST));
  }

  @Test
  void aBrokenFileKeepsTheLastSyncAndIsLoggedOnceUntilFixed() throws Exception {
    Path file = write("edge.yaml", config("a:10001:h1.example:8001"));
    start(List.of(file.toString()), List.of());
    String nodeId = "static-" + HOST + "-edge";
    awaitEquals(List.of("a 10001 h1.example:8001"), () -> routes(nodeId));

    write("edge.yaml", "static_resources: {listeners: [ {name: oops\n");
    await("the problem logged", () -> count(Level.WARN, "is not valid YAML") == 1);
    awaitChecks(5);
    assertEquals(1, count(Level.WARN, "is not valid YAML"), () -> logged(Level.WARN).toString());
    assertEquals(List.of("a 10001 h1.example:8001"), routes(nodeId));
    assertTrue(
        logged(Level.WARN).stream()
            .anyMatch(
                m ->
                    m.contains(
                        "the 1 route(s) last synced from it stay; checking it again every 200"
                            + " ms")),
        () -> logged(Level.WARN).toString());

    // Another problem is a new line; the same one again is not.
    write("edge.yaml", "- a list\n");
    await("the new problem logged", () -> count(Level.WARN, "the top level is a list") == 1);
    awaitChecks(3);
    assertEquals(2, logged(Level.WARN).size(), () -> logged(Level.WARN).toString());

    write("edge.yaml", config("a:10001:h1.example:8001", "b:10002:h2.example:8002"));
    awaitEquals(
        List.of("a 10001 h1.example:8001", "b 10002 h2.example:8002"), () -> routes(nodeId));
    assertEquals(1, count(Level.INFO, "is usable again"));
  }

  @Test
  void aDeletedFileKeepsItsRoutesAndIsReportedOnce() throws Exception {
    Path file = write("edge.yaml", config("a:10001:h1.example:8001"));
    start(List.of(file.toString()), List.of());
    String nodeId = "static-" + HOST + "-edge";
    awaitEquals(List.of("a 10001 h1.example:8001"), () -> routes(nodeId));
    Files.delete(file);
    await("the missing file logged", () -> count(Level.WARN, "does not exist") == 1);
    awaitChecks(3);
    assertEquals(1, count(Level.WARN, "does not exist"));
    assertEquals(List.of("a 10001 h1.example:8001"), routes(nodeId));
  }

  @Test
  void globsPickUpNewFilesAndExcludesLeaveFilesOut() throws Exception {
    write("a.yaml", config("a:10001:h1.example:8001"));
    write("b.yaml", config("b:10002:h2.example:8002"));
    write("skip.yaml", config("s:10003:h3.example:8003"));
    write("c.txt", config("t:10004:h4.example:8004"));
    start(List.of(dir + "/*.yaml"), List.of("skip.*"));
    awaitEquals(List.of("b 10002 h2.example:8002"), () -> routes("static-" + HOST + "-b"));
    awaitEquals(List.of("a 10001 h1.example:8001"), () -> routes("static-" + HOST + "-a"));

    write("d.yaml", config("d:10005:h5.example:8005"));
    awaitEquals(List.of("d 10005 h5.example:8005"), () -> routes("static-" + HOST + "-d"));
    awaitChecks(2);
    assertEquals(
        List.of("static-" + HOST + "-a", "static-" + HOST + "-b", "static-" + HOST + "-d"),
        admin(devApi).nodes(vpsId).stream().map(EnvoyNode::nodeId).sorted().toList());

    Files.delete(dir.resolve("d.yaml"));
    await("the vanished file logged", () -> count(Level.INFO, "d.yaml is gone") == 1);
    assertEquals(List.of("d 10005 h5.example:8005"), routes("static-" + HOST + "-d"));
  }

  @Test
  void aNewVpsIdSyncsEveryFileAgainUnderTheNewVps() throws Exception {
    Path file = write("edge.yaml", config("a:10001:h1.example:8001"));
    start(List.of(file.toString()), List.of());
    String nodeId = "static-" + HOST + "-edge";
    await("first sync", () -> count(Level.INFO, "Synced Envoy static config") == 1);

    // The VPS was deleted by an admin; the agent registered again and got a new id.
    String oldVps = vpsId;
    admin(devApi).deleteVps(oldVps);
    vpsId = devApi.store().register(new RegisterInput(HOST, null, List.of(), 22, null)).id();
    sync.tell(new StaticSyncActor.VpsKnown(vpsId));
    await("synced under the new VPS", () -> count(Level.INFO, "Synced Envoy static config") == 2);
    assertEquals(List.of("a 10001 h1.example:8001"), routes(nodeId));
    assertEquals(1, count(Level.INFO, "the agent is now VPS " + vpsId + " (was " + oldVps + ")"));

    // The same id again (a re-registration that kept it) changes nothing.
    sync.tell(new StaticSyncActor.VpsKnown(vpsId));
    awaitChecks(2);
    assertEquals(2, count(Level.INFO, "Synced Envoy static config"));
  }

  @Test
  void aNodeDeletedInSigmaApiIsCreatedAgainAtTheNextSync() throws Exception {
    Path file = write("edge.yaml", config("a:10001:h1.example:8001"));
    start(List.of(file.toString()), List.of());
    String nodeId = "static-" + HOST + "-edge";
    await("first sync", () -> count(Level.INFO, "Synced Envoy static config") == 1);
    String first = node(nodeId).orElseThrow().id();
    admin(devApi).deleteNode(first);

    write("edge.yaml", config("a:10001:h1.example:8002"));
    await("synced again", () -> count(Level.INFO, "Synced Envoy static config") == 2);
    assertEquals(List.of("a 10001 h1.example:8002"), routes(nodeId));
    assertTrue(!node(nodeId).orElseThrow().id().equals(first), "a new node");
    assertEquals(1, count(Level.WARN, "Could not sync Envoy static config"));
    assertEquals(2, count(Level.INFO, "Created Envoy node '" + nodeId + "'"));
  }

  @Test
  void sigmaApiErrorsAndHangsAreRetriedWithBackoff() throws Exception {
    devApi.faults().failNext(EndpointKind.SYNC_STATIC, 3, Fault.status(500));
    devApi.faults().failNext(EndpointKind.SYNC_STATIC, 1, new Fault.Delay(Duration.ofSeconds(3)));
    devApi.faults().failNext(EndpointKind.CREATE_NODE, 1, Fault.html(502));
    Path file = write("edge.yaml", config("a:10001:h1.example:8001"));
    start(List.of(file.toString()), List.of());
    String nodeId = "static-" + HOST + "-edge";
    await("synced", () -> count(Level.INFO, "Synced Envoy static config") == 1);
    assertEquals(List.of("a 10001 h1.example:8001"), routes(nodeId));
    assertEquals(3 + 1, devApi.faults().injected(EndpointKind.SYNC_STATIC));
    assertEquals(1, devApi.faults().injected(EndpointKind.CREATE_NODE));
    assertEquals(
        5,
        count(Level.WARN, "Could not sync Envoy static config"),
        () -> logged(Level.WARN).toString());
    assertEquals(
        1, count(Level.INFO, "after 5 failed attempt(s)"), () -> logged(Level.INFO).toString());
    assertEquals(1, admin(devApi).nodes(vpsId).size());

    // still alive and syncing
    write("edge.yaml", config("a:10001:h1.example:8002"));
    await("synced again", () -> count(Level.INFO, "Synced Envoy static config") == 2);
    assertEquals(List.of("a 10001 h1.example:8002"), routes(nodeId));
    assertEquals(
        5.0, ExportedValue.of(metrics, "sigma_envoy_static_syncs_total{result=\"api_error\"}"));
    assertEquals(
        2.0, ExportedValue.of(metrics, "sigma_envoy_static_syncs_total{result=\"success\"}"));
    assertTrue(
        ExportedValue.of(metrics, "sigma_envoy_static_sync_last_success_timestamp_seconds")
            > 1.7e9);
  }
}
