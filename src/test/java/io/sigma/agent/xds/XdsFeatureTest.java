package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.AgentConfig;
import io.sigma.agent.devapi.DevApiRequests.CreateNodeInput;
import io.sigma.agent.feature.FeatureServer;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.ports.FreePorts;
import io.sigma.agent.testing.FeatureStart;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xDS feature as the root starts it, against the dev sigma-api over real HTTP: its ADS server
 * and page, the VPS id it is told, what it adds to heartbeats and the poll interval it reloads.
 */
class XdsFeatureTest {
  private static final Duration AWAIT = Duration.ofSeconds(20);

  @TempDir Path stateDir;

  private ActorTestKit testKit;
  private DevApiWithVps fixture;

  @BeforeEach
  void start() throws Exception {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    fixture = DevApiWithVps.start(testKit.system(), "xds-feature-");
  }

  @AfterEach
  void stop() throws Exception {
    fixture.close();
    testKit.shutdownTestKit();
  }

  private AgentConfig config(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--api-url",
                fixture.devApi().baseUrl(),
                "--public-ip-lookup=false",
                "--xds-enabled",
                "--xds-bind",
                "127.0.0.1",
                "--xds-port",
                String.valueOf(FreePorts.ephemeral()),
                "--state-dir",
                stateDir.toString()));
    args.addAll(List.of(more));
    return FeatureStart.config(args.toArray(String[]::new));
  }

  private XdsFeature start(AgentConfig config) {
    return FeatureStart.start(
        testKit,
        ctx ->
            XdsFeature.start(
                ctx, config, fixture.http(), new AgentMetrics("xds-feature", false, false)));
  }

  private PollerStatus pollerStatus(XdsFeature xds) {
    TestProbe<PollerStatus> probe = testKit.createTestProbe();
    xds.guardian().tell(new ConfigPoller.GetStatus(probe.ref()));
    return probe.receiveMessage(AWAIT);
  }

  @Test
  void servesItsServerAndPageAndReportsTheNodesOfTheVpsItIsTold() throws Exception {
    fixture
        .devApi()
        .store()
        .createNode(new CreateNodeInput(fixture.vpsId(), "edge", "", null, "active"));
    XdsFeature xds = start(config("--interval", "2"));

    List<FeatureServer> servers = xds.servers();
    assertEquals(1, servers.size());
    assertEquals("xDS server", servers.get(0).what());
    assertEquals("--xds-port / AGENT_XDS_PORT", servers.get(0).setting());
    InetSocketAddress address =
        servers.get(0).listening().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(address.getPort() > 0, address.toString());
    assertEquals(
        List.of("/xds/status"), xds.managementPages().stream().map(p -> p.path()).toList());
    // Before the VPS id: no node is known, so the heartbeat's envoy object lists none.
    assertEquals(null, pollerStatus(xds).vpsId());

    xds.vpsKnown(fixture.vpsId());
    assertEquals(fixture.vpsId(), pollerStatus(xds).vpsId());
    // The reporter refreshes every second (half the 2 s heartbeat interval): the node shows up.
    TestProbe<Void> waiter = testKit.createTestProbe();
    JsonNode envoy =
        waiter.awaitAssert(
            AWAIT,
            () -> {
              Map<String, JsonNode> info = xds.systemInfo();
              assertTrue(info.containsKey("envoy"), info.toString());
              assertTrue(info.get("envoy").toString().contains("\"edge\""), info.toString());
              return info.get("envoy");
            });
    assertEquals(1, xds.systemInfo().size(), envoy.toString());
  }

  @Test
  void aReloadedPollIntervalReachesThePollerAndOtherChangesDoNot() {
    AgentConfig started = config("--xds-poll-interval", "30");
    XdsFeature xds = start(started);
    assertEquals(Duration.ofSeconds(30), pollerStatus(xds).pollInterval());

    xds.apply(started, config("--xds-poll-interval", "30", "--interval", "7"));
    assertEquals(Duration.ofSeconds(30), pollerStatus(xds).pollInterval());
    xds.apply(started, config("--xds-poll-interval", "5"));
    TestProbe<Void> waiter = testKit.createTestProbe();
    waiter.awaitAssert(
        AWAIT,
        () -> {
          assertEquals(Duration.ofSeconds(5), pollerStatus(xds).pollInterval());
          return null;
        });
  }

  /** Refreshed every 10 s, asked within 2 s, too old after 35 s. */
  private static final EnvoySyncReporter.Settings EVERY_10_S =
      new EnvoySyncReporter.Settings(
          Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(35));

  @Test
  void heartbeatsCarryAReportRefreshedTwiceAnIntervalAndAtLeastEveryTenSeconds() {
    assertEquals(EVERY_10_S, XdsFeature.syncReportSettings(Duration.ofSeconds(60)));
    assertEquals(EVERY_10_S, XdsFeature.syncReportSettings(Duration.ofSeconds(20)));
    assertEquals(
        new EnvoySyncReporter.Settings(
            Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofSeconds(11)),
        XdsFeature.syncReportSettings(Duration.ofSeconds(6)));
    assertEquals(EVERY_10_S, XdsFeature.syncReportSettings(Duration.ZERO));
  }
}
