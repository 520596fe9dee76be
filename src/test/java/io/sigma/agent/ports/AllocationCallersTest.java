package io.sigma.agent.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sigma.agent.host.Cidr;
import io.sigma.agent.host.IpLiterals;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AllocationCallersTest {
  private static final ApiHostAddresses API =
      new ApiHostAddresses(
          "198.51.100.7",
          host -> {
            throw new AssertionError("a literal is never looked up");
          },
          Runnable::run,
          System::nanoTime,
          Duration.ofMinutes(5),
          Duration.ofSeconds(30));

  private static InetAddress ip(String text) {
    return IpLiterals.parse(text).orElseThrow();
  }

  /** What a dual-stack socket may report for an IPv4 peer: an Inet6Address ::ffff:a.b.c.d. */
  private static InetAddress mapped(String ipv4) throws Exception {
    byte[] bytes = new byte[16];
    bytes[10] = (byte) 0xff;
    bytes[11] = (byte) 0xff;
    System.arraycopy(ip(ipv4).getAddress(), 0, bytes, 12, 4);
    return assertInstanceOf(Inet6Address.class, Inet6Address.getByAddress(null, bytes, -1));
  }

  private static Optional<AllocationCallers.Kind> classify(
      AllocationCallers callers, InetAddress peer) throws Exception {
    return callers.classify(peer).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void loopbackIsExactly127001AndColonColon1() throws Exception {
    AllocationCallers callers = new AllocationCallers(List.of(), Optional.of(API));
    assertEquals(Optional.of(AllocationCallers.Kind.LOOPBACK), classify(callers, ip("127.0.0.1")));
    assertEquals(Optional.of(AllocationCallers.Kind.LOOPBACK), classify(callers, ip("::1")));
    assertEquals(Optional.empty(), classify(callers, ip("127.0.0.2")));
    assertEquals(Optional.empty(), classify(callers, ip("203.0.113.9")));
  }

  @Test
  void sigmaApiAndTheAllowedRangesGetIn() throws Exception {
    AllocationCallers callers =
        new AllocationCallers(
            List.of(Cidr.parse("10.1.0.0/16"), Cidr.parse("2001:db8::/32")), Optional.of(API));
    assertEquals(
        Optional.of(AllocationCallers.Kind.SIGMA_API), classify(callers, ip("198.51.100.7")));
    assertEquals(
        Optional.of(AllocationCallers.Kind.ALLOWED_RANGE), classify(callers, ip("10.1.2.3")));
    assertEquals(
        Optional.of(AllocationCallers.Kind.ALLOWED_RANGE), classify(callers, ip("2001:db8::5")));
    assertEquals(Optional.empty(), classify(callers, ip("10.2.0.1")));
    assertEquals(Optional.empty(), classify(callers, ip("198.51.100.8")));
  }

  @Test
  void sigmaApiInsideAnAllowedRangeStaysSigmaApiSoItIsNeverRateLimited() throws Exception {
    AllocationCallers callers =
        new AllocationCallers(List.of(Cidr.parse("198.51.100.0/24")), Optional.of(API));
    assertEquals(
        Optional.of(AllocationCallers.Kind.SIGMA_API), classify(callers, ip("198.51.100.7")));
    assertEquals(
        Optional.of(AllocationCallers.Kind.ALLOWED_RANGE), classify(callers, ip("198.51.100.8")));
  }

  @Test
  void ipv4MappedPeersMatchIpv4RangesSigmaApiAndLoopback() throws Exception {
    AllocationCallers callers =
        new AllocationCallers(List.of(Cidr.parse("10.1.0.0/16")), Optional.of(API));
    assertEquals(
        Optional.of(AllocationCallers.Kind.ALLOWED_RANGE), classify(callers, mapped("10.1.2.3")));
    assertEquals(
        Optional.of(AllocationCallers.Kind.SIGMA_API), classify(callers, mapped("198.51.100.7")));
    assertEquals(
        Optional.of(AllocationCallers.Kind.LOOPBACK), classify(callers, mapped("127.0.0.1")));
    assertEquals(Optional.empty(), classify(callers, mapped("10.2.0.1")));
  }

  @Test
  void normaliseTurnsOnlyMappedAddressesIntoIpv4() throws Exception {
    InetAddress v4 = AllocationCallers.normalise(mapped("10.1.2.3"));
    assertInstanceOf(Inet4Address.class, v4);
    assertEquals("10.1.2.3", IpLiterals.format(v4));
    assertEquals(
        ip("2001:db8::ffff:a01:203"), AllocationCallers.normalise(ip("2001:db8::ffff:a01:203")));
    assertEquals(ip("::a01:203"), AllocationCallers.normalise(ip("::a01:203")));
  }

  @Test
  void withoutSigmaApiOnlyLoopbackAndRanges() throws Exception {
    AllocationCallers callers = new AllocationCallers(List.of(), Optional.empty());
    assertEquals(Optional.empty(), classify(callers, ip("198.51.100.7")));
    assertEquals(Optional.of(AllocationCallers.Kind.LOOPBACK), classify(callers, ip("127.0.0.1")));
  }

  @Test
  void onlyAZeroLengthPrefixOpensToEveryone() {
    assertTrue(
        AllocationCallers.opensToEveryone(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::/0"))));
    assertTrue(AllocationCallers.opensToEveryone(List.of(Cidr.parse("0.0.0.0/0"))));
    assertFalse(
        AllocationCallers.opensToEveryone(
            List.of(Cidr.parse("0.0.0.0/1"), Cidr.parse("128.0.0.0/1"))));
    assertFalse(AllocationCallers.opensToEveryone(List.of()));
  }
}
