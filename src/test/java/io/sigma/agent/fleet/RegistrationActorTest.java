package io.sigma.agent.fleet;

import static io.sigma.agent.devapi.DevApiAdmin.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import io.sigma.agent.AgentRuntime;
import io.sigma.agent.api.ApiKey;
import io.sigma.agent.api.HeartbeatRequest;
import io.sigma.agent.api.HttpSigmaApi;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.RegisterRequest;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SystemInfo;
import io.sigma.agent.api.VpsRecord;
import io.sigma.agent.devapi.DevVps;
import io.sigma.agent.devapi.EndpointKind;
import io.sigma.agent.devapi.Fault;
import io.sigma.agent.devapi.FaultInjectingDevApi;
import io.sigma.agent.host.AddressFilter;
import io.sigma.agent.host.Cidr;
import io.sigma.agent.host.HostAddressDiscovery;
import io.sigma.agent.host.HostileProcRoot;
import io.sigma.agent.host.LogCapture;
import io.sigma.agent.host.SystemFacts;
import io.sigma.agent.host.SystemFactsReader;
import io.sigma.agent.retry.Backoff;
import io.sigma.agent.testing.DelegatingSigmaApi;
import io.sigma.agent.testing.HighestDraw;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.apache.pekko.actor.DeadLetter;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registration actor against the dev sigma-api over real HTTP on loopback, with the real /proc
 * of this machine: registration, cadence, and every way the API can fail.
 */
class RegistrationActorTest {
  private static final Duration INTERVAL = Duration.ofMillis(300);
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static final String KEY = "it-key";
  private static ActorTestKit testKit;

  private FaultInjectingDevApi devApi;
  private String baseUrl;
  private FleetStatus status;
  private final List<Instant> heartbeatsSent = new CopyOnWriteArrayList<>();
  private final List<Instant> registrationsSent = new CopyOnWriteArrayList<>();
  private final List<Instant> registrationsAnswered = new CopyOnWriteArrayList<>();
  private int hostCounter;

  @BeforeEach
  void startApi() throws Exception {
    // One actor system per test: the agents of a finished test stop with it, so none of them
    // reaches the next test's dev API (a port number can be reused) and eats its scripted faults.
    testKit = ActorTestKit.create(AgentRuntime.pekkoConfig());
    devApi = new FaultInjectingDevApi(0, KEY);
    baseUrl = devApi.start(testKit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    status = new FleetStatus(Clock.systemUTC());
  }

  @AfterEach
  void stopApi() throws Exception {
    devApi.stop().toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.shutdownTestKit();
  }

  /** Records when each heartbeat left, around the real HTTP client. */
  private SigmaApi recording(SigmaApi api) {
    return new DelegatingSigmaApi(api) {
      @Override
      public CompletionStage<VpsRecord> register(RegisterRequest r) {
        registrationsSent.add(Instant.now());
        return super.register(r).whenComplete((v, e) -> registrationsAnswered.add(Instant.now()));
      }

      @Override
      public CompletionStage<VpsRecord> heartbeat(HeartbeatRequest r) {
        heartbeatsSent.add(Instant.now());
        return super.heartbeat(r);
      }
    };
  }

  private String hostname() {
    return "it-host-" + ProcessHandle.current().pid() + "-" + (++hostCounter);
  }

  private ActorRef<RegistrationActor.Command> spawnAgent(
      String hostname, String key, Duration backoffMax) {
    return spawnAgent(hostname, key, backoffMax, new SplittableRandom(1));
  }

  private ActorRef<RegistrationActor.Command> spawnAgent(
      String hostname, String key, Duration backoffMax, RandomGenerator random) {
    HttpSigmaApi http =
        new HttpSigmaApi(
            testKit.system(), URI.create(baseUrl), Optional.of(new ApiKey(key)), TIMEOUT);
    HostFacts host =
        new ProcHostFacts(
            hostname,
            new HostAddressDiscovery(
                Path.of("/proc"), List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("172.17.0.0/16"))),
            new SystemFactsReader(Path.of("/proc"), Path.of("/")));
    RegistrationActor.Settings settings =
        new RegistrationActor.Settings(
            Optional.of("alias.example"),
            2222,
            9102,
            INTERVAL,
            new Backoff(Duration.ofMillis(50), backoffMax));
    return testKit.spawn(RegistrationActor.create(settings, recording(http), host, status, random));
  }

  private RegistrationActor.Settings settings(Duration backoffMax) {
    return new RegistrationActor.Settings(
        Optional.of("alias.example"),
        2222,
        9102,
        INTERVAL,
        new Backoff(Duration.ofMillis(50), backoffMax));
  }

  private HttpSigmaApi http() {
    return new HttpSigmaApi(
        testKit.system(), URI.create(baseUrl), Optional.of(new ApiKey(KEY)), TIMEOUT);
  }

  private ActorRef<RegistrationActor.Command> spawnAgent(String hostname) {
    return spawnAgent(hostname, KEY, Duration.ofMillis(400));
  }

  private DevVps awaitVps(String hostname) {
    TestProbe<Object> probe = testKit.createTestProbe();
    return probe.awaitAssert(AWAIT, () -> admin(devApi).vpsByHostname(hostname).orElseThrow());
  }

  /** Waits up to {@link #AWAIT} for {@code check} to pass. */
  private void eventually(Runnable check) {
    testKit
        .createTestProbe()
        .awaitAssert(
            AWAIT,
            () -> {
              check.run();
              return null;
            });
  }

  private void awaitHeartbeats(long atLeast) {
    eventually(
        () -> {
          assertTrue(
              status.heartbeatSuccesses() >= atLeast,
              "heartbeats so far: " + status.heartbeatSuccesses());
        });
  }

  @Test
  void firstRegistrationCarriesEveryFactOfThisMachine() throws IOException {
    String hostname = hostname();
    Instant before = Instant.now();
    spawnAgent(hostname);
    DevVps vps = awaitVps(hostname);
    assertEquals("alias.example", vps.alias());
    assertEquals(2222, vps.sshPort());
    assertEquals(DevVps.ACTIVE, vps.status());

    List<IpAddress> expected =
        new HostAddressDiscovery(
                Path.of("/proc"), List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("172.17.0.0/16")))
            .discover();
    assertEquals(expected, vps.ipAddresses());
    assertFalse(vps.ipAddresses().stream().anyMatch(a -> a.ip().startsWith("127.")));

    JsonNode info = vps.systemInfo();
    long processors =
        Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
            .filter(l -> l.matches("processor\\s*:.*"))
            .count();
    assertEquals(processors, info.get("cpu_cores").asLong());
    long memTotalKb =
        Files.readAllLines(Path.of("/proc/meminfo")).stream()
            .filter(l -> l.startsWith("MemTotal:"))
            .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
            .findFirst()
            .orElseThrow();
    assertEquals(memTotalKb / 1024, info.get("ram_mb").asLong());
    FileStore root = Files.getFileStore(Path.of("/"));
    assertEquals(root.getTotalSpace() >> 30, info.get("disk_gb").asLong());
    long usedGb = info.get("disk_used_gb").asLong();
    long expectedUsed = (root.getTotalSpace() - root.getUnallocatedSpace()) >> 30;
    assertTrue(Math.abs(usedGb - expectedUsed) <= 1, usedGb + " vs " + expectedUsed);
    double uptimeNow = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
    long uptime = info.get("uptime_seconds").asLong();
    assertTrue(
        uptime <= uptimeNow
            // Read at registration, floored: at most the time since the test began, plus the
            // floor of each side (1 s each), behind the uptime read now.
            && uptime
                >= uptimeNow - Duration.between(before, Instant.now()).toMillis() / 1000.0 - 2,
        uptime + " vs " + uptimeNow);
    assertEquals(3, info.get("load_avg").size());
    info.get("load_avg").forEach(n -> assertTrue(n.isNumber() && n.asDouble() >= 0));
    assertEquals(9102, info.get("metrics_port").asInt());
    assertTrue(info.get("cpu_cores").isIntegralNumber() && info.get("ram_mb").isIntegralNumber());

    eventually(
        () -> {
          assertTrue(status.isRegistered());
        });
  }

  /**
   * --host-proc with a FIFO cpuinfo, meminfo linked to /dev/zero, a 50 MB loadavg and a 3 GiB
   * fib_trie: the agent registers and heartbeats with the facts it can read (uptime, IPv6
   * addresses, disk) and zeros for the rest. Without the checks the FIFO blocks the read for ever
   * and nothing is ever registered.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aHostileHostProcStillRegistersAndHeartbeatsWithTheRemainingFacts(@TempDir Path dir)
      throws Exception {
    Path proc = HostileProcRoot.create(dir.resolve("proc"));
    String hostname = hostname();
    HostFacts host =
        new ProcHostFacts(
            hostname,
            new HostAddressDiscovery(proc, AddressFilter.DEFAULT_IGNORED),
            new SystemFactsReader(proc, Path.of("/")));
    testKit.spawn(
        RegistrationActor.create(
            settings(Duration.ofMillis(400)),
            recording(http()),
            host,
            status,
            new SplittableRandom(1)));
    DevVps vps = awaitVps(hostname);
    assertEquals(
        List.of(new IpAddress("2001:db8::7", ""), new IpAddress("fd00::2", "internal")),
        vps.ipAddresses());
    JsonNode info = vps.systemInfo();
    assertEquals(0, info.get("cpu_cores").asInt(), "cpuinfo is a FIFO");
    assertEquals(0, info.get("ram_mb").asLong(), "meminfo is /dev/zero");
    assertEquals("[0.0,0.0,0.0]", info.get("load_avg").toString(), "loadavg is 50 MB");
    assertEquals(86400, info.get("uptime_seconds").asLong(), "uptime is fine");
    assertEquals(
        Files.getFileStore(Path.of("/")).getTotalSpace() >> 30, info.get("disk_gb").asLong());
    assertEquals(9102, info.get("metrics_port").asInt());
    awaitHeartbeats(2);
    assertEquals(0, status.heartbeatFailures());
  }

  /**
   * Production wiring: host facts are read on Pekko's blocking-IO dispatcher, never the actor's.
   */
  @Test
  void hostFactsAreReadOnTheBlockingDispatcher() {
    StallingHostFacts host = new StallingHostFacts(hostname());
    host.release(); // no stall: just record the threads
    testKit.spawn(
        RegistrationActor.create(
            settings(Duration.ofMillis(400)),
            recording(http()),
            host,
            status,
            new SplittableRandom(1)));
    awaitHeartbeats(1);
    assertFalse(host.readingThreads.isEmpty());
    assertTrue(
        host.readingThreads.stream().allMatch(t -> t.contains("default-blocking-io-dispatcher")),
        host.readingThreads.toString());
  }

  /**
   * A host read that hangs (an NFS-like stall under --host-proc) does not stop registration or
   * heartbeats: they go out without the facts (no addresses, zeroed system_info keeping the metrics
   * port), one warning is logged, and no second read piles up behind the stalled one. When the read
   * comes back, the next heartbeat carries the facts.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aStalledHostReadDoesNotStopRegistrationOrHeartbeats() {
    StallingHostFacts host = new StallingHostFacts(hostname());
    RegistrationActor.HostReads reads =
        new RegistrationActor.HostReads(
            testKit.system().dispatchers().lookup(DispatcherSelector.blocking()),
            Duration.ofMillis(200));
    try (LogCapture logs = new LogCapture(RegistrationActor.class)) {
      testKit.spawn(
          RegistrationActor.create(
              settings(Duration.ofMillis(400)),
              recording(http()),
              host,
              status,
              new SplittableRandom(1),
              reads));
      DevVps registered = awaitVps(host.hostname());
      assertEquals(List.of(), registered.ipAddresses());
      assertEquals(0, registered.systemInfo().get("cpu_cores").asInt());
      assertEquals(9102, registered.systemInfo().get("metrics_port").asInt());
      awaitHeartbeats(3);
      assertEquals(1, host.reads.get(), "no second read while the first is stalled");
      List<String> warnings =
          logs.messages(Level.WARN).stream()
              .filter(m -> m.startsWith("Reading the host facts"))
              .toList();
      assertEquals(
          List.of(
              "Reading the host facts (IP addresses, system_info) took longer than 200 ms"
                  + " (a stalled file system under --host-proc?); sending no IP addresses and a zeroed"
                  + " system_info (with metrics_port and public_ip) instead, and reading again for the next"
                  + " request"),
          warnings,
          "one warning for the whole stall");

      host.release();
      eventually(
          () -> {
            DevVps vps = admin(devApi).vpsByHostname(host.hostname()).orElseThrow();
            assertEquals(StallingHostFacts.ADDRESSES, vps.ipAddresses());
            assertEquals(2, vps.systemInfo().get("cpu_cores").asInt());
          });
      assertEquals(0, status.heartbeatFailures());
    } finally {
      host.release(); // never leave a pool thread blocked, also when an assertion failed
    }
  }

  /** Host facts whose address read blocks until released, recording the reading threads. */
  private static final class StallingHostFacts implements HostFacts {
    static final List<IpAddress> ADDRESSES = List.of(new IpAddress("192.0.2.10", ""));
    private final String hostname;
    private final CountDownLatch stall = new CountDownLatch(1);
    final AtomicInteger reads = new AtomicInteger();
    final List<String> readingThreads = new CopyOnWriteArrayList<>();

    StallingHostFacts(String hostname) {
      this.hostname = hostname;
    }

    void release() {
      stall.countDown();
    }

    @Override
    public String hostname() {
      return hostname;
    }

    @Override
    public List<IpAddress> addresses() {
      reads.incrementAndGet();
      readingThreads.add(Thread.currentThread().getName());
      try {
        stall.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return ADDRESSES;
    }

    @Override
    public SystemInfo systemInfo(Integer metricsPort, String publicIp) {
      return new SystemFacts(2, 512, 10, 1, 100, List.of(0.5, 0.25, 0.125))
          .toSystemInfo(metricsPort, publicIp);
    }
  }

  @Test
  void heartbeatsKeepTheIntervalAndNeverOverlap() {
    spawnAgent(hostname());
    awaitHeartbeats(4);
    List<Instant> sent = List.copyOf(heartbeatsSent);
    for (int i = 1; i < sent.size(); i++) {
      Duration gap = Duration.between(sent.get(i - 1), sent.get(i));
      // -10% jitter is the least the agent may wait between two heartbeats.
      assertTrue(
          gap.toMillis() >= INTERVAL.toMillis() * 9 / 10 - 5,
          "heartbeat " + i + " came after only " + gap.toMillis() + " ms");
    }
    assertEquals(0, status.heartbeatFailures());
  }

  @Test
  void theFirstHeartbeatAfterRegistrationMayFallAnywhereInAWholeInterval() {
    // The highest draw puts the first beat 1.5 intervals after the registration: beyond the
    // +10% of a regular beat, so agents that registered together spread over a whole interval.
    spawnAgent(hostname(), KEY, Duration.ofMillis(400), new HighestDraw());
    awaitHeartbeats(1);
    long gap = Duration.between(registrationsAnswered.get(0), heartbeatsSent.get(0)).toMillis();
    assertTrue(
        gap >= INTERVAL.toMillis() * 3 / 2 - 10,
        "first heartbeat " + gap + " ms after the registration");
    assertEquals(1, registrationsSent.size());
  }

  @Test
  void registrationsAnswered503AreRetriedUntilTheyPass() {
    devApi.faults().failNext(EndpointKind.REGISTER, 3, Fault.status(503));
    String hostname = hostname();
    spawnAgent(hostname);
    awaitVps(hostname);
    awaitHeartbeats(1);
    assertEquals(3, status.registrationFailures());
    assertEquals(1, status.registrationSuccesses());
  }

  @Test
  void heartbeat404MeansRegisterAgain() {
    String hostname = hostname();
    TestProbe<RegistrationActor.Registered> events = testKit.createTestProbe();
    ActorRef<RegistrationActor.Command> agent = spawnAgent(hostname);
    agent.tell(new RegistrationActor.Subscribe(events.getRef()));
    DevVps first = awaitVps(hostname);
    assertEquals(first.id(), events.receiveMessage(AWAIT).vpsId());
    awaitHeartbeats(1);

    assertTrue(admin(devApi).deleteVps(first.id()), "the admin deletes the VPS");
    RegistrationActor.Registered again = events.receiveMessage(AWAIT);
    assertNotEquals(first.id(), again.vpsId(), "a new record was created");
    assertEquals(again.vpsId(), awaitVps(hostname).id());
    long after = status.heartbeatSuccesses();
    awaitHeartbeats(after + 1);
  }

  /**
   * A healthy agent is not silent after registering: its first accepted heartbeat is logged, then a
   * summary per period (hourly in production, 1 s here), and the first success after a streak of
   * failures says how long it lasted.
   */
  @Test
  void successfulHeartbeatsAreVisibleInTheLog() {
    String hostname = hostname();
    try (LogCapture logs = new LogCapture(RegistrationActor.class)) {
      testKit.spawn(
          RegistrationActor.create(
              settings(Duration.ofMillis(400)),
              recording(http()),
              new ProcHostFacts(
                  hostname,
                  new HostAddressDiscovery(Path.of("/proc"), List.of(Cidr.parse("127.0.0.0/8"))),
                  new SystemFactsReader(Path.of("/proc"), Path.of("/"))),
              status,
              new SplittableRandom(1),
              new RegistrationActor.HostReads(
                  testKit.system().dispatchers().lookup(DispatcherSelector.blocking()),
                  Duration.ofSeconds(5)),
              Duration.ofSeconds(1)));
      String id = awaitVps(hostname).id();
      TestProbe<Object> probe = testKit.createTestProbe();
      probe.awaitAssert(
          AWAIT,
          () -> {
            assertTrue(
                logs.messages(Level.INFO).stream()
                    .anyMatch(
                        m ->
                            m.matches(
                                "Last 1 s: [1-9]\\d* heartbeats sent, [1-9]\\d* accepted, 0 failed; last accepted "
                                    + "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ")),
                logs.messages(Level.INFO).toString());
            return null;
          });
      awaitHeartbeats(4);
      assertEquals(
          List.of(
              "Heartbeat accepted by sigma-api (VPS "
                  + id
                  + "); next in ~300 ms; "
                  + "further successes are summarised every 1 s"),
          logs.messages(Level.INFO).stream()
              .filter(m -> m.startsWith("Heartbeat accepted"))
              .toList(),
          "only the first success after registering is logged by itself");

      devApi.faults().failAlways(EndpointKind.HEARTBEAT, Fault.status(503));
      long failuresBefore = status.heartbeatFailures();
      probe.awaitAssert(
          AWAIT,
          () -> {
            assertTrue(status.heartbeatFailures() >= failuresBefore + 2);
            return null;
          });
      devApi.faults().clear();
      probe.awaitAssert(
          AWAIT,
          () -> {
            assertTrue(
                logs.messages(Level.INFO).stream()
                    .anyMatch(
                        m ->
                            m.matches(
                                "Heartbeats succeed again after [2-9]\\d* failure\\(s\\) over \\d+ s")),
                logs.messages(Level.INFO).toString());
            assertTrue(
                logs.messages(Level.INFO).stream()
                    .anyMatch(
                        m ->
                            m.matches(
                                "Last 1 s: \\d+ heartbeats sent, \\d+ accepted, [1-9]\\d* failed; last accepted .*Z")),
                logs.messages(Level.INFO).toString());
            return null;
          });
    }
  }

  @Test
  void apiDownThenBackResumesHeartbeats() throws Exception {
    spawnAgent(hostname());
    awaitHeartbeats(2);
    devApi.down().toCompletableFuture().get(10, TimeUnit.SECONDS);
    long failuresBefore = status.heartbeatFailures();
    eventually(
        () -> {
          assertTrue(status.heartbeatFailures() >= failuresBefore + 2);
        });
    assertTrue(status.isRegistered(), "an outage does not forget the registration");
    devApi.up().toCompletableFuture().get(10, TimeUnit.SECONDS);
    long successes = status.heartbeatSuccesses();
    awaitHeartbeats(successes + 2);
    assertTrue(status.lastError().isEmpty());
  }

  @Test
  void htmlAndGarbageAnswersAreSurvived() {
    spawnAgent(hostname());
    awaitHeartbeats(1);
    devApi.faults().failNext(EndpointKind.HEARTBEAT, 1, Fault.html(502));
    devApi.faults().failNext(EndpointKind.HEARTBEAT, 1, Fault.nonJson());
    devApi.faults().failNext(EndpointKind.HEARTBEAT, 1, Fault.missingFields());
    long failures = status.heartbeatFailures();
    long successes = status.heartbeatSuccesses();
    eventually(
        () -> {
          assertTrue(
              status.heartbeatFailures() >= failures + 3, "failures " + status.heartbeatFailures());
          assertTrue(status.heartbeatSuccesses() > successes, "and it recovered");
        });
  }

  @Test
  void anAnswerSlowerThanTheTimeoutIsRetried() {
    devApi.faults().failNext(EndpointKind.REGISTER, 1, new Fault.Delay(TIMEOUT.plusSeconds(2)));
    String hostname = hostname();
    spawnAgent(hostname);
    awaitHeartbeats(1);
    assertEquals(1, status.registrationFailures());
    assertTrue(status.registrationSuccesses() >= 1);
  }

  @Test
  void wrongKeyKeepsRetryingAtTheCapWithoutSpinning() {
    Duration cap = Duration.ofMillis(600);
    String hostname = hostname();
    spawnAgent(hostname, "wrong-key", cap);
    eventually(
        () -> {
          assertTrue(status.registrationFailures() >= 3);
        });
    assertFalse(status.isRegistered());
    assertTrue(status.lastError().orElseThrow().contains("401"), status.lastError().orElseThrow());
    assertTrue(admin(devApi).vpsByHostname(hostname).isEmpty());
    // No spinning: after a 401 the agent waits at least half the backoff cap.
    List<Instant> sent = List.copyOf(registrationsSent);
    for (int i = 1; i < sent.size(); i++) {
      long gap = Duration.between(sent.get(i - 1), sent.get(i)).toMillis();
      assertTrue(gap >= cap.toMillis() / 2 - 5, "attempt " + i + " after only " + gap + " ms");
    }
  }

  /**
   * Subscribing twice does not double the events: each Subscribe answers with the current id, but a
   * re-registration is told once.
   */
  @Test
  void aSubscriberSubscribedTwiceHearsEachRegistrationOnce() {
    String hostname = hostname();
    TestProbe<RegistrationActor.Registered> events = testKit.createTestProbe();
    TestProbe<RegistrationActor.Registered> twice = testKit.createTestProbe();
    ActorRef<RegistrationActor.Command> agent = spawnAgent(hostname);
    agent.tell(new RegistrationActor.Subscribe(events.getRef()));
    String first = events.receiveMessage(AWAIT).vpsId();
    agent.tell(new RegistrationActor.Subscribe(twice.getRef()));
    agent.tell(new RegistrationActor.Subscribe(twice.getRef()));
    assertEquals(first, twice.receiveMessage(AWAIT).vpsId());
    assertEquals(first, twice.receiveMessage(AWAIT).vpsId());

    assertTrue(admin(devApi).deleteVps(first), "the admin deletes the VPS");
    String again = events.receiveMessage(AWAIT).vpsId();
    assertNotEquals(first, again);
    // Told in subscription order, in one go: the second subscriber's events are already queued.
    assertEquals(again, twice.receiveMessage(AWAIT).vpsId());
    twice.expectNoMessage(Duration.ZERO);
  }

  /**
   * A subscriber that stopped is forgotten: a re-registration sends it nothing (no dead letter).
   */
  @Test
  void aStoppedSubscriberIsForgotten() {
    String hostname = hostname();
    TestProbe<DeadLetter> deadLetters = testKit.createTestProbe();
    testKit
        .system()
        .eventStream()
        .tell(new EventStream.Subscribe<>(DeadLetter.class, deadLetters.getRef()));
    TestProbe<RegistrationActor.Registered> events = testKit.createTestProbe();
    TestProbe<RegistrationActor.Registered> doomed = testKit.createTestProbe();
    ActorRef<RegistrationActor.Command> agent = spawnAgent(hostname);
    agent.tell(new RegistrationActor.Subscribe(events.getRef()));
    agent.tell(new RegistrationActor.Subscribe(doomed.getRef()));
    String first = events.receiveMessage(AWAIT).vpsId();
    assertEquals(first, doomed.receiveMessage(AWAIT).vpsId());
    doomed.stop();

    assertTrue(admin(devApi).deleteVps(first), "the admin deletes the VPS");
    assertNotEquals(first, events.receiveMessage(AWAIT).vpsId());
    // Sent to a stopped subscriber, a Registered would be published as a dead letter by now or
    // within moments; nothing else in this test makes dead letters.
    deadLetters.expectNoMessage(Duration.ofMillis(500));
  }

  /**
   * A heartbeat answered with another VPS id (sigma-api re-created the record): the actor follows
   * it, counts it as a registration and tells its subscribers.
   */
  @Test
  void aHeartbeatAnsweredWithAnotherIdIsFollowed() {
    String hostname = hostname();
    String other = "0b5e3c1a-7f2d-4c8e-9a61-3d2f4e5a6b7c";
    try (LogCapture logs = new LogCapture(RegistrationActor.class)) {
      TestProbe<RegistrationActor.Registered> events = testKit.createTestProbe();
      ActorRef<RegistrationActor.Command> agent = spawnAgent(hostname);
      agent.tell(new RegistrationActor.Subscribe(events.getRef()));
      String first = events.receiveMessage(AWAIT).vpsId();
      devApi
          .faults()
          .failNext(
              EndpointKind.HEARTBEAT,
              1,
              new Fault.Answer(
                  200,
                  Fault.JSON,
                  "{\"id\":\""
                      + other
                      + "\",\"hostname\":\""
                      + hostname
                      + "\",\"status\":\"active\"}"));
      assertEquals(new RegistrationActor.Registered(other, hostname), events.receiveMessage(AWAIT));
      assertEquals(2, status.registrationSuccesses());
      assertTrue(
          logs.messages(Level.INFO)
              .contains("sigma-api now knows this VPS as " + other + " (was " + first + ")"),
          logs.messages(Level.INFO).toString());
    }
  }

  /** A heartbeat refused for its key says which setting to fix, and the loop goes on. */
  @Test
  void aRefusedHeartbeatNamesTheKeySettingAndTheLoopGoesOn() {
    String hostname = hostname();
    try (LogCapture logs = new LogCapture(RegistrationActor.class)) {
      spawnAgent(hostname);
      awaitHeartbeats(1);
      devApi.faults().failNext(EndpointKind.HEARTBEAT, 2, Fault.status(401));
      long before = status.heartbeatSuccesses();
      awaitHeartbeats(before + 1);
      assertEquals(2, status.heartbeatFailures());
      List<String> errors = logs.messages(Level.ERROR);
      assertEquals(2, errors.size(), errors.toString());
      for (String error : errors) {
        assertTrue(
            error.matches(
                "Heartbeat refused by sigma-api \\(.*401.*\\): set --api-key / SIGMA_API_KEY to a "
                    + "valid key. Retrying in \\d+s"),
            error);
      }
      assertTrue(status.isRegistered(), "a refused heartbeat does not deregister");
    }
  }

  /** Host facts with fixed addresses and a small fixed system_info that keeps its public_ip. */
  private static HostFacts fixedHost(String hostname, List<IpAddress> addresses) {
    return new FixedHostFacts(
        hostname, addresses, new SystemFacts(2, 512, 10, 1, 100, List.of(0.5, 0.25, 0.125)));
  }

  private ActorRef<RegistrationActor.Command> spawnAgent(HostFacts host) {
    return testKit.spawn(
        RegistrationActor.create(
            settings(Duration.ofMillis(400)),
            recording(http()),
            host,
            status,
            new SplittableRandom(1)));
  }

  /**
   * public_ip is the host's first public IPv4 address (not a private one, not an IPv6 one), none
   * when it has no public IPv4 address, and the looked-up one once the public-IP watcher found it.
   */
  @Test
  void publicIpIsTheFirstPublicIpv4AddressOrTheLookedUpOne() {
    String direct = hostname();
    ActorRef<RegistrationActor.Command> agent =
        spawnAgent(
            fixedHost(
                direct,
                List.of(
                    new IpAddress("10.0.0.5", IpAddress.INTERNAL),
                    new IpAddress("2001:db8::5", IpAddress.PUBLIC),
                    new IpAddress("203.0.113.7", IpAddress.PUBLIC),
                    new IpAddress("203.0.113.8", IpAddress.PUBLIC))));
    assertEquals("203.0.113.7", awaitVps(direct).systemInfo().path("public_ip").asText());

    String natted = hostname();
    spawnAgent(
        fixedHost(
            natted,
            List.of(
                new IpAddress("10.0.0.6", IpAddress.INTERNAL),
                new IpAddress("2001:db8::6", IpAddress.PUBLIC))));
    JsonNode info = awaitVps(natted).systemInfo();
    assertTrue(info.path("public_ip").isMissingNode(), info.toString());

    // A looked-up address wins over the host's own from the next heartbeat on.
    agent.tell(new RegistrationActor.PublicIpChanged(Optional.of("198.51.100.23")));
    eventually(
        () -> {
          assertEquals(
              "198.51.100.23",
              admin(devApi)
                  .vpsByHostname(direct)
                  .orElseThrow()
                  .systemInfo()
                  .path("public_ip")
                  .asText());
        });
  }

  /**
   * A failed registration that is not about the key is a warning that counts the attempts; the
   * first success says so, one after a lost registration says "again".
   */
  @Test
  void registrationFailuresAndSuccessesAreLoggedWithTheirAttemptAndWhetherItIsAgain() {
    String hostname = hostname();
    try (LogCapture logs = new LogCapture(RegistrationActor.class)) {
      devApi.faults().failNext(EndpointKind.REGISTER, 2, Fault.status(503));
      TestProbe<RegistrationActor.Registered> events = testKit.createTestProbe();
      ActorRef<RegistrationActor.Command> agent = spawnAgent(hostname);
      agent.tell(new RegistrationActor.Subscribe(events.getRef()));
      String first = events.receiveMessage(AWAIT).vpsId();
      List<String> warnings =
          logs.messages(Level.WARN).stream()
              .filter(m -> m.startsWith("Registration failed"))
              .toList();
      assertEquals(2, warnings.size(), warnings.toString());
      assertTrue(
          warnings
              .get(0)
              .matches("Registration failed \\(attempt 1\\): .*503.*Retrying in \\d+ ms"),
          warnings.get(0));
      assertTrue(
          warnings
              .get(1)
              .matches("Registration failed \\(attempt 2\\): .*503.*Retrying in \\d+ ms"),
          warnings.get(1));
      assertEquals(List.of(), logs.messages(Level.ERROR), "a 503 is not a key problem");

      assertTrue(admin(devApi).deleteVps(first), "the admin deletes the VPS");
      String again = events.receiveMessage(AWAIT).vpsId();
      assertEquals(
          List.of(
              "Registered with sigma-api as VPS "
                  + first
                  + " (hostname "
                  + hostname
                  + "); heartbeat every 0s",
              "Registered with sigma-api as VPS "
                  + again
                  + " (hostname "
                  + hostname
                  + ") again; heartbeat every 0s"),
          logs.messages(Level.INFO).stream().filter(m -> m.startsWith("Registered")).toList());
    }
  }

  /** After a 404 the agent is not registered until sigma-api takes it back. */
  @Test
  void aHeartbeat404DeregistersUntilTheRegistrationPasses() {
    String hostname = hostname();
    spawnAgent(hostname);
    String id = awaitVps(hostname).id();
    awaitHeartbeats(1);
    assertTrue(status.isRegistered());
    devApi.faults().failAlways(EndpointKind.REGISTER, Fault.status(503));
    assertTrue(admin(devApi).deleteVps(id), "the admin deletes the VPS");
    eventually(
        () -> {
          assertTrue(status.registrationFailures() >= 1);
        });
    assertFalse(status.isRegistered());
    devApi.faults().clear();
    eventually(
        () -> {
          assertTrue(status.isRegistered());
        });
  }

  /**
   * A failed heartbeat is retried no sooner than one interval (-10%) even though the backoff would
   * allow it, and the first success after it says how long the failures lasted.
   */
  @Test
  void aFailedHeartbeatIsRetriedNoFasterThanTheIntervalAndItsEndIsLogged() {
    try (LogCapture logs = new LogCapture(RegistrationActor.class)) {
      spawnAgent(hostname());
      awaitHeartbeats(1);
      devApi.faults().failNext(EndpointKind.HEARTBEAT, 1, Fault.status(503));
      eventually(
          () -> {
            assertTrue(
                logs.messages(Level.INFO).stream()
                    .anyMatch(
                        m ->
                            m.matches(
                                "Heartbeats succeed again after 1 failure\\(s\\) over \\d+ s")),
                logs.messages(Level.INFO).toString());
          });
      assertEquals(1, status.heartbeatFailures());
      assertEquals(1, status.registrationSuccesses(), "no restart, no second registration");
      List<Instant> sent = List.copyOf(heartbeatsSent);
      for (int i = 1; i < sent.size(); i++) {
        long gap = Duration.between(sent.get(i - 1), sent.get(i)).toMillis();
        assertTrue(
            gap >= INTERVAL.toMillis() * 9 / 10 - 5,
            "heartbeat " + i + " came after only " + gap + " ms");
      }
    }
  }

  /**
   * A host read that fails (not stalls) sends the facts last read; one warning names the cause, and
   * one line says when reads work again.
   */
  @Test
  void aFailedHostReadSendsTheFactsLastReadAndReadsAgain() {
    String hostname = hostname();
    List<IpAddress> addresses = List.of(new IpAddress("203.0.113.7", IpAddress.PUBLIC));
    AtomicInteger reads = new AtomicInteger();
    HostFacts fixed = fixedHost(hostname, addresses);
    HostFacts flaky =
        new HostFacts() {
          @Override
          public String hostname() {
            return hostname;
          }

          @Override
          public List<IpAddress> addresses() {
            int read = reads.incrementAndGet();
            if (read == 2 || read == 3) {
              throw new IllegalStateException("boom");
            }
            return addresses;
          }

          @Override
          public SystemInfo systemInfo(Integer metricsPort, String publicIp) {
            return fixed.systemInfo(metricsPort, publicIp);
          }
        };
    try (LogCapture logs = new LogCapture(RegistrationActor.class)) {
      spawnAgent(flaky);
      awaitHeartbeats(4);
      List<String> warnings =
          logs.messages(Level.WARN).stream()
              .filter(m -> m.startsWith("Reading the host facts"))
              .toList();
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(
          warnings
              .get(0)
              .matches(
                  "Reading the host facts \\(IP addresses, system_info\\) failed"
                      + " \\(java.lang.IllegalStateException: boom\\); sending the facts last read at"
                      + " \\S+Z instead, and reading again for the next request"),
          warnings.get(0));
      assertEquals(
          List.of("Host facts read again after 2 stalled or failed attempt(s)"),
          logs.messages(Level.INFO).stream()
              .filter(m -> m.startsWith("Host facts read again"))
              .toList());
      assertEquals(1, status.registrationSuccesses(), "no restart, no second registration");
      assertEquals(0, status.heartbeatFailures());
      assertEquals(addresses, admin(devApi).vpsByHostname(hostname).orElseThrow().ipAddresses());
    }
  }

  /**
   * The summary is silent for a period without heartbeats (here: never registered). Pekko names the
   * actor's logger from the stack of its first use: when that is the summary timer (50 ms here), it
   * is Pekko's ActorCell, so both loggers are captured.
   */
  @Test
  void noSummaryForPeriodsWithoutHeartbeats() throws ClassNotFoundException {
    try (LogCapture actor = new LogCapture(RegistrationActor.class);
        LogCapture cell = new LogCapture(Class.forName("org.apache.pekko.actor.ActorCell"))) {
      HttpSigmaApi wrongKey =
          new HttpSigmaApi(
              testKit.system(), URI.create(baseUrl), Optional.of(new ApiKey("wrong-key")), TIMEOUT);
      testKit.spawn(
          RegistrationActor.create(
              settings(Duration.ofMillis(400)),
              wrongKey,
              fixedHost(hostname(), List.of()),
              status,
              new SplittableRandom(1),
              new RegistrationActor.HostReads(
                  testKit.system().dispatchers().lookup(DispatcherSelector.blocking()),
                  Duration.ofSeconds(5)),
              Duration.ofMillis(50)));
      // A refused key is retried near the 400 ms cap (at least half of it): three attempts span
      // at least 400 ms, eight 50 ms summary periods.
      eventually(
          () -> {
            assertTrue(status.registrationFailures() >= 3);
          });
      List<String> messages = new java.util.ArrayList<>(actor.messages(Level.ERROR));
      messages.addAll(cell.messages(Level.ERROR));
      assertTrue(
          messages.stream().anyMatch(m -> m.startsWith("Registration refused")),
          "the captures see the actor's lines: " + messages);
      List<String> infos = new java.util.ArrayList<>(actor.messages(Level.INFO));
      infos.addAll(cell.messages(Level.INFO));
      assertEquals(List.of(), infos.stream().filter(m -> m.contains("heartbeats sent")).toList());
    }
  }

  /** An error that is not sigma-api's answer is reported by its type and message. */
  @Test
  void anErrorOutsideTheApiClientIsReportedByItsType() {
    SigmaApi broken =
        new DelegatingSigmaApi(http()) {
          @Override
          public CompletionStage<VpsRecord> register(RegisterRequest r) {
            return java.util.concurrent.CompletableFuture.failedFuture(
                new IllegalStateException("no route"));
          }
        };
    testKit.spawn(
        RegistrationActor.create(
            settings(Duration.ofMillis(400)),
            broken,
            fixedHost(hostname(), List.of()),
            status,
            new SplittableRandom(1)));
    eventually(
        () -> {
          assertTrue(status.registrationFailures() >= 1);
        });
    assertEquals(Optional.of("IllegalStateException: no route"), status.lastError());
  }
}
