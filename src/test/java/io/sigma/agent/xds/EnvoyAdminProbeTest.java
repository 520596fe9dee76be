package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The probe actor with a prober the test answers by hand: which answers count, and when. */
class EnvoyAdminProbeTest {

  private static final ActorTestKit kit = ActorTestKit.create();
  private static final Duration LONG = Duration.ofMinutes(10);

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** One call of the prober: the port asked and the answer the test gives. */
  private record Call(int port, CompletableFuture<EnvoyAdminProbe.Answer> answer) {}

  private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
  private final TestProbe<String> events = kit.createTestProbe();

  private ActorRef<EnvoyAdminProbe.Command> spawn(Duration interval, Duration timeout, int max) {
    return kit.spawn(
        EnvoyAdminProbe.create(
            new EnvoyAdminProbe.Settings(interval, timeout, max),
            port -> {
              CompletableFuture<EnvoyAdminProbe.Answer> answer = new CompletableFuture<>();
              calls.add(new Call(port, answer));
              return answer;
            },
            new ProbeEventsTo(events.ref())));
  }

  @Test
  void anAnswerForANodeThatMovedOrWentIsDropped() throws Exception {
    ActorRef<EnvoyAdminProbe.Command> probe = spawn(LONG, LONG, 4);
    probe.tell(listed(node("edge", 9901)));
    Call first = next();
    assertEquals(9901, first.port());

    probe.tell(listed(node("edge", 9902)));
    events.expectMessage("edge forgotten");
    Call second = next();
    assertEquals(9902, second.port());
    first.answer().complete(EnvoyAdminProbe.Answer.LIVE);
    second.answer().complete(EnvoyAdminProbe.Answer.down("HTTP 503"));
    events.expectMessage("edge down");

    probe.tell(listed(node("gone", 9903)));
    events.expectMessage("edge forgotten");
    Call third = next();
    probe.tell(listed());
    events.expectMessage("gone forgotten");
    third.answer().complete(EnvoyAdminProbe.Answer.LIVE);
    events.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aProberThatNeverAnswersOrThrowsCountsAsDown() throws Exception {
    ActorRef<EnvoyAdminProbe.Command> hanging = spawn(LONG, Duration.ofMillis(200), 4);
    hanging.tell(listed(node("hang", 9901)));
    next();
    events.expectMessage("hang down");

    ActorRef<EnvoyAdminProbe.Command> throwing =
        kit.spawn(
            EnvoyAdminProbe.create(
                new EnvoyAdminProbe.Settings(LONG, LONG, 4),
                port -> {
                  throw new IllegalStateException("broken prober");
                },
                new ProbeEventsTo(events.ref())));
    throwing.tell(listed(node("throws", 9901)));
    events.expectMessage("throws down");
  }

  @Test
  void onlyNodesWithAUsableAdminPortAreProbedOnceEach() throws Exception {
    ActorRef<EnvoyAdminProbe.Command> probe = spawn(LONG, LONG, 4);
    probe.tell(
        listed(
            node("none", null),
            node("zero", 0),
            node("too-big", 65536),
            node(" ", 9900),
            node("dup", 9901),
            node("dup", 9902)));

    assertEquals(9901, next().port());
    assertEquals(null, calls.poll(300, TimeUnit.MILLISECONDS));
  }

  @Test
  void aNodeIsProbedAgainOnlyAfterItsAnswerAndEveryInterval() throws Exception {
    ActorRef<EnvoyAdminProbe.Command> probe = spawn(Duration.ofMillis(100), LONG, 4);
    probe.tell(listed(node("slow", 9901)));
    Call first = next();
    // Ticks pass while the first probe is unanswered: no second probe of the node meanwhile.
    assertEquals(null, calls.poll(400, TimeUnit.MILLISECONDS));
    first.answer().complete(EnvoyAdminProbe.Answer.LIVE);
    events.expectMessage("slow up");
    next().answer().complete(EnvoyAdminProbe.Answer.LIVE);
    events.expectMessage("slow up");
  }

  @Test
  void settingsAreChecked() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new EnvoyAdminProbe.Settings(Duration.ZERO, Duration.ofSeconds(1), 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> new EnvoyAdminProbe.Settings(Duration.ofSeconds(1), Duration.ofSeconds(-1), 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> new EnvoyAdminProbe.Settings(Duration.ofSeconds(1), Duration.ofSeconds(1), 0));
  }

  @Test
  void aReloadedIntervalTakesEffectWithoutARestart() throws Exception {
    ActorRef<EnvoyAdminProbe.Command> probe = spawn(LONG, LONG, 4);
    probe.tell(listed(node("edge", 9901)));
    next().answer().complete(EnvoyAdminProbe.Answer.LIVE);
    events.expectMessage("edge up");
    // With a 10-minute interval the next round is far away...
    events.expectNoMessage(Duration.ofMillis(200));
    assertEquals(null, calls.peek());
    // ...until SIGHUP shortens it: rounds follow at the new interval.
    probe.tell(new EnvoyAdminProbe.IntervalChanged(Duration.ofMillis(50)));
    Call again = next();
    assertEquals(9901, again.port());
    again.answer().complete(EnvoyAdminProbe.Answer.down("HTTP 503"));
    events.expectMessage("edge down");
    assertEquals(9901, next().port());
  }

  @Test
  void aNonPositiveIntervalIsRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> new EnvoyAdminProbe.IntervalChanged(Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> new EnvoyAdminProbe.IntervalChanged(Duration.ofSeconds(-1)));
  }

  private Call next() throws InterruptedException {
    Call call = calls.poll(10, TimeUnit.SECONDS);
    if (call == null) {
      throw new AssertionError("no probe within 10 s");
    }
    return call;
  }

  private static EnvoyAdminProbe.NodesListed listed(EnvoyAdminProbe.AdminNode... nodes) {
    return new EnvoyAdminProbe.NodesListed(List.of(nodes));
  }

  private static EnvoyAdminProbe.AdminNode node(String nodeId, Integer adminPort) {
    return new EnvoyAdminProbe.AdminNode(nodeId, adminPort);
  }
}
