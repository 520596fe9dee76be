package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Admission to a lane: never more calls started than connections, a bounded and timed queue. */
class RequestLaneTest {
  private static ActorTestKit testKit;

  @BeforeAll
  static void startKit() {
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stopKit() {
    testKit.shutdownTestKit();
  }

  private RequestLane lane(int connections, int maxWaiting, Duration maxWait) {
    return new RequestLane(
        "test",
        connections,
        maxWaiting,
        maxWait,
        testKit.system().classicSystem().scheduler(),
        testKit.system().executionContext());
  }

  private static SigmaApiException failure(CompletionStage<?> stage) throws Exception {
    try {
      Object value = stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
      return fail("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return SigmaApiException.of(e).orElseGet(() -> fail("not a SigmaApiException", e));
    }
  }

  @Test
  void aWaitingCallStartsWhenASlotFreesAndNoSoonerAndOverflowFailsAtOnce() throws Exception {
    RequestLane lane = lane(1, 1, Duration.ofSeconds(30));
    AtomicInteger started = new AtomicInteger();
    CompletableFuture<String> first = new CompletableFuture<>();
    CompletableFuture<String> second = new CompletableFuture<>();
    var a =
        lane.admit(
            "GET /a",
            () -> {
              started.incrementAndGet();
              return first;
            });
    var b =
        lane.admit(
            "GET /b",
            () -> {
              started.incrementAndGet();
              return second;
            });
    SigmaApiException c = failure(lane.admit("GET /c", () -> fail("must not start")));
    assertEquals(SigmaApiException.Kind.TIMEOUT, c.kind());
    assertEquals(
        "GET /c not sent: 1 requests already wait for a connection of the test lane",
        c.getMessage());

    assertTrue(a.toCompletableFuture().isDone());
    assertFalse(b.toCompletableFuture().isDone(), "the one slot is taken");
    assertEquals(1, started.get());

    first.complete("done");
    assertEquals(
        second, b.toCompletableFuture().get(10, TimeUnit.SECONDS), "started with the freed slot");
    assertEquals(2, started.get());
  }

  @Test
  void aCallThatGetsNoSlotWithinTheWaitFailsAndNeverStarts() throws Exception {
    RequestLane lane = lane(1, 4, Duration.ofMillis(50));
    CompletableFuture<String> hog = new CompletableFuture<>();
    lane.admit("GET /hog", () -> hog);
    AtomicInteger started = new AtomicInteger();
    SigmaApiException e =
        failure(
            lane.admit(
                "POST /agent/heartbeat",
                () -> {
                  started.incrementAndGet();
                  return CompletableFuture.completedFuture("late");
                }));
    assertEquals(SigmaApiException.Kind.TIMEOUT, e.kind());
    assertTrue(
        e.getMessage()
            .startsWith(
                "POST /agent/heartbeat not sent: no connection of the test lane was "
                    + "free within 50 ms"),
        e.getMessage());

    hog.complete("done");
    var next = lane.admit("GET /next", () -> CompletableFuture.completedFuture("ok"));
    assertEquals(
        "ok", next.toCompletableFuture().get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS));
    assertEquals(0, started.get(), "the expired call was dropped, not started later");
  }

  @Test
  void aFailedCallFreesItsSlotToo() throws Exception {
    RequestLane lane = lane(1, 1, Duration.ofSeconds(30));
    CompletableFuture<String> failing = new CompletableFuture<>();
    lane.admit("GET /a", () -> failing);
    var b = lane.admit("GET /b", () -> CompletableFuture.completedFuture("b"));
    failing.completeExceptionally(new IllegalStateException("connection reset"));
    assertEquals("b", b.toCompletableFuture().get(10, TimeUnit.SECONDS).get());
  }
}
