package io.sigma.agent.api;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Scheduler;
import scala.concurrent.ExecutionContext;

/**
 * Admission to one connection pool: at most {@code connections} requests are handed to the pool at
 * once, so the pool never queues and a request handed over is sent on a connection at once; the
 * rest wait here, at most {@code maxWaiting} of them and each at most {@code maxWait}. A slot is
 * taken until the started call completes (its response body read or failed, i.e. its pooled
 * connection is free again), not until its caller gives up. Thread-safe.
 */
final class RequestLane {
  private final String name;
  private final int connections;
  private final int maxWaiting;
  private final Duration maxWait;
  private final Scheduler scheduler;
  private final ExecutionContext executor;
  private final ArrayDeque<Waiter<?>> waiting = new ArrayDeque<>();
  private int busy;

  RequestLane(
      String name,
      int connections,
      int maxWaiting,
      Duration maxWait,
      Scheduler scheduler,
      ExecutionContext executor) {
    if (connections < 1 || maxWaiting < 0) {
      throw new IllegalArgumentException(
          "lane " + name + ": " + connections + " connections, " + maxWaiting + " waiting");
    }
    this.name = name;
    this.connections = connections;
    this.maxWaiting = maxWaiting;
    this.maxWait = maxWait;
    this.scheduler = scheduler;
    this.executor = executor;
  }

  /**
   * Starts {@code call} once a slot is free; completes with the started call at that moment (so the
   * caller's deadline can start there), or fails with a {@link SigmaApiException.Kind#TIMEOUT} when
   * no slot freed within {@code maxWait} or too many requests wait already.
   */
  <T> CompletionStage<CompletableFuture<T>> admit(
      String what, Supplier<CompletableFuture<T>> call) {
    Waiter<T> waiter = new Waiter<>(what, call);
    synchronized (this) {
      if (busy < connections) {
        busy++;
      } else if (waiting.size() >= maxWaiting) {
        return CompletableFuture.failedFuture(
            SigmaApiException.timeout(
                what
                    + " not sent: "
                    + waiting.size()
                    + " requests already wait for a connection of the "
                    + name
                    + " lane"));
      } else {
        waiting.add(waiter);
        waiter.expiry =
            scheduler.scheduleOnce(
                scala.concurrent.duration.Duration.fromNanos(maxWait.toNanos()),
                () -> expire(waiter),
                executor);
        return waiter.admitted;
      }
    }
    start(waiter);
    return waiter.admitted;
  }

  private void expire(Waiter<?> waiter) {
    synchronized (this) {
      if (!waiting.remove(waiter)) {
        return; // started meanwhile
      }
    }
    waiter.admitted.completeExceptionally(
        SigmaApiException.timeout(
            waiter.what
                + " not sent: no "
                + "connection of the "
                + name
                + " lane was free within "
                + maxWait.toMillis()
                + " ms ("
                + connections
                + " busy)"));
  }

  private <T> void start(Waiter<T> waiter) {
    CompletableFuture<T> started;
    try {
      started = waiter.call.get();
    } catch (RuntimeException e) {
      started = CompletableFuture.failedFuture(e);
    }
    started.whenComplete((value, error) -> release());
    waiter.admitted.complete(started);
  }

  private void release() {
    Waiter<?> next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) {
        busy--;
        return;
      }
      // the slot passes straight to the next waiter: busy stays as it is
    }
    if (next.expiry != null) {
      next.expiry.cancel();
    }
    start(next);
  }

  private static final class Waiter<T> {
    final String what;
    final Supplier<CompletableFuture<T>> call;
    final CompletableFuture<CompletableFuture<T>> admitted = new CompletableFuture<>();
    volatile Cancellable expiry;

    Waiter(String what, Supplier<CompletableFuture<T>> call) {
      this.what = what;
      this.call = call;
    }
  }
}
