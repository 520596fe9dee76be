package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.host.IpLiterals;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The cache of sigma-api's addresses, with a scripted resolver, a clock moved by hand and an
 * executor whose tasks run only when the test says so (so "never on the caller's thread" shows).
 */
class ApiHostAddressesTest {
  private static final Duration MAX_AGE = Duration.ofMinutes(5);
  private static final Duration RECHECK = Duration.ofSeconds(30);

  private final AtomicLong now = new AtomicLong(7_000_000_000L);
  private final Queue<Runnable> blockingTasks = new ArrayDeque<>();
  private final Executor blocking = blockingTasks::add;
  private final Queue<Object> answers = new ArrayDeque<>(); // List<InetAddress> or an exception
  private int lookUps;

  private final ApiHostAddresses.Resolver resolver =
      host -> {
        assertEquals("sigma-api.example", host);
        lookUps++;
        Object answer = answers.remove();
        if (answer instanceof UnknownHostException e) {
          throw e;
        }
        @SuppressWarnings("unchecked")
        List<InetAddress> addresses = (List<InetAddress>) answer;
        return addresses;
      };

  private final ApiHostAddresses api =
      new ApiHostAddresses("sigma-api.example", resolver, blocking, now::get, MAX_AGE, RECHECK);

  private static InetAddress ip(String text) {
    return IpLiterals.parse(text).orElseThrow();
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  private void runBlockingTasks() {
    while (!blockingTasks.isEmpty()) {
      blockingTasks.remove().run();
    }
  }

  /** The answer, which must be there without running any blocking task. */
  private static boolean immediate(CompletionStage<Boolean> answer) {
    CompletableFuture<Boolean> future = answer.toCompletableFuture();
    assertTrue(future.isDone(), "answered without a look-up");
    return future.join();
  }

  /** The answer after the look-up it waits for, which runs on the blocking executor. */
  private boolean afterLookUp(CompletionStage<Boolean> answer) {
    CompletableFuture<Boolean> future = answer.toCompletableFuture();
    assertFalse(future.isDone(), "waits for the look-up, which runs on the blocking executor");
    runBlockingTasks();
    assertTrue(future.isDone());
    return future.join();
  }

  @Test
  void theFirstCallerWaitsForTheLookUpOnTheBlockingExecutor() {
    answers.add(List.of(ip("198.51.100.7"), ip("2001:db8::7")));
    assertTrue(afterLookUp(api.contains(ip("198.51.100.7"))));
    assertTrue(immediate(api.contains(ip("2001:db8::7"))));
    assertEquals(1, lookUps);
  }

  @Test
  void strangersCauseAtMostOneLookUpPerRecheckInterval() {
    answers.add(List.of(ip("198.51.100.7")));
    assertFalse(afterLookUp(api.contains(ip("203.0.113.1"))));
    for (int i = 0; i < 50; i++) {
      assertFalse(immediate(api.contains(ip("203.0.113." + (i + 2)))));
    }
    assertEquals(1, lookUps);
    advance(RECHECK);
    answers.add(List.of(ip("198.51.100.7")));
    assertFalse(afterLookUp(api.contains(ip("203.0.113.1"))));
    assertEquals(2, lookUps);
  }

  @Test
  void aChangedAddressIsFoundByLookingUpAgainOnAFailedMatch() {
    answers.add(List.of(ip("198.51.100.7")));
    assertTrue(afterLookUp(api.contains(ip("198.51.100.7"))));
    advance(RECHECK);
    answers.add(List.of(ip("198.51.100.99"))); // sigma-api moved
    assertTrue(afterLookUp(api.contains(ip("198.51.100.99"))));
    assertFalse(
        immediate(api.contains(ip("198.51.100.7"))), "the old address is no longer sigma-api");
  }

  @Test
  void aStaleCacheStillAnswersAtOnceAndIsRefreshedInTheBackground() {
    answers.add(List.of(ip("198.51.100.7")));
    assertTrue(afterLookUp(api.contains(ip("198.51.100.7"))));
    advance(MAX_AGE);
    assertTrue(immediate(api.contains(ip("198.51.100.7"))), "sigma-api never waits for DNS");
    assertEquals(1, blockingTasks.size(), "a refresh was started");
    answers.add(List.of(ip("198.51.100.8")));
    runBlockingTasks();
    assertFalse(immediate(api.contains(ip("198.51.100.7"))), "dropped once DNS dropped it");
    assertEquals(2, lookUps);
  }

  @Test
  void aFailedLookUpKeepsTheLastKnownAddresses() {
    answers.add(List.of(ip("198.51.100.7")));
    assertTrue(afterLookUp(api.contains(ip("198.51.100.7"))));
    advance(MAX_AGE);
    answers.add(new UnknownHostException("sigma-api.example: Name or service not known"));
    assertTrue(immediate(api.contains(ip("198.51.100.7"))));
    runBlockingTasks();
    assertTrue(immediate(api.contains(ip("198.51.100.7"))));
    assertTrue(api.containsCached(ip("198.51.100.7")));
    assertEquals(2, lookUps);
  }

  @Test
  void oneLookUpAtATime() {
    CompletableFuture<Boolean> first = api.contains(ip("198.51.100.7")).toCompletableFuture();
    CompletableFuture<Boolean> second = api.contains(ip("203.0.113.1")).toCompletableFuture();
    assertEquals(1, blockingTasks.size());
    answers.add(List.of(ip("198.51.100.7")));
    runBlockingTasks();
    assertTrue(first.join());
    assertFalse(second.join());
    assertEquals(1, lookUps);
  }

  @Test
  void anIpLiteralIsNeverLookedUp() {
    for (String host : List.of("198.51.100.7", "[2001:db8::7]")) {
      ApiHostAddresses literal =
          new ApiHostAddresses(
              host,
              name -> {
                throw new AssertionError("looked up " + name);
              },
              blocking,
              now::get,
              MAX_AGE,
              RECHECK);
      InetAddress address = ip(host.replace("[", "").replace("]", ""));
      assertTrue(immediate(literal.contains(address)));
      advance(MAX_AGE.multipliedBy(2));
      assertTrue(immediate(literal.contains(address)));
      assertFalse(immediate(literal.contains(ip("203.0.113.1"))));
      assertTrue(blockingTasks.isEmpty());
    }
  }

  @Test
  void containsCachedNeverLooksUp() {
    assertFalse(api.containsCached(ip("198.51.100.7")));
    assertTrue(blockingTasks.isEmpty());
  }
}
