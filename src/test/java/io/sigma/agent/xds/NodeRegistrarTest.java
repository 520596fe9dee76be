package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import io.sigma.agent.api.CreateEnvoyNodeRequest;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.SigmaApiException;
import io.sigma.agent.host.LogCapture;
import io.sigma.agent.testing.DelegatingSigmaApi;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The registrar child between a registry and a poller (probes) and a sigma-api client whose answers
 * each test picks: created, refused (4xx) or failed (5xx).
 */
class NodeRegistrarTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration AWAIT = Duration.ofSeconds(10);

  private final TestProbe<SnapshotRegistry.Command> registry = testKit.createTestProbe();
  private final TestProbe<ConfigPoller.Command> poller = testKit.createTestProbe();
  private final BlockingQueue<CreateEnvoyNodeRequest> requests = new LinkedBlockingQueue<>();

  /** The HTTP status sigma-api answers per node.id (absent: 201). */
  private final Map<String, Integer> refusals = new ConcurrentHashMap<>();

  private final LogCapture logs = new LogCapture(NodeRegistrar.class);
  private ActorRef<SnapshotRegistry.ConnectedNodes> connected;
  private ActorRef<NodeRegistrar.Command> registrar;

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void closeLogs() {
    logs.close();
  }

  private void start() {
    registrar =
        testKit.spawn(
            NodeRegistrar.create(
                new DelegatingSigmaApi(null) {
                  @Override
                  public CompletionStage<EnvoyNode> createEnvoyNode(CreateEnvoyNodeRequest r) {
                    requests.add(r);
                    Integer status = refusals.get(r.nodeId());
                    if (status != null) {
                      return CompletableFuture.failedFuture(
                          SigmaApiException.httpStatus(status, "refused"));
                    }
                    return CompletableFuture.completedFuture(
                        new EnvoyNode(
                            "uuid-" + r.nodeId(),
                            r.vpsId(),
                            r.nodeId(),
                            null,
                            r.description(),
                            1,
                            "active",
                            null,
                            null));
                  }
                },
                registry.ref(),
                poller.ref(),
                new PollerEvents() {}));
    connected =
        registry.expectMessageClass(SnapshotRegistry.WatchConnectedNodes.class, AWAIT).watcher();
  }

  private void connect(String... nodeIds) {
    connected.tell(new SnapshotRegistry.ConnectedNodes(Set.of(nodeIds)));
  }

  private CreateEnvoyNodeRequest nextRequest() throws InterruptedException {
    CreateEnvoyNodeRequest request = requests.poll(AWAIT.toSeconds(), TimeUnit.SECONDS);
    assertTrue(request != null, "a registration");
    return request;
  }

  /** No registration request comes (within a short wait: nothing else to await). */
  private void expectNoRequest() throws InterruptedException {
    assertEquals(null, requests.poll(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void anUnknownConnectedNodeIsRegisteredOnceTheListingIsKnownAndThePollerPolls() throws Exception {
    start();
    connect("edge", "newbie");
    expectNoRequest();
    registrar.tell(new NodeRegistrar.VpsChanged("vps-1"));
    expectNoRequest();
    registrar.tell(new NodeRegistrar.Listed("vps-1", Set.of("edge")));
    CreateEnvoyNodeRequest request = nextRequest();
    assertEquals("vps-1", request.vpsId());
    assertEquals("newbie", request.nodeId());
    assertEquals(ConfigPoller.AUTO_REGISTERED_DESCRIPTION, request.description());
    assertEquals("active", request.status());
    poller.expectMessage(AWAIT, new ConfigPoller.PollNow());
    registrar.tell(new NodeRegistrar.Listed("vps-1", Set.of("edge")));
    connect("edge", "newbie");
    expectNoRequest();
    assertTrue(
        logs.messages(Level.INFO).stream()
            .anyMatch(m -> m.contains("registered Envoy node newbie")));
  }

  @Test
  void aRefusalIsFinalAndAFailureIsRetriedAfterTheNextListing() throws Exception {
    refusals.put("exists", 409);
    refusals.put("unlucky", 503);
    start();
    registrar.tell(new NodeRegistrar.Listed("vps-1", Set.of()));
    connect("exists", "unlucky");
    List<String> first = List.of(nextRequest().nodeId(), nextRequest().nodeId());
    assertEquals(Set.of("exists", "unlucky"), Set.copyOf(first));
    poller.expectNoMessage(Duration.ofMillis(100));

    refusals.remove("unlucky");
    registrar.tell(new NodeRegistrar.Listed("vps-1", Set.of()));
    assertEquals("unlucky", nextRequest().nodeId(), "retried; the refused one is not");
    poller.expectMessage(AWAIT, new ConfigPoller.PollNow());
    expectNoRequest();
    assertTrue(logs.messages(Level.INFO).stream().anyMatch(m -> m.contains("refused to register")));
    assertTrue(
        logs.messages(Level.WARN).stream()
            .anyMatch(m -> m.contains("could not register Envoy node unlucky")));
  }

  @Test
  void nodesServedBeforeOrWithAGarbageIdAreNotRegistered() throws Exception {
    start();
    registrar.tell(new NodeRegistrar.NotToRegister(Set.of("deleted-by-an-operator")));
    String tooLong = "n".repeat(NodeRegistrar.MAX_REGISTERED_NODE_ID + 1);
    registrar.tell(new NodeRegistrar.Listed("vps-1", Set.of()));
    connect("deleted-by-an-operator", tooLong, "bell\u0007", "n".repeat(255));
    assertEquals("n".repeat(255), nextRequest().nodeId(), "at the limit: registered");
    expectNoRequest();
    assertEquals(
        2,
        logs.messages(Level.WARN).stream().filter(m -> m.contains("not registering it")).count());
  }

  @Test
  void aNewVpsIdStartsOverAndAnswersAboutTheOldOneAreIgnored() throws Exception {
    refusals.put("edge", 503);
    start();
    registrar.tell(new NodeRegistrar.Listed("vps-1", Set.of()));
    connect("edge");
    assertEquals("vps-1", nextRequest().vpsId());
    registrar.tell(new NodeRegistrar.VpsChanged("vps-2"));
    refusals.remove("edge");
    registrar.tell(new NodeRegistrar.Listed("vps-2", Set.of()));
    CreateEnvoyNodeRequest again = nextRequest();
    assertEquals("vps-2", again.vpsId(), "tried for the new id");
    poller.expectMessage(AWAIT, new ConfigPoller.PollNow());
    registrar.tell(new NodeRegistrar.Listed("vps-3", Set.of()));
    assertEquals("vps-3", nextRequest().vpsId(), "a listing of another id starts over too");
  }
}
