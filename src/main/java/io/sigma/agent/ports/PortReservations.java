package io.sigma.agent.ports;

import io.sigma.agent.config.PortRange;
import io.sigma.agent.ports.PortAllocator.Allocation;
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
 * The allocator's bookkeeping, owned by the {@link PortAllocator} actor (not thread-safe): which
 * ports are reserved until when, and where the next search starts. An allocation is three steps:
 * {@link #plan} (on the actor: expire reservations, exclude reserved and scanned-busy ports),
 * {@link Search#probe} (off the actor, on the blocking dispatcher: the bind tests, on a copy of the
 * plan), {@link #reserve} (on the actor again). The actor runs one search at a time, so nothing
 * reserves between a plan and its reservation.
 */
final class PortReservations {
  private record Reservation(int port, Instant until) {}

  /** What a search turned up: the bind-tested ports, and where the next search starts. */
  record Found(List<Integer> ports, int next) {
    Found {
      ports = List.copyOf(ports);
    }
  }

  /**
   * The bind tests of one allocation: walk the range from {@code cursor}, wrapping around, and
   * bind-test every port not {@code excluded} until {@code count} pass. Touches nothing shared.
   */
  record Search(PortRange range, BitSet excluded, int cursor, int count) {
    Found probe(PortBindCheck bindCheck) {
      List<Integer> found = new ArrayList<>(count);
      int port = cursor;
      for (int visited = 0; visited < range.size() && found.size() < count; visited++) {
        if (!excluded.get(port) && bindCheck.canBind(port)) {
          found.add(port);
        }
        port = port == range.last() ? range.first() : port + 1;
      }
      return new Found(found, port);
    }
  }

  private final PortRange range;
  private final Duration reservation;
  private final Clock clock;
  private final BitSet reserved = new BitSet();
  private final ArrayDeque<Reservation> reservations = new ArrayDeque<>();
  private int cursor;

  PortReservations(PortRange range, Duration reservation, Clock clock) {
    this.range = Objects.requireNonNull(range, "range");
    this.reservation = Objects.requireNonNull(reservation, "reservation");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.cursor = range.first();
  }

  /**
   * The search for {@code count} ports, or the answer at once when fewer ports are neither reserved
   * nor seen occupied by {@code scan} (a scan of another range is ignored).
   */
  Search plan(int count, Optional<PortScan> scan) {
    expireReservations(clock.instant());
    BitSet excluded =
        scan.filter(s -> s.range().equals(range)).map(PortScan::occupied).orElseGet(BitSet::new);
    excluded.or(reserved);
    return new Search(range, excluded, cursor, count);
  }

  /** How many ports {@code search} may find at most. */
  int candidates(Search search) {
    return range.size() - search.excluded().get(range.first(), range.last() + 1).cardinality();
  }

  /** Reserves what {@code search} found if it is enough; all or nothing. */
  Allocation reserve(Search search, Found found) {
    if (found.ports().size() < search.count()) {
      return new Allocation.Insufficient(search.count(), found.ports().size());
    }
    cursor = found.next();
    if (!reservation.isZero()) {
      Instant until = clock.instant().plus(reservation);
      for (int granted : found.ports()) {
        reserved.set(granted);
        reservations.addLast(new Reservation(granted, until));
      }
    }
    return new Allocation.Granted(found.ports());
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
