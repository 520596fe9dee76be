package io.sigma.agent.ports;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Hands out free ports of a range for {@code POST /ports/allocate}, so that no two answers contain
 * the same port while the first caller is still configuring Envoy on it.
 *
 * <p>A port is handed out only if, at that moment:
 *
 * <ol>
 *   <li>no earlier answer of the last {@code reservation} (default 30 s) contained it,
 *   <li>the latest scan did not see it occupied (the scan is only a hint to skip known-busy ports
 *       fast: a stale scan costs at most a few ports skipped that just became free), and
 *   <li>a TCP bind to {@code 0.0.0.0:port} succeeds ({@link PortBindCheck}, normally a {@link
 *       BindProbe}): the ground truth, which also catches sockets opened since the scan.
 * </ol>
 *
 * Before the first scan completes, rule 2 is simply skipped: every candidate is still bind-tested,
 * so the answer is as correct, only the search is slower.
 *
 * <p>The search starts after the last port handed out and wraps around the range, so a port that
 * comes back from a caller who never used it is reused as late as possible. An answer is
 * all-or-nothing: when fewer than {@code count} ports qualify, nothing is reserved.
 *
 * <p>Thread-safe: {@link #allocate} is synchronized, so reservation and bind tests of concurrent
 * callers never interleave (100 ports: about 0.5 ms median, see AllocationBenchmark). It blocks for
 * the bind tests: call it from a blocking-IO executor.
 */
public final class PortAllocator {
  /** The most ports one request may ask for. */
  public static final int MAX_COUNT = 1000;

  /** The answer to one request. */
  public sealed interface Allocation {
    /** {@code ports} (distinct, in search order) are now reserved for the caller. */
    record Granted(List<Integer> ports) implements Allocation {
      public Granted {
        ports = List.copyOf(ports);
      }
    }

    /** Only {@code free} of the {@code requested} ports qualified; nothing was reserved. */
    record Insufficient(int requested, int free) implements Allocation {}
  }

  private record Reservation(int port, Instant until) {}

  private final PortRange range;
  private final LatestPortScan latest;
  private final PortBindCheck bindCheck;
  private final Duration reservation;
  private final Clock clock;

  // guarded by this
  private final BitSet reserved = new BitSet();
  private final ArrayDeque<Reservation> reservations = new ArrayDeque<>();
  private int cursor;

  /**
   * @param range the ports to allocate from (the scan range)
   * @param latest the scan results to skip occupied ports by
   * @param bindCheck the bind test every handed-out port passes
   * @param reservation how long a handed-out port is withheld from later answers (0: never)
   * @param clock measures the reservation window
   */
  public PortAllocator(
      PortRange range,
      LatestPortScan latest,
      PortBindCheck bindCheck,
      Duration reservation,
      Clock clock) {
    this.range = Objects.requireNonNull(range, "range");
    this.latest = Objects.requireNonNull(latest, "latest");
    this.bindCheck = Objects.requireNonNull(bindCheck, "bindCheck");
    this.reservation = Objects.requireNonNull(reservation, "reservation");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (reservation.isNegative()) {
      throw new IllegalArgumentException("negative reservation " + reservation);
    }
    this.cursor = range.first();
  }

  public PortRange range() {
    return range;
  }

  /**
   * Finds, bind-tests and reserves {@code count} distinct ports.
   *
   * @throws IllegalArgumentException unless {@code 1 <= count <= }{@value #MAX_COUNT}
   */
  public synchronized Allocation allocate(int count) {
    if (count < 1 || count > MAX_COUNT) {
      throw new IllegalArgumentException(
          "count must be between 1 and " + MAX_COUNT + ", was " + count);
    }
    Instant now = clock.instant();
    expireReservations(now);
    Optional<PortScan> scan = latest.get().filter(s -> s.range().equals(range));

    // Ports neither reserved nor seen occupied: the most this answer can contain.
    BitSet excluded = scan.map(PortScan::occupied).orElseGet(BitSet::new);
    excluded.or(reserved);
    int candidates = range.size() - excluded.get(range.first(), range.last() + 1).cardinality();
    if (candidates < count) {
      return new Allocation.Insufficient(count, candidates);
    }

    List<Integer> found = new ArrayList<>(count);
    int size = range.size();
    int port = cursor;
    for (int visited = 0; visited < size && found.size() < count; visited++) {
      if (!excluded.get(port) && bindCheck.canBind(port)) {
        found.add(port);
      }
      port = port == range.last() ? range.first() : port + 1;
    }
    if (found.size() < count) {
      return new Allocation.Insufficient(count, found.size());
    }
    cursor = port;
    if (!reservation.isZero()) {
      Instant until = now.plus(reservation);
      for (int granted : found) {
        reserved.set(granted);
        reservations.addLast(new Reservation(granted, until));
      }
    }
    return new Allocation.Granted(found);
  }

  /** Ports currently withheld by reservations. */
  public synchronized int reservedCount() {
    expireReservations(clock.instant());
    return reserved.cardinality();
  }

  /**
   * Drops the reservations that ended. They were added in time order, so the ended ones are at the
   * head (if the clock stepped back, a later one may linger: longer, never shorter).
   */
  private void expireReservations(Instant now) {
    while (!reservations.isEmpty() && !reservations.peekFirst().until().isAfter(now)) {
      reserved.clear(reservations.pollFirst().port());
    }
  }
}
