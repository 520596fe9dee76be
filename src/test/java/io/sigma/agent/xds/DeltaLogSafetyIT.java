package io.sigma.agent.xds;

import static io.sigma.agent.xds.Routes.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.sigma.agent.logging.AgentLogCapture;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an operator reads when a hostile client talks Delta ADS to the real server, logged with the
 * agent's own logging configuration: what it sends cannot forge log lines, and its bad streams and
 * requests cannot flood the log (the rules XdsLogSafetyIT checks for state of the world).
 */
class DeltaLogSafetyIT {
  private static final String FORGED = "2026-01-01T00:00:00.000Z INFO  [Forged] evil";
  private static final Pattern EVENT_LINE =
      Pattern.compile("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z .*");

  private static AgentLogCapture log;
  private static ActorTestKit testKit;
  private static ActorRef<SnapshotRegistry.Command> registry;
  private static XdsServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    log = AgentLogCapture.start();
    testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.http.server.enable-http2 = on"));
    registry = testKit.spawn(SnapshotRegistry.create(), "xds-registry");
    AdsService service = new AdsService(registry, new XdsEvents() {}, Clock.systemUTC());
    server =
        XdsServer.start(testKit.system(), service, "127.0.0.1", 0)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.stop(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
    log.close();
  }

  @Test
  void hostileNodeIdTypeUrlNamesAndNackMessageAreLoggedOnOneLineEach() throws Exception {
    String node = "edge\n" + FORGED + "\u001b[2J";
    registry.tell(
        new SnapshotRegistry.SetSnapshot(
            new RouteResourceMapper()
                .map(List.of(route("a", 10001, "a.example", 80)))
                .toSnapshot(node, 1)));

    try (DeltaAdsTestClient envoy = DeltaAdsTestClient.connect(channel, node)) {
      envoy.subscribe("type.googleapis.com/evil\n" + FORGED);
      DeltaDiscoveryRequest.Builder names = envoy.request(TypeUrls.CLUSTER, "").toBuilder();
      names.addResourceNamesSubscribe("*");
      names.addResourceNamesSubscribe(("x\n" + FORGED).repeat(20));
      envoy.send(names.build());
      DeltaDiscoveryResponse clusters = envoy.next(TypeUrls.CLUSTER);
      envoy.nack(clusters, "cluster-a: bad\r\n" + FORGED);
      awaitLog("rejected (NACK)");
    }

    List<String> lines = log.lines();
    assertTrue(
        lines.stream().anyMatch(l -> l.contains("opened for node edge\\n" + FORGED + "\\u001B[2J")),
        log.text());
    assertTrue(
        lines.stream().anyMatch(l -> l.contains(": cluster-a: bad\\r\\n" + FORGED + "; keeping")),
        log.text());
    assertTrue(
        lines.stream().anyMatch(l -> l.contains("type.googleapis.com/evil\\n" + FORGED)),
        log.text());
    for (String line : lines) {
      assertTrue(
          EVENT_LINE.matcher(line).matches() && !line.startsWith("2026-01-01T00:00:00.000Z"),
          "every line is a real event: " + line);
    }
  }

  @Test
  void aFloodOfBadDeltaStreamsWritesFiveWarningsNotOneEach() throws Exception {
    List<DeltaAdsTestClient> clients = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      clients.add(DeltaAdsTestClient.connect(channel, ""));
    }
    for (DeltaAdsTestClient client : clients) {
      client.subscribe(TypeUrls.CLUSTER);
    }
    for (DeltaAdsTestClient client : clients) {
      assertEquals(Status.Code.INVALID_ARGUMENT, client.awaitClosed().getCode());
      client.close();
    }

    long refusals = log.lines().stream().filter(l -> l.contains("has no node.id")).count();
    assertEquals(5, refusals, log.text());
  }

  private static void awaitLog(String text) {
    long deadline =
        System.nanoTime() + TimeUnit.SECONDS.toNanos(DeltaAdsTestClient.TIMEOUT_SECONDS);
    while (!log.text().contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no log line with \"" + text + "\" in\n" + log.text());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }
}
