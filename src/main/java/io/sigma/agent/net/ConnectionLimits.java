package io.sigma.agent.net;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Counts a server's open connections, in all and per client. Clients are counted by address; IPv6
 * clients by /64, the block one host usually gets, so one host cannot dodge the limit by cycling
 * through its own addresses.
 *
 * <p>At a limit a new connection evicts the connection that has been waiting longest for a request
 * head (one in the middle of a request is never evicted): at the per-client limit one of that
 * client's own, at the total limit anyone's. It is refused only when every candidate is in the
 * middle of a request. So a slowloris from one address only recycles its own slots, and attackers
 * from many addresses, each under the per-client limit, cannot lock everyone else out until their
 * head deadlines pass (refusing newcomers would, and again as soon as they reconnect). Thread-safe:
 * connections are accepted on one stream and end on others.
 */
public final class ConnectionLimits {

  /** A limit a connection ran into. */
  public enum Limit {
    PER_CLIENT,
    TOTAL
  }

  /**
   * One admitted connection: it reports whether it is waiting for a request head, says how to close
   * it if evicted, and is {@link #release()}d once it has ended (idempotent).
   */
  public final class Lease {
    private static final long IN_REQUEST = Long.MAX_VALUE;
    private final InetAddress client;
    private boolean released;
    private volatile long awaitingHeadSince = System.nanoTime();
    private volatile Runnable evict = () -> {};

    private Lease(InetAddress client) {
      this.client = client;
    }

    /** The connection is between requests (or new): evictable, oldest first. */
    public void awaitingHead() {
      awaitingHeadSince = System.nanoTime();
    }

    /** The connection has delivered a request head: not evictable until its response is out. */
    public void inRequest() {
      awaitingHeadSince = IN_REQUEST;
    }

    /** How to close the connection when it is evicted (runs outside the limits' lock). */
    public void onEvict(Runnable closer) {
      evict = closer;
    }

    public void release() {
      synchronized (ConnectionLimits.this) {
        if (released) {
          return;
        }
        released = true;
        total--;
        leases.remove(this);
        perClient.computeIfPresent(client, (key, n) -> n == 1 ? null : n - 1);
      }
    }

    public InetAddress client() {
      return client;
    }
  }

  /**
   * The outcome of {@link #admit}: a lease, or none; {@code limit} the limit the connection ran
   * into, if any; {@code evicted} the connection closed to make room, if one was (without a lease
   * and an eviction, the connection is refused).
   */
  public record Admission(Optional<Lease> lease, Optional<Limit> limit, Optional<Lease> evicted) {}

  private final int maxTotal;
  private final int maxPerClient;
  private final Map<InetAddress, Integer> perClient = new HashMap<>();
  private final Set<Lease> leases = new HashSet<>();
  private int total;

  public ConnectionLimits(int maxTotal, int maxPerClient) {
    if (maxPerClient < 1 || maxTotal < maxPerClient) {
      throw new IllegalArgumentException("need 1 <= maxPerClient <= maxTotal");
    }
    this.maxTotal = maxTotal;
    this.maxPerClient = maxPerClient;
  }

  /**
   * Admits a connection from {@code address}, evicting the longest-waiting connection between
   * requests (of that client, or of all) when a limit is reached.
   */
  public Admission admit(InetAddress address) {
    InetAddress client = clientOf(address);
    Lease evicted = null;
    Lease admitted;
    Limit limit = null;
    synchronized (this) {
      if (perClient.getOrDefault(client, 0) >= maxPerClient) {
        limit = Limit.PER_CLIENT;
        evicted = longestAwaitingHead(client);
      } else if (total >= maxTotal) {
        limit = Limit.TOTAL;
        evicted = longestAwaitingHead(null);
      }
      if (limit != null && evicted == null) {
        return new Admission(Optional.empty(), Optional.of(limit), Optional.empty());
      }
      if (evicted != null) {
        evicted.release();
      }
      total++;
      perClient.merge(client, 1, Integer::sum);
      admitted = new Lease(client);
      leases.add(admitted);
    }
    if (evicted != null) {
      evicted.evict.run();
    }
    return new Admission(
        Optional.of(admitted), Optional.ofNullable(limit), Optional.ofNullable(evicted));
  }

  /** Of {@code client}'s connections (all if null), the one waiting longest for a head. */
  private Lease longestAwaitingHead(InetAddress client) {
    Lease oldest = null;
    for (Lease lease : leases) {
      long since = lease.awaitingHeadSince;
      if (since != Lease.IN_REQUEST
          && (client == null || lease.client.equals(client))
          && (oldest == null || since - oldest.awaitingHeadSince < 0)) {
        oldest = lease;
      }
    }
    return oldest;
  }

  public synchronized int open() {
    return total;
  }

  public synchronized int openFrom(InetAddress address) {
    return perClient.getOrDefault(clientOf(address), 0);
  }

  /** The key a client is counted under: its IPv4 address, or its IPv6 /64. */
  static InetAddress clientOf(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address;
    }
    byte[] bytes = address.getAddress();
    for (int i = 8; i < 16; i++) {
      bytes[i] = 0;
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("16 bytes are always an IPv6 address", e);
    }
  }
}
