package io.sigma.agent.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConnectionLimitsTest {

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @Test
  void atThePerClientLimitTheClientsOwnLongestIdleConnectionIsEvicted() throws Exception {
    ConnectionLimits limits = new ConnectionLimits(10, 2);
    List<String> evicted = new ArrayList<>();
    ConnectionLimits.Lease first = limits.admit(ip("127.0.0.2")).lease().orElseThrow();
    first.onEvict(() -> evicted.add("first"));
    ConnectionLimits.Lease honest = limits.admit(ip("127.0.0.1")).lease().orElseThrow();
    honest.onEvict(() -> evicted.add("honest"));
    limits.admit(ip("127.0.0.2")).lease().orElseThrow().onEvict(() -> evicted.add("second"));

    ConnectionLimits.Admission third = limits.admit(ip("127.0.0.2"));
    assertTrue(third.lease().isPresent());
    assertEquals(Optional.of(first), third.evicted());
    assertEquals(Optional.of(ConnectionLimits.Limit.PER_CLIENT), third.limit());
    assertEquals(
        List.of("first"), evicted, "only the client's own oldest, not the older honest one");
    assertEquals(2, limits.openFrom(ip("127.0.0.2")));
    assertEquals(3, limits.open());
  }

  @Test
  void atThePerClientLimitWithAllItsConnectionsInARequestTheNewOneIsRefused() throws Exception {
    ConnectionLimits limits = new ConnectionLimits(10, 2);
    limits.admit(ip("127.0.0.2")).lease().orElseThrow().inRequest();
    limits.admit(ip("127.0.0.2")).lease().orElseThrow().inRequest();
    limits.admit(ip("127.0.0.1")).lease().orElseThrow();
    ConnectionLimits.Admission third = limits.admit(ip("127.0.0.2"));
    assertEquals(Optional.of(ConnectionLimits.Limit.PER_CLIENT), third.limit());
    assertEquals(Optional.empty(), third.evicted());
    assertTrue(limits.admit(ip("127.0.0.3")).lease().isPresent());
  }

  @Test
  void atTheTotalLimitTheConnectionWaitingLongestForAHeadIsEvicted() throws Exception {
    ConnectionLimits limits = new ConnectionLimits(3, 2);
    List<String> evicted = new ArrayList<>();
    ConnectionLimits.Lease oldest = limits.admit(ip("10.0.0.1")).lease().orElseThrow();
    oldest.onEvict(() -> evicted.add("10.0.0.1"));
    ConnectionLimits.Lease busy = limits.admit(ip("10.0.0.2")).lease().orElseThrow();
    busy.onEvict(() -> evicted.add("10.0.0.2"));
    ConnectionLimits.Lease newest = limits.admit(ip("10.0.0.3")).lease().orElseThrow();
    newest.onEvict(() -> evicted.add("10.0.0.3"));
    busy.inRequest();
    oldest.inRequest();
    oldest.awaitingHead(); // answered: waiting again, from now on

    ConnectionLimits.Admission fourth = limits.admit(ip("10.0.0.4"));
    assertTrue(fourth.lease().isPresent());
    assertEquals(Optional.of(newest), fourth.evicted());
    assertEquals(Optional.of(ConnectionLimits.Limit.TOTAL), fourth.limit());
    assertEquals(List.of("10.0.0.3"), evicted);
    assertEquals(3, limits.open());
    assertEquals(0, limits.openFrom(ip("10.0.0.3")));
  }

  @Test
  void atTheTotalLimitWithEveryConnectionInARequestTheNewOneIsRefused() throws Exception {
    ConnectionLimits limits = new ConnectionLimits(2, 2);
    limits.admit(ip("10.0.0.1")).lease().orElseThrow().inRequest();
    limits.admit(ip("10.0.0.2")).lease().orElseThrow().inRequest();
    ConnectionLimits.Admission third = limits.admit(ip("10.0.0.3"));
    assertEquals(Optional.of(ConnectionLimits.Limit.TOTAL), third.limit());
    assertEquals(Optional.empty(), third.evicted());
  }

  @Test
  void aReleasedLeaseFreesItsSlotOnceEvenIfReleasedTwice() throws Exception {
    ConnectionLimits limits = new ConnectionLimits(2, 1);
    ConnectionLimits.Lease lease = limits.admit(ip("10.0.0.1")).lease().orElseThrow();
    limits.admit(ip("10.0.0.2")).lease().orElseThrow().inRequest();
    lease.release();
    lease.release();
    assertEquals(1, limits.open());
    assertEquals(0, limits.openFrom(ip("10.0.0.1")));
    assertTrue(limits.admit(ip("10.0.0.1")).lease().isPresent());
    assertEquals(2, limits.open(), "a second release freed no second slot");
  }

  @Test
  void ipv6ClientsAreCountedPerSlash64() throws Exception {
    ConnectionLimits limits = new ConnectionLimits(10, 2);
    limits.admit(ip("2001:db8:1:2::1")).lease().orElseThrow().inRequest();
    limits.admit(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")).lease().orElseThrow().inRequest();
    assertEquals(
        Optional.of(ConnectionLimits.Limit.PER_CLIENT),
        limits.admit(ip("2001:db8:1:2::abcd")).limit());
    assertTrue(limits.admit(ip("2001:db8:1:3::1")).lease().isPresent(), "another /64");
    assertEquals(2, limits.openFrom(ip("2001:db8:1:2::77")));
  }

  @Test
  void limitsMustBeConsistent() {
    assertThrows(IllegalArgumentException.class, () -> new ConnectionLimits(1, 2));
    assertThrows(IllegalArgumentException.class, () -> new ConnectionLimits(5, 0));
  }
}
