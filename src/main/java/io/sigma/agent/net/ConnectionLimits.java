package io.sigma.agent.net;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Counts a server's open connections, in all and per client, and refuses one over either limit.
 * Clients are counted by address; IPv6 clients by /64, the block one host usually gets, so one
 * host cannot dodge the limit by cycling through its own addresses. Thread-safe: connections are
 * accepted on one stream and end on others.
 */
public final class ConnectionLimits {

  /** Why a connection was refused. */
  public enum Refusal { TOO_MANY_FROM_CLIENT, TOO_MANY_IN_ALL }

  /** One admitted connection; {@link #release()} once it has ended (idempotent). */
  public final class Lease {
    private final InetAddress client;
    private boolean released;

    private Lease(InetAddress client) {
      this.client = client;
    }

    public void release() {
      synchronized (ConnectionLimits.this) {
        if (released) {
          return;
        }
        released = true;
        total--;
        perClient.computeIfPresent(client, (key, n) -> n == 1 ? null : n - 1);
      }
    }
  }

  /** The outcome of {@link #admit}: a lease, or why not. */
  public record Admission(Optional<Lease> lease, Optional<Refusal> refusal) {}

  private final int maxTotal;
  private final int maxPerClient;
  private final Map<InetAddress, Integer> perClient = new HashMap<>();
  private int total;

  public ConnectionLimits(int maxTotal, int maxPerClient) {
    if (maxPerClient < 1 || maxTotal < maxPerClient) {
      throw new IllegalArgumentException("need 1 <= maxPerClient <= maxTotal");
    }
    this.maxTotal = maxTotal;
    this.maxPerClient = maxPerClient;
  }

  /** Admits a connection from {@code address} if both limits allow it. */
  public synchronized Admission admit(InetAddress address) {
    InetAddress client = clientOf(address);
    int fromClient = perClient.getOrDefault(client, 0);
    if (fromClient >= maxPerClient) {
      return new Admission(Optional.empty(), Optional.of(Refusal.TOO_MANY_FROM_CLIENT));
    }
    if (total >= maxTotal) {
      return new Admission(Optional.empty(), Optional.of(Refusal.TOO_MANY_IN_ALL));
    }
    total++;
    perClient.put(client, fromClient + 1);
    return new Admission(Optional.of(new Lease(client)), Optional.empty());
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
