package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.host.IpLiterals;
import io.sigma.agent.xds.RejectedRoute.Reason;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Property-style check of {@link RouteResourceMapper} against routes a lying or hostile sigma-api
 * could send: generated from a fixed seed (a failure reproduces), every field null, empty, huge,
 * out of range, or stuffed with control, format and non-ASCII characters, mixed with near-valid
 * values so that validation, duplicates and mapping are all exercised. The oracles are written
 * independently of the mapper's code: regular expressions and ranges from the contract.
 */
class HostileRoutesTest {

  private static final long SEED = 0x5167_4d08L;
  private static final int BATCHES = 1_000;
  private static final int MAX_BATCH = 24;

  /** Oracle for accepted names: the allowed set, 1..200 characters. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,200}");

  private static final String LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";

  /** Oracle for accepted DNS names (length and the numeric last label checked separately). */
  private static final Pattern DNS_NAME = Pattern.compile(LABEL + "(?:\\." + LABEL + ")*\\.?");

  private static final Pattern NUMERIC_LAST_LABEL = Pattern.compile("(?:.*\\.)?[0-9]+\\.?");

  private static final String[] FRAGMENTS = {
    "a",
    "Z",
    "0",
    "9",
    "-",
    "_",
    ".",
    ":",
    "/",
    "@",
    "%",
    "[",
    "]",
    " ",
    "\t",
    "\n",
    "\r",
    "\u0000",
    "\u001b[31m",
    "\u007f",
    "\u0085",
    "\u00a0",
    "\u2028",
    "\u202e",
    "\u200b",
    "\ufeff",
    "é",
    "路",
    "\ud83d\ude00",
    "\ud800",
    "\udc00",
    "xn--",
    "example",
    "com",
    "80",
    "255",
    "256",
    "010",
    "'",
    "\\",
    "*",
    "?",
    "#",
    "\"",
    "${jndi:x}",
    "::",
    "1.2.3.4",
    "%0a"
  };

  private static final String[] STRINGS = {
    null,
    "",
    " ",
    "\t",
    "\n",
    "a",
    "h",
    "tcp-proxy-hk01",
    "hk013.example.com",
    "hk013.example.com.",
    "10.0.0.1",
    "::1",
    "2001:db8::1",
    "[::1]",
    "[::1]:80",
    "1.2.3.4:80",
    "host:80",
    "http://x.example/",
    "a\u0000b",
    "\r\n",
    "x\u2028y",
    "\u202e",
    "\ud800",
    "\ud83d\ude00",
    "路由",
    "'",
    "\\",
    "%",
    "1.2.3",
    "010.0.0.1",
    "-a",
    "a-",
    ".",
    "..",
    "a..b",
    "n".repeat(200),
    "n".repeat(201),
    "x".repeat(300),
    "a".repeat(63) + ".b",
    "a".repeat(64) + ".b",
    "static",
    "STATIC",
    "strict_dns",
    "logical_dns",
    "active",
    "dynamic",
    "placeholder",
    "x".repeat(100_000),
    "\n".repeat(10_000)
  };

  private static final Integer[] NUMBERS = {
    null,
    Integer.MIN_VALUE,
    -65536,
    -1,
    0,
    1,
    2,
    3,
    5,
    80,
    300,
    301,
    65535,
    65536,
    70000,
    Integer.MAX_VALUE
  };

  private final Random random = new Random(SEED);
  private final RouteResourceMapper mapper = new RouteResourceMapper();

  @Test
  void everyRouteIsEitherMappedOrRejectedWithAReasonAndTheMapperNeverThrows() throws Exception {
    int accepted = 0;
    int routes = 0;
    Map<Reason, Integer> reasons = new EnumMap<>(Reason.class);
    for (int batch = 0; batch < BATCHES; batch++) {
      List<EnvoyRoute> input = new ArrayList<>();
      int size = random.nextInt(MAX_BATCH + 1);
      for (int i = 0; i < size; i++) {
        input.add(random.nextInt(50) == 0 ? null : route());
      }
      RouteMapping mapping;
      try {
        mapping = mapper.map(input);
      } catch (RuntimeException e) {
        throw new AssertionError("batch " + batch + " (seed " + SEED + ") threw for " + input, e);
      }
      checkEveryRouteAccountedFor(input, mapping);
      for (EnvoyRoute route : mapping.accepted()) {
        checkAccepted(route);
      }
      checkResources(mapping);
      for (RejectedRoute rejected : mapping.rejected()) {
        checkRejected(rejected);
        reasons.merge(rejected.reason(), 1, Integer::sum);
      }
      accepted += mapping.accepted().size();
      routes += input.size();
    }
    // Not vacuous: the generator reached every outcome.
    assertTrue(accepted > routes / 20, accepted + " of " + routes + " accepted");
    assertEquals(EnumSet.allOf(Reason.class), reasons.keySet(), "reasons seen: " + reasons);
  }

  private static void checkEveryRouteAccountedFor(List<EnvoyRoute> input, RouteMapping mapping) {
    Map<EnvoyRoute, Integer> outcomes = new IdentityHashMap<>();
    mapping.accepted().forEach(r -> outcomes.merge(r, 1, Integer::sum));
    mapping.rejected().forEach(r -> outcomes.merge(r.route(), 1, Integer::sum));
    List<EnvoyRoute> nonNull = input.stream().filter(r -> r != null).toList();
    assertEquals(nonNull.size(), mapping.accepted().size() + mapping.rejected().size());
    for (EnvoyRoute route : nonNull) {
      assertEquals(1, outcomes.getOrDefault(route, 0), () -> "route accounted for once: " + route);
    }
    assertEquals(mapping.accepted().size(), mapping.clusters().size());
    assertEquals(mapping.accepted().size(), mapping.listeners().size());
  }

  private static void checkAccepted(EnvoyRoute route) {
    assertEquals("active", route.status().strip().toLowerCase());
    assertFalse(route.source() != null && route.source().strip().equalsIgnoreCase("static"));
    assertTrue(NAME.matcher(route.name().strip()).matches(), () -> "accepted name " + route.name());
    String host = route.backendHost().strip();
    boolean ip = IpLiterals.parse(host).isPresent();
    if (!ip) {
      String withoutDot = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
      assertTrue(
          DNS_NAME.matcher(host).matches()
              && withoutDot.length() <= 253
              && !NUMERIC_LAST_LABEL.matcher(host).matches(),
          () -> "accepted backend_host " + host);
    }
    if (RouteResourceMapper.clusterType(route) == Cluster.DiscoveryType.STATIC) {
      assertTrue(ip, () -> "static cluster with backend_host " + host);
    }
    assertTrue(route.listenPort() >= 1 && route.listenPort() <= 65535);
    assertTrue(route.backendPort() >= 1 && route.backendPort() <= 65535);
    Integer timeout = route.connectTimeoutSecs();
    assertTrue(
        timeout == null || (timeout >= 0 && timeout <= 300),
        () -> "connect_timeout_secs " + timeout);
    Integer proxyProtocol = route.proxyProtocol();
    assertTrue(proxyProtocol == null || (proxyProtocol >= 0 && proxyProtocol <= 2));
  }

  private static void checkResources(RouteMapping mapping) throws Exception {
    Set<String> names = new HashSet<>();
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < mapping.accepted().size(); i++) {
      EnvoyRoute route = mapping.accepted().get(i);
      String name = route.name().strip();
      Cluster cluster = mapping.clusters().get(i).unpack(Cluster.class);
      Listener listener = mapping.listeners().get(i).unpack(Listener.class);
      assertEquals("cluster-" + name, cluster.getName());
      long secs = cluster.getConnectTimeout().getSeconds();
      assertTrue(secs >= 1 && secs <= 300, "connect_timeout " + secs);
      SocketAddress backend =
          cluster
              .getLoadAssignment()
              .getEndpoints(0)
              .getLbEndpoints(0)
              .getEndpoint()
              .getAddress()
              .getSocketAddress();
      assertEquals(route.backendHost().strip(), backend.getAddress());
      assertEquals((int) route.backendPort(), backend.getPortValue());
      assertEquals("listener-" + name, listener.getName());
      assertEquals(
          (int) route.listenPort(), listener.getAddress().getSocketAddress().getPortValue());
      TcpProxy tcpProxy =
          listener.getFilterChains(0).getFilters(0).getTypedConfig().unpack(TcpProxy.class);
      assertEquals("tcp-" + name, tcpProxy.getStatPrefix());
      assertTrue(names.add(name), "names are unique: " + name);
      assertTrue(ports.add(route.listenPort()), "listen ports are unique: " + route.listenPort());
    }
  }

  private static void checkRejected(RejectedRoute rejected) {
    assertNotNull(rejected.reason());
    assertFalse(rejected.detail() == null || rejected.detail().isBlank());
    String line = rejected.describe();
    assertTrue(
        line.length() <= RejectedRoute.MAX_DESCRIPTION_LENGTH, () -> line.length() + " characters");
    checkPrintableOneLine("describe()", line);
    // The detail alone is shown too (/xds/status): the same guarantees.
    assertTrue(rejected.detail().length() <= 300, () -> rejected.detail().length() + " characters");
    checkPrintableOneLine("detail", rejected.detail());
  }

  private static void checkPrintableOneLine(String what, String line) {
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      int type = Character.getType(c);
      if (c < 0x20
          || (c >= 0x7f && c <= 0x9f)
          || type == Character.FORMAT
          || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR
          || (Character.isHighSurrogate(c)
              && (i + 1 == line.length() || !Character.isLowSurrogate(line.charAt(i + 1))))
          || (Character.isLowSurrogate(c)
              && (i == 0 || !Character.isHighSurrogate(line.charAt(i - 1))))) {
        fail(
            String.format(
                "%s holds U+%04X at %d: %s", what, (int) c, i, line.replace("\n", "<LF>")));
      }
    }
  }

  /** A third of the routes are near-valid (each field valid 4 times in 5), so many get mapped. */
  private EnvoyRoute route() {
    boolean plausible = random.nextInt(3) > 0;
    return new EnvoyRoute(
        string(),
        string(),
        plausible && likely() ? "r" + random.nextInt(40) : string(),
        plausible && likely() ? Integer.valueOf(10000 + random.nextInt(40)) : number(),
        plausible && likely()
            ? pick("h.example", "10.0.0.7", "::1", "b-1.example.com.", " c_d.example ")
            : string(),
        plausible && likely() ? Integer.valueOf(1 + random.nextInt(65535)) : number(),
        random.nextBoolean() ? pick("static", "strict_dns", "logical_dns", null) : string(),
        plausible && likely() ? Integer.valueOf(random.nextInt(302)) : number(),
        plausible && likely() ? Integer.valueOf(random.nextInt(3)) : number(),
        random.nextInt(8) == 0 ? string() : pick("dynamic", "dynamic", null, "static"),
        random.nextInt(8) == 0 ? string() : pick("active", " Active ", "active"),
        string(),
        string());
  }

  private boolean likely() {
    return random.nextInt(5) > 0;
  }

  private String string() {
    if (random.nextBoolean()) {
      return STRINGS[random.nextInt(STRINGS.length)];
    }
    StringBuilder text = new StringBuilder();
    int fragments = random.nextInt(12);
    for (int i = 0; i < fragments; i++) {
      text.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
    }
    return text.toString();
  }

  private Integer number() {
    return random.nextInt(4) == 0
        ? Integer.valueOf(random.nextInt())
        : NUMBERS[random.nextInt(NUMBERS.length)];
  }

  @SafeVarargs
  private <T> T pick(T... values) {
    return values[random.nextInt(values.length)];
  }
}
