package io.sigma.agent.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.host.PublicIpLookup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The watcher asks a (loopback) "what is my IP" service only behind NAT, and passes answers on. */
class PublicIpWatcherTest {
  private static ActorTestKit testKit;
  private HttpServer service;
  private final AtomicInteger asked = new AtomicInteger();
  private volatile String answer = "198.51.100.23";

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void startService() throws IOException {
    service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    service.createContext(
        "/",
        ex -> {
          asked.incrementAndGet();
          byte[] body = answer.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    service.start();
  }

  @AfterEach
  void stopService() {
    service.stop(0);
  }

  private PublicIpLookup lookup() {
    return new PublicIpLookup(
        testKit.system(),
        List.of(URI.create("http://127.0.0.1:" + service.getAddress().getPort() + "/ip")),
        Duration.ofSeconds(3));
  }

  @Test
  void behindNatTheLookedUpAddressReachesRegistration() {
    TestProbe<RegistrationActor.Command> registration = testKit.createTestProbe();
    List<IpAddress> natted = List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL));
    testKit.spawn(
        PublicIpWatcher.create(
            lookup(),
            () -> natted,
            registration.getRef(),
            new PublicIpWatcher.Schedule(Duration.ofMillis(200), Duration.ofMillis(200))));
    assertEquals(
        new RegistrationActor.PublicIpChanged(Optional.of("198.51.100.23")),
        registration.receiveMessage(Duration.ofSeconds(10)));

    // Rechecked on schedule; only a change is passed on.
    answer = "198.51.100.99";
    assertEquals(
        new RegistrationActor.PublicIpChanged(Optional.of("198.51.100.99")),
        registration.receiveMessage(Duration.ofSeconds(10)));
  }

  /**
   * The addresses are read (from /proc in production) on the blocking dispatcher, not the actor's.
   */
  @Test
  void theAddressesAreReadOnTheBlockingDispatcher() {
    TestProbe<RegistrationActor.Command> registration = testKit.createTestProbe();
    List<String> threads = new CopyOnWriteArrayList<>();
    testKit.spawn(
        PublicIpWatcher.create(
            lookup(),
            () -> {
              threads.add(Thread.currentThread().getName());
              return List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL));
            },
            registration.getRef(),
            new PublicIpWatcher.Schedule(Duration.ofMillis(200), Duration.ofMillis(200))));
    registration.receiveMessage(Duration.ofSeconds(10));
    assertTrue(
        threads.stream().allMatch(t -> t.contains("default-blocking-io-dispatcher")),
        threads.toString());
  }

  @Test
  void aHostWithItsOwnPublicAddressNeverAsks() {
    TestProbe<RegistrationActor.Command> registration = testKit.createTestProbe();
    List<IpAddress> direct = List.of(new IpAddress("203.0.113.7", IpAddress.PUBLIC));
    testKit.spawn(
        PublicIpWatcher.create(
            lookup(),
            () -> direct,
            registration.getRef(),
            new PublicIpWatcher.Schedule(Duration.ofMillis(100), Duration.ofMillis(100))));
    registration.expectNoMessage(Duration.ofMillis(800));
    assertEquals(0, asked.get(), "the services were never asked");
  }

  /**
   * A host with its own public address is checked again on the refresh schedule: one that loses it
   * (moved behind NAT) gets its address looked up.
   */
  @Test
  void aHostWithItsOwnPublicAddressIsCheckedAgainOnTheRefreshSchedule() {
    TestProbe<RegistrationActor.Command> registration = testKit.createTestProbe();
    AtomicInteger reads = new AtomicInteger();
    testKit.spawn(
        PublicIpWatcher.create(
            lookup(),
            () ->
                reads.incrementAndGet() == 1
                    ? List.of(new IpAddress("203.0.113.7", IpAddress.PUBLIC))
                    : List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL)),
            registration.getRef(),
            // Only the refresh is short: the retry schedule cannot stand in for it.
            new PublicIpWatcher.Schedule(Duration.ofMillis(100), Duration.ofHours(1))));
    assertEquals(
        new RegistrationActor.PublicIpChanged(Optional.of("198.51.100.23")),
        registration.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(2, reads.get(), "read once with the public address, then once behind NAT");
  }

  /** A failed read of the host's addresses is tried again on the retry schedule. */
  @Test
  void aFailedAddressReadIsRetried() {
    TestProbe<RegistrationActor.Command> registration = testKit.createTestProbe();
    AtomicInteger reads = new AtomicInteger();
    testKit.spawn(
        PublicIpWatcher.create(
            lookup(),
            () -> {
              if (reads.incrementAndGet() == 1) {
                throw new IllegalStateException("/proc/net/fib_trie: I/O error");
              }
              return List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL));
            },
            registration.getRef(),
            // Only the retry is short: the refresh schedule cannot stand in for it.
            new PublicIpWatcher.Schedule(Duration.ofHours(1), Duration.ofMillis(100))));
    assertEquals(
        new RegistrationActor.PublicIpChanged(Optional.of("198.51.100.23")),
        registration.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(2, reads.get(), "the failed read, then the retried one");
  }

  @Test
  void garbageAnswersAreIgnoredAndRetried() {
    answer = "<html>rate limited</html>";
    TestProbe<RegistrationActor.Command> registration = testKit.createTestProbe();
    List<IpAddress> natted = List.of(new IpAddress("192.168.1.2", IpAddress.INTERNAL));
    testKit.spawn(
        PublicIpWatcher.create(
            lookup(),
            () -> natted,
            registration.getRef(),
            new PublicIpWatcher.Schedule(Duration.ofSeconds(60), Duration.ofMillis(100))));
    registration.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertEquals(true, asked.get() >= 2, "retried after a bad answer: " + asked.get());
          return null;
        });
    answer = "198.51.100.5";
    assertEquals(
        new RegistrationActor.PublicIpChanged(Optional.of("198.51.100.5")),
        registration.receiveMessage(Duration.ofSeconds(10)));
  }

  /**
   * A look-up that finds the IP registration already has is not passed on: every heartbeat would
   * otherwise be told the same address again on each refresh.
   */
  @Test
  void anUnchangedAddressIsNotPassedOnAgain() {
    TestProbe<RegistrationActor.Command> registration = testKit.createTestProbe();
    List<IpAddress> natted = List.of(new IpAddress("10.0.0.5", IpAddress.INTERNAL));
    testKit.spawn(
        PublicIpWatcher.create(
            lookup(),
            () -> natted,
            registration.getRef(),
            new PublicIpWatcher.Schedule(Duration.ofMillis(50), Duration.ofMillis(50))));
    assertEquals(
        new RegistrationActor.PublicIpChanged(Optional.of("198.51.100.23")),
        registration.receiveMessage(Duration.ofSeconds(10)));
    // A fourth question is asked only after the third answer was handled: by then any message
    // the second and third answers caused is in the probe's mailbox.
    registration.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertTrue(asked.get() >= 4, "asked " + asked.get() + " times");
          return null;
        });
    registration.expectNoMessage(Duration.ZERO);
  }
}
