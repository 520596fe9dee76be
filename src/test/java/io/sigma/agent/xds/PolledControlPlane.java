package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.metrics.AgentMetrics;
import io.sigma.agent.retry.Backoff;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;

/**
 * One agent's xDS side for integration tests, wired as the agent wires it: snapshot registry,
 * config poller (against a real sigma-api client), ADS server on 127.0.0.1:0 with metrics, and a
 * gRPC channel for {@link AdsTestClient}s. Registration is played by a probe: {@link #identify}
 * tells the poller its VPS id as the registration actor would. Needs an actor system with the
 * agent's config ({@code AgentRuntime.pekkoConfig()}: the poller's dispatcher).
 */
final class PolledControlPlane implements AutoCloseable {

  static final Duration AWAIT = Duration.ofSeconds(AdsTestClient.TIMEOUT_SECONDS);
  static final String HOSTNAME = "xds-it-host";

  final ActorTestKit testKit;
  final ActorRef<SnapshotRegistry.Command> registry;
  final ActorRef<ConfigPoller.Command> poller;
  final AgentMetrics metrics;
  final XdsServer server;
  final ManagedChannel channel;

  private PolledControlPlane(
      ActorTestKit testKit,
      ActorRef<SnapshotRegistry.Command> registry,
      ActorRef<ConfigPoller.Command> poller,
      AgentMetrics metrics,
      XdsServer server) {
    this.testKit = testKit;
    this.registry = registry;
    this.poller = poller;
    this.metrics = metrics;
    this.server = server;
    this.channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", server.port(), InsecureChannelCredentials.create())
            .build();
  }

  /** Starts the control plane; it polls once {@link #identify} gives it a VPS id. */
  static PolledControlPlane start(
      ActorTestKit testKit, SigmaApi api, Path stateDir, Duration pollInterval) throws Exception {
    return start(testKit, api, stateDir, pollInterval, new SplittableRandom(7));
  }

  /** As {@link #start(ActorTestKit, SigmaApi, Path, Duration)}, with the poller's random source. */
  static PolledControlPlane start(
      ActorTestKit testKit,
      SigmaApi api,
      Path stateDir,
      Duration pollInterval,
      RandomGenerator random)
      throws Exception {
    AgentMetrics metrics = new AgentMetrics(HOSTNAME, false, false);
    XdsMetrics xdsMetrics = new XdsMetrics(metrics);
    ActorRef<SnapshotRegistry.Command> registry = testKit.spawn(SnapshotRegistry.create());
    ActorRef<ConfigPoller.Command> poller =
        testKit.spawn(
            ConfigPoller.create(
                new ConfigPoller.Settings(
                    pollInterval, new Backoff(Duration.ofMillis(50), Duration.ofMillis(400))),
                api,
                registry,
                new NodeConfigStore(stateDir, Clock.systemUTC()),
                xdsMetrics,
                Clock.systemUTC(),
                random),
            DispatcherSelector.fromConfig(ConfigPoller.DISPATCHER));
    XdsServer server =
        XdsServer.start(
                testKit.system(),
                new AdsService(registry, xdsMetrics, Clock.systemUTC()),
                "127.0.0.1",
                0)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return new PolledControlPlane(testKit, registry, poller, metrics, server);
  }

  /** Tells the poller it is VPS {@code vpsId}, as a (re-)registration does. */
  void identify(String vpsId) {
    poller.tell(new ConfigPoller.VpsKnown(vpsId));
  }

  AdsTestClient connect(String nodeId) {
    return AdsTestClient.connect(channel, nodeId);
  }

  void pollNow() {
    poller.tell(new ConfigPoller.PollNow());
  }

  XdsStatus status() {
    TestProbe<XdsStatus> probe = testKit.createTestProbe();
    registry.tell(new SnapshotRegistry.GetStatus(probe.ref()));
    return probe.receiveMessage(AWAIT);
  }

  PollerStatus pollerStatus() {
    TestProbe<PollerStatus> probe = testKit.createTestProbe();
    poller.tell(new ConfigPoller.GetStatus(probe.ref()));
    return probe.receiveMessage(AWAIT);
  }

  /** Waits until {@code node} is known and satisfies {@code condition}; returns that status. */
  NodeStatus awaitNode(String node, Predicate<NodeStatus> condition) {
    TestProbe<XdsStatus> probe = testKit.createTestProbe();
    return probe.awaitAssert(
        AWAIT,
        () -> {
          registry.tell(new SnapshotRegistry.GetStatus(probe.ref()));
          NodeStatus status = probe.receiveMessage().node(node);
          assertTrue(status != null && condition.test(status), "node " + node + ": " + status);
          return status;
        });
  }

  /** Waits until the node is served at {@code version}. */
  NodeStatus awaitVersion(String node, long version) {
    return awaitNode(node, n -> n.snapshotVersion() != null && n.snapshotVersion() == version);
  }

  /** Waits until the node is served at config_version {@code version}; returns its version_info. */
  String awaitVersionInfo(String node, long version) {
    return awaitVersion(node, version).versionInfo();
  }

  /** Waits until the poller's status satisfies {@code condition}; returns it. */
  PollerStatus awaitPoller(Predicate<PollerStatus> condition) {
    TestProbe<PollerStatus> probe = testKit.createTestProbe();
    return probe.awaitAssert(
        AWAIT,
        () -> {
          poller.tell(new ConfigPoller.GetStatus(probe.ref()));
          PollerStatus status = probe.receiveMessage();
          assertTrue(condition.test(status), "poller: " + status);
          return status;
        });
  }

  /** Waits until a poll that started after this call has finished; returns the status after it. */
  PollerStatus awaitNextPoll() {
    Instant before = Instant.now();
    return awaitPoller(s -> s.lastPollAt() != null && s.lastPollAt().isAfter(before));
  }

  /** Where {@code typeUrl} stands on the node's first (in these tests: only) stream. */
  static ResourceTypeStatus type(NodeStatus node, String typeUrl) {
    return node.streams().get(0).type(typeUrl);
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.stop(Duration.ofSeconds(1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    testKit.stop(poller, AWAIT);
    testKit.stop(registry, AWAIT);
  }
}
