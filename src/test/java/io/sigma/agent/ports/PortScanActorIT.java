package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.AgentRuntime;
import io.sigma.agent.config.PortRange;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The production scan actor over this machine's /proc, `ss` and the blocking-IO dispatcher of
 * sigma-agent.conf: a listener opened inside the range shows up in the published scan, and
 * disappears from it once closed.
 */
class PortScanActorIT {
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static ActorTestKit testKit;

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @Test
  void followsAListenerOpenedAndClosedInsideTheRange() throws Exception {
    PortRange range = FreePorts.range(8);
    int port = range.first() + 2;
    LatestPortScan latest = new LatestPortScan();
    Instant started = Instant.now();
    TestProbe<Object> waiter = testKit.createTestProbe();
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      PortScanner scanner = PortScanner.onProc(Path.of("/proc"));
      testKit.spawn(
          PortScanActor.create(
              () -> scanner.scan(range),
              Duration.ofMillis(200),
              latest,
              testKit
                  .system()
                  .dispatchers()
                  .lookup(DispatcherSelector.fromConfig(PortScanActor.BLOCKING_DISPATCHER))));
      waiter.awaitAssert(
          AWAIT,
          () -> {
            PortScan scan = latest.get().orElseThrow();
            assertTrue(scan.occupied().get(port), "listener on " + port + " in " + scan.occupied());
            return null;
          });
      PortScan scan = latest.get().orElseThrow();
      assertEquals(range, scan.range());
      assertEquals(8, scan.total());
      assertFalse(scan.at().isBefore(started.minusSeconds(1)));
      assertTrue(
          scan.listeners().countsBySource().values().stream().mapToInt(i -> i).sum() >= 1,
          "the machine's listeners are attributed: " + scan.listeners());
    }
    waiter.awaitAssert(
        AWAIT,
        () -> {
          assertFalse(
              latest.get().orElseThrow().occupied().get(port), "closed listener still seen");
          return null;
        });
  }
}
