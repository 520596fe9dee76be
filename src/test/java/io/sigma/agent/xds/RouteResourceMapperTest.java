package io.sigma.agent.xds;

import static io.sigma.agent.xds.Routes.route;
import static io.sigma.agent.xds.Routes.withSourceAndStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ProxyProtocolConfig;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.xds.RejectedRoute.Reason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class RouteResourceMapperTest {

  private final RouteResourceMapper mapper = new RouteResourceMapper();

  @Test
  void logicalDnsRouteWithoutProxyProtocolGivesExactlyOneClusterAndOneListener() throws Exception {
    RouteMapping mapping =
        mapper.map(
            List.of(
                route("tcp-proxy-hk01", 10001, "hk013.example.com", 30008, "logical_dns", 7, 0)));

    assertEquals(1, mapping.clusters().size());
    assertEquals(1, mapping.listeners().size());
    assertEquals(List.of(), mapping.rejected());
    assertEquals(TypeUrls.CLUSTER, mapping.clusters().get(0).getTypeUrl());
    assertEquals(TypeUrls.LISTENER, mapping.listeners().get(0).getTypeUrl());

    Cluster cluster = mapping.clusters().get(0).unpack(Cluster.class);
    assertEquals("cluster-tcp-proxy-hk01", cluster.getName());
    assertEquals(Cluster.DiscoveryType.LOGICAL_DNS, cluster.getType());
    assertEquals(7, cluster.getConnectTimeout().getSeconds());
    assertEquals(0, cluster.getConnectTimeout().getNanos());
    assertFalse(cluster.hasTransportSocket());
    assertEquals("cluster-tcp-proxy-hk01", cluster.getLoadAssignment().getClusterName());
    assertEquals(1, cluster.getLoadAssignment().getEndpointsCount());
    assertEquals(1, cluster.getLoadAssignment().getEndpoints(0).getLbEndpointsCount());
    SocketAddress backend = onlyEndpoint(cluster).getEndpoint().getAddress().getSocketAddress();
    assertEquals("hk013.example.com", backend.getAddress());
    assertEquals(30008, backend.getPortValue());

    Listener listener = mapping.listeners().get(0).unpack(Listener.class);
    assertEquals("listener-tcp-proxy-hk01", listener.getName());
    assertEquals("0.0.0.0", listener.getAddress().getSocketAddress().getAddress());
    assertEquals(10001, listener.getAddress().getSocketAddress().getPortValue());
    assertEquals(1, listener.getFilterChainsCount());
    assertEquals(1, listener.getFilterChains(0).getFiltersCount());
    Filter filter = listener.getFilterChains(0).getFilters(0);
    assertEquals("envoy.filters.network.tcp_proxy", filter.getName());
    TcpProxy tcpProxy = filter.getTypedConfig().unpack(TcpProxy.class);
    assertEquals("tcp-tcp-proxy-hk01", tcpProxy.getStatPrefix());
    assertEquals("cluster-tcp-proxy-hk01", tcpProxy.getCluster());

    assertEquals(1, mapping.accepted().size());
    XdsSnapshot snapshot = mapping.toSnapshot("layer4-01", 7);
    assertEquals("layer4-01", snapshot.nodeId());
    assertEquals("7", snapshot.versionInfo());
    assertEquals(1, snapshot.routeCount());
    assertEquals(mapping.clusters(), snapshot.clusters());
    assertEquals(mapping.listeners(), snapshot.listeners());
  }

  @ParameterizedTest
  @CsvSource(
      nullValues = "NULL",
      value = {
        "static, STATIC",
        "strict_dns, STRICT_DNS",
        "logical_dns, LOGICAL_DNS",
        "STRICT_DNS, STRICT_DNS",
        "eds, LOGICAL_DNS",
        "'', LOGICAL_DNS",
        "NULL, LOGICAL_DNS"
      })
  void clusterTypeFollowsTheContract(String clusterType, Cluster.DiscoveryType expected)
      throws Exception {
    RouteMapping mapping =
        mapper.map(List.of(route("r", 10001, "10.0.0.9", 80, clusterType, 5, 0)));

    assertEquals(List.of(), mapping.rejected());
    assertEquals(expected, mapping.clusters().get(0).unpack(Cluster.class).getType());
  }

  @Test
  void clusterTypesWithOddCharactersStillFollowTheContract() throws Exception {
    // The contract maps "anything else" to LOGICAL_DNS: such a value is not a reason to reject.
    RouteMapping mapping =
        mapper.map(
            List.of(
                route("a", 10001, "h.example", 80, "static\u0000", 5, 0),
                route("b", 10002, "h.example", 80, " strict_dns\n", 5, 0),
                route("c", 10003, "h.example", 80, "x".repeat(10_000), 5, 0)));

    assertEquals(List.of(), mapping.rejected());
    assertEquals(
        List.of(
            Cluster.DiscoveryType.LOGICAL_DNS,
            Cluster.DiscoveryType.STRICT_DNS,
            Cluster.DiscoveryType.LOGICAL_DNS),
        List.of(
            mapping.clusters().get(0).unpack(Cluster.class).getType(),
            mapping.clusters().get(1).unpack(Cluster.class).getType(),
            mapping.clusters().get(2).unpack(Cluster.class).getType()));
  }

  @ParameterizedTest
  @CsvSource(
      nullValues = "NULL",
      value = {"1, 1", "30, 30", "300, 300", "NULL, 5", "0, 5"})
  void connectTimeoutDefaultsToFiveSecondsWhenMissingOrZero(Integer secs, long expected)
      throws Exception {
    RouteMapping mapping = mapper.map(List.of(route("r", 10001, "h", 80, "logical_dns", secs, 0)));

    assertEquals(List.of(), mapping.rejected());
    assertEquals(
        expected, mapping.clusters().get(0).unpack(Cluster.class).getConnectTimeout().getSeconds());
  }

  @ParameterizedTest
  @CsvSource({"-1", "-3", "301", "86400", "2147483647", "-2147483648"})
  void connectTimeoutNegativeOrAboveFiveMinutesIsRejected(int secs) {
    EnvoyRoute bad = route("slow", 10001, "h", 80, "logical_dns", secs, 0);
    EnvoyRoute good = route("good", 10002, "h", 80);

    RouteMapping mapping = mapper.map(List.of(bad, good));

    assertEquals(List.of(good), mapping.accepted());
    RejectedRoute rejected = mapping.rejected().get(0);
    assertEquals(Reason.INVALID_CONNECT_TIMEOUT, rejected.reason());
    assertTrue(rejected.reason().invalid());
    assertEquals(
        "connect_timeout_secs "
            + secs
            + " is not in 1..300 (leave it empty or 0 for the default, 5 s)",
        rejected.detail());
  }

  @ParameterizedTest
  @CsvSource({"1, V1", "2, V2"})
  void proxyProtocolWrapsRawBufferInAnUpstreamProxyProtocolSocket(
      int version, ProxyProtocolConfig.Version expected) throws Exception {
    RouteMapping mapping =
        mapper.map(List.of(route("pp", 10002, "h.example", 443, "strict_dns", 5, version)));

    Cluster cluster = mapping.clusters().get(0).unpack(Cluster.class);
    assertTrue(cluster.hasTransportSocket());
    TransportSocket socket = cluster.getTransportSocket();
    assertEquals("envoy.transport_sockets.upstream_proxy_protocol", socket.getName());
    assertEquals(
        "type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport",
        socket.getTypedConfig().getTypeUrl());
    ProxyProtocolUpstreamTransport upstream =
        socket.getTypedConfig().unpack(ProxyProtocolUpstreamTransport.class);
    assertEquals(expected, upstream.getConfig().getVersion());
    assertEquals("envoy.transport_sockets.raw_buffer", upstream.getTransportSocket().getName());
    assertEquals(
        RawBuffer.getDefaultInstance(),
        upstream.getTransportSocket().getTypedConfig().unpack(RawBuffer.class));
  }

  @Test
  void proxyProtocolNullMeansNone() throws Exception {
    RouteMapping mapping = mapper.map(List.of(route("r", 10001, "h", 80, "logical_dns", 5, null)));

    assertFalse(mapping.clusters().get(0).unpack(Cluster.class).hasTransportSocket());
  }

  @Test
  void placeholdersMakeNoResources() {
    List<EnvoyRoute> placeholders =
        List.of(
            route("no-host", 10001, null, 80),
            route("blank-host", 10002, "  ", 80),
            route("no-port", 10003, "h", null),
            route("zero-port", 10004, "h", 0),
            route("negative-port", 10005, "h", -1));

    RouteMapping mapping = mapper.map(placeholders);

    assertEquals(List.of(), mapping.clusters());
    assertEquals(List.of(), mapping.listeners());
    assertEquals(List.of(), mapping.accepted());
    assertEquals(5, mapping.rejected().size());
    for (int i = 0; i < placeholders.size(); i++) {
      assertEquals(placeholders.get(i), mapping.rejected().get(i).route());
      assertEquals(Reason.PLACEHOLDER, mapping.rejected().get(i).reason());
      assertFalse(mapping.rejected().get(i).reason().invalid());
    }
  }

  @ParameterizedTest
  @CsvSource(
      nullValues = "NULL",
      value = {
        "static, active, STATIC_SOURCE",
        "STATIC, active, STATIC_SOURCE",
        "dynamic, placeholder, NOT_ACTIVE",
        "dynamic, disabled, NOT_ACTIVE",
        "dynamic, NULL, NOT_ACTIVE"
      })
  void staticAndInactiveRoutesAreNotServed(String source, String status, Reason reason) {
    EnvoyRoute r = withSourceAndStatus(route("r", 10001, "h", 80), source, status);

    RouteMapping mapping = mapper.map(List.of(r));

    assertEquals(List.of(), mapping.clusters());
    assertEquals(List.of(), mapping.listeners());
    assertEquals(1, mapping.rejected().size());
    assertEquals(r, mapping.rejected().get(0).route());
    assertEquals(reason, mapping.rejected().get(0).reason());
    assertFalse(reason.invalid());
  }

  @Test
  void sourceNullIsServedAsDynamic() {
    RouteMapping mapping =
        mapper.map(List.of(withSourceAndStatus(route("r", 10001, "h", 80), null, "active")));

    assertEquals(1, mapping.clusters().size());
  }

  @ParameterizedTest
  @CsvSource(
      nullValues = "NULL",
      value = {
        "NULL, 10001, 80, 0, INVALID_NAME",
        "'', 10001, 80, 0, INVALID_NAME",
        "'   ', 10001, 80, 0, INVALID_NAME",
        "r, NULL, 80, 0, INVALID_LISTEN_PORT",
        "r, 0, 80, 0, INVALID_LISTEN_PORT",
        "r, -5, 80, 0, INVALID_LISTEN_PORT",
        "r, 65536, 80, 0, INVALID_LISTEN_PORT",
        "r, 10001, 65536, 0, INVALID_BACKEND_PORT",
        "r, 10001, 70000, 0, INVALID_BACKEND_PORT",
        "r, 10001, 80, 3, INVALID_PROXY_PROTOCOL",
        "r, 10001, 80, -1, INVALID_PROXY_PROTOCOL"
      })
  void invalidRoutesAreRejectedWithTheirReason(
      String name, Integer listenPort, Integer backendPort, Integer proxyProtocol, Reason reason) {
    EnvoyRoute bad = route(name, listenPort, "h", backendPort, "logical_dns", 5, proxyProtocol);
    EnvoyRoute good = route("good", 20000, "h", 80);

    RouteMapping mapping = mapper.map(List.of(bad, good));

    assertEquals(1, mapping.rejected().size());
    assertEquals(bad, mapping.rejected().get(0).route());
    assertEquals(reason, mapping.rejected().get(0).reason());
    assertTrue(reason.invalid());
    assertFalse(mapping.rejected().get(0).describe().isBlank());
    assertEquals(List.of(good), mapping.accepted());
    assertEquals(1, mapping.clusters().size());
    assertEquals(1, mapping.listeners().size());
  }

  @Test
  void extremePortsAreAccepted() throws Exception {
    RouteMapping mapping =
        mapper.map(List.of(route("low", 1, "h", 1), route("high", 65535, "h", 65535)));

    assertEquals(List.of(), mapping.rejected());
    assertEquals(
        65535,
        mapping
            .listeners()
            .get(1)
            .unpack(Listener.class)
            .getAddress()
            .getSocketAddress()
            .getPortValue());
    assertEquals(
        65535,
        onlyEndpoint(mapping.clusters().get(1).unpack(Cluster.class))
            .getEndpoint()
            .getAddress()
            .getSocketAddress()
            .getPortValue());
  }

  @Test
  void duplicateListenPortFirstWins() throws Exception {
    EnvoyRoute first = route("first", 10001, "a", 80);
    EnvoyRoute second = route("second", 10001, "b", 80);

    RouteMapping mapping = mapper.map(List.of(first, second));

    assertEquals(List.of(first), mapping.accepted());
    assertEquals(Reason.DUPLICATE_LISTEN_PORT, mapping.rejected().get(0).reason());
    assertEquals(second, mapping.rejected().get(0).route());
    assertEquals("cluster-first", mapping.clusters().get(0).unpack(Cluster.class).getName());
    assertEquals(1, mapping.listeners().size());
  }

  @Test
  void duplicateNameFirstWinsAndTheLoserDoesNotBlockItsPort() throws Exception {
    EnvoyRoute first = route("same", 10001, "a", 80);
    EnvoyRoute second = route("same", 10002, "b", 80);
    EnvoyRoute third = route("other", 10002, "c", 80);

    RouteMapping mapping = mapper.map(List.of(first, second, third));

    assertEquals(List.of(first, third), mapping.accepted());
    assertEquals(1, mapping.rejected().size());
    assertEquals(Reason.DUPLICATE_NAME, mapping.rejected().get(0).reason());
    assertEquals(second, mapping.rejected().get(0).route());
  }

  @Test
  void rejectedRoutesDoNotClaimAPort() {
    EnvoyRoute placeholder = route("placeholder", 10001, null, null);
    EnvoyRoute real = route("real", 10001, "h", 80);

    RouteMapping mapping = mapper.map(List.of(placeholder, real));

    assertEquals(List.of(real), mapping.accepted());
  }

  @ParameterizedTest
  @CsvSource({
    "10.0.0.5",
    "255.255.255.255",
    "0.0.0.0",
    "::1",
    "2001:db8::7",
    "2001:DB8:0:0:0:0:0:7",
    "::ffff:10.0.0.1"
  })
  void staticClustersTakeAnIpLiteral(String host) throws Exception {
    RouteMapping mapping = mapper.map(List.of(route("r", 10001, host, 80, "static", 5, 0)));

    assertEquals(List.of(), mapping.rejected());
    assertEquals(
        host,
        onlyEndpoint(mapping.clusters().get(0).unpack(Cluster.class))
            .getEndpoint()
            .getAddress()
            .getSocketAddress()
            .getAddress());
  }

  @ParameterizedTest
  @CsvSource({"hk01.example.com", "localhost", "xn--bcher-kva.example"})
  void staticClustersRejectAHostName(String host) {
    RouteMapping mapping = mapper.map(List.of(route("r", 10001, host, 80, "static", 5, 0)));

    assertEquals(List.of(), mapping.clusters());
    assertEquals(Reason.STATIC_CLUSTER_NEEDS_IP, mapping.rejected().get(0).reason());
    assertEquals(
        "cluster_type static needs an IP address, backend_host is '"
            + host
            + "' (use strict_dns or logical_dns for host names)",
        mapping.rejected().get(0).detail());
  }

  @ParameterizedTest
  @CsvSource({"10.0.0", "256.1.1.1", "[::1]", "1.2.3.4.5", "gg::1", "fe80::1%eth0", "010.0.0.1"})
  void staticClustersWithAMalformedAddressAreInvalidHosts(String host) {
    RouteMapping mapping = mapper.map(List.of(route("r", 10001, host, 80, "static", 5, 0)));

    assertEquals(List.of(), mapping.clusters());
    assertEquals(Reason.INVALID_BACKEND_HOST, mapping.rejected().get(0).reason());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "h",
        "localhost",
        "hk013.example.com",
        "hk013.example.com.",
        "HK01.Example.COM",
        "1a.example",
        "backend-b1.example.com",
        "svc_internal.example",
        "xn--bcher-kva.example",
        "example.123abc",
        "10.0.0.9",
        "::1",
        "2001:db8::1"
      })
  void dnsClustersTakeHostNamesAndIpLiterals(String host) throws Exception {
    for (String clusterType : List.of("logical_dns", "strict_dns")) {
      RouteMapping mapping = mapper.map(List.of(route("r", 10001, host, 80, clusterType, 5, 0)));

      assertEquals(List.of(), mapping.rejected(), clusterType);
      assertEquals(
          host,
          onlyEndpoint(mapping.clusters().get(0).unpack(Cluster.class))
              .getEndpoint()
              .getAddress()
              .getSocketAddress()
              .getAddress());
    }
  }

  @Test
  void hostNamesMayUseTheFullLengthsDnsAllows() {
    String label63 = "a".repeat(63);
    String name253 = String.join(".", label63, label63, label63, "b".repeat(61));
    assertEquals(253, name253.length());

    RouteMapping mapping =
        mapper.map(
            List.of(
                route("label", 10001, label63 + ".example", 80),
                route("name", 10002, name253, 80),
                route("name-dot", 10003, name253 + ".", 80)));

    assertEquals(List.of(), mapping.rejected());
    assertEquals(3, mapping.clusters().size());
  }

  static List<Arguments> badBackendHosts() {
    String label64 = "a".repeat(64);
    String name254 =
        String.join(".", "a".repeat(63), "a".repeat(63), "a".repeat(63), "b".repeat(62));
    return List.of(
        arguments(
            "hk01.example.com:30008",
            "backend_host 'hk01.example.com:30008' has a port: put 30008 in backend_port and 'hk01.example.com' in backend_host"),
        arguments(
            "1.2.3.4:80",
            "backend_host '1.2.3.4:80' has a port: put 80 in backend_port and '1.2.3.4' in backend_host"),
        arguments(
            "host:80",
            "backend_host 'host:80' has a port: put 80 in backend_port and 'host' in backend_host"),
        arguments(
            "[::1]:80",
            "backend_host '[::1]:80' has a port: put 80 in backend_port and write the address without brackets ('::1')"),
        arguments(
            "[2001:db8::1]",
            "backend_host '[2001:db8::1]' is in brackets: write the IPv6 address without them ('2001:db8::1')"),
        arguments(
            "a:b:c",
            "backend_host 'a:b:c' is neither an IP address nor a host name (a ':' belongs only in"
                + " an IPv6 address; a port goes in backend_port)"),
        arguments(
            "gg::1",
            "backend_host 'gg::1' is neither an IP address nor a host name (a ':' belongs only in"
                + " an IPv6 address; a port goes in backend_port)"),
        arguments(
            "http://h.example:80/",
            "backend_host 'http://h.example:80/' is a URL: backend_host takes only a host name or an IP address"),
        arguments(
            "h.example/path",
            "backend_host 'h.example/path' contains '/': backend_host takes only a host"
                + " name or an IP address, not a URL or a CIDR"),
        arguments(
            "10.0.0.0/8",
            "backend_host '10.0.0.0/8' contains '/': backend_host takes only a host"
                + " name or an IP address, not a URL or a CIDR"),
        arguments(
            "user@h.example",
            "backend_host 'user@h.example' contains '@': backend_host takes only a host"
                + " name or an IP address, no user name"),
        arguments(
            "fe80::1%eth0",
            "backend_host 'fe80::1%eth0' contains '%': IPv6 zone ids are not supported,"
                + " use a global address or a host name"),
        arguments(
            "a b.example", "backend_host 'a b.example' contains whitespace or a control character"),
        arguments(
            "bücher.example",
            "backend_host 'bücher.example' contains non-ASCII characters: write an"
                + " internationalized name in its punycode (xn--) form"),
        arguments(
            "h*.example",
            "backend_host 'h*.example' contains '*', which a host name can not contain"),
        arguments(
            "a..example",
            "backend_host 'a..example' has an empty label (a leading dot or two dots in a row)"),
        arguments(
            ".example",
            "backend_host '.example' has an empty label (a leading dot or two dots in a row)"),
        arguments(".", "backend_host '.' has an empty label (a leading dot or two dots in a row)"),
        arguments(
            "-a.example",
            "backend_host '-a.example' has a label starting or ending with '-' ('-a')"),
        arguments(
            "a-.example",
            "backend_host 'a-.example' has a label starting or ending with '-' ('a-')"),
        arguments(
            label64 + ".example",
            "backend_host '"
                + label64
                + ".example' has a label of 64 characters;"
                + " a label has at most 63"),
        arguments(
            name254,
            "backend_host '"
                + name254.substring(0, 80)
                + "…' is 254 characters long;"
                + " a host name has at most 253"),
        arguments(
            "10.0.0",
            "backend_host '10.0.0' is not a valid IP address (IPv4: four numbers 0..255 without"
                + " leading zeros) and, ending in a number, not a host name either"),
        arguments(
            "010.0.0.1",
            "backend_host '010.0.0.1' is not a valid IP address (IPv4: four numbers 0..255"
                + " without leading zeros) and, ending in a number, not a host name either"),
        arguments(
            "1.2.3.4.",
            "backend_host '1.2.3.4.' is not a valid IP address (IPv4: four numbers 0..255"
                + " without leading zeros) and, ending in a number, not a host name either"));
  }

  @ParameterizedTest
  @MethodSource("badBackendHosts")
  void badBackendHostsAreRejectedWithAMessageSayingWhatToFix(String host, String detail) {
    EnvoyRoute bad = route("bad", 10001, host, 30008);
    EnvoyRoute good = route("good", 10002, "good.example", 80);

    RouteMapping mapping = mapper.map(List.of(bad, good));

    assertEquals(List.of(good), mapping.accepted());
    assertEquals(1, mapping.clusters().size());
    assertEquals(1, mapping.rejected().size());
    RejectedRoute rejected = mapping.rejected().get(0);
    assertEquals(Reason.INVALID_BACKEND_HOST, rejected.reason());
    assertTrue(rejected.reason().invalid());
    assertEquals(detail, rejected.detail());
  }

  @Test
  void controlCharactersInsideAHostAreRejectedAndShownEscaped() {
    RouteMapping mapping =
        mapper.map(
            List.of(
                route("a", 10001, "h\u0000.example", 80),
                route("b", 10002, "h\n.example", 80),
                route("c", 10003, "h\u202E.example", 80),
                route("d", 10004, "h\u0085x.example", 80)));

    assertEquals(List.of(), mapping.accepted());
    assertEquals(
        List.of(
            "backend_host 'h\\u0000.example' contains whitespace or a control character",
            "backend_host 'h\\n.example' contains whitespace or a control character",
            "backend_host 'h\\u202E.example' contains non-ASCII characters: write an internationalized name in"
                + " its punycode (xn--) form",
            "backend_host 'h\\u0085x.example' contains whitespace or a control character"),
        mapping.rejected().stream().map(RejectedRoute::detail).toList());
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp-proxy-hk01", "a", "A_b.c:d-1", "hk01.example.com", "route:10001"})
  void namesOfLettersDigitsAndPunctuationOperatorsUseAreAccepted(String name) throws Exception {
    RouteMapping mapping = mapper.map(List.of(route(name, 10001, "h", 80)));

    assertEquals(List.of(), mapping.rejected());
    assertEquals("cluster-" + name, mapping.clusters().get(0).unpack(Cluster.class).getName());
  }

  @Test
  void namesUpTo200CharactersAreAcceptedAndLongerOnesRejected() throws Exception {
    String longest = "n".repeat(200);
    RouteMapping mapping =
        mapper.map(List.of(route(longest, 10001, "h", 80), route(longest + "x", 10002, "h", 80)));

    assertEquals(
        "listener-" + longest, mapping.listeners().get(0).unpack(Listener.class).getName());
    assertEquals(1, mapping.rejected().size());
    assertEquals(Reason.INVALID_NAME, mapping.rejected().get(0).reason());
    assertEquals(
        "name '" + "n".repeat(80) + "…' is 201 characters long; at most 200",
        mapping.rejected().get(0).detail());
  }

  static List<Arguments> badNames() {
    String allowed = "; a name may hold only ASCII letters, digits, '-', '_', '.' and ':'";
    return List.of(
        arguments("a b", "name 'a b' contains U+0020" + allowed),
        arguments("a\nb", "name 'a\\nb' contains U+000A" + allowed),
        arguments("a\u0000", "name 'a\\u0000' contains U+0000" + allowed),
        arguments("evil\u202Eeman", "name 'evil\\u202Eeman' contains U+202E" + allowed),
        arguments("a/b", "name 'a/b' contains '/'" + allowed),
        arguments("a@b", "name 'a@b' contains '@'" + allowed),
        arguments("it's", "name 'it\\'s' contains '''" + allowed),
        arguments("路由", "name '路由' contains U+8DEF" + allowed));
  }

  @ParameterizedTest
  @MethodSource("badNames")
  void namesWithOtherCharactersAreRejected(String name, String detail) {
    EnvoyRoute bad = route(name, 10001, "h", 80);
    EnvoyRoute good = route("good", 10002, "h", 80);

    RouteMapping mapping = mapper.map(List.of(bad, good));

    assertEquals(List.of(good), mapping.accepted());
    assertEquals(Reason.INVALID_NAME, mapping.rejected().get(0).reason());
    assertEquals(detail, mapping.rejected().get(0).detail());
  }

  @Test
  void describeIsOneEscapedLineEvenForAForgedLogLine() {
    EnvoyRoute forged =
        new EnvoyRoute(
            "id\r\n2026-12-01 INFO forged",
            "node-uuid",
            "web\n2026-12-01 05:00:00 INFO xDS: all good \u2028\u202E",
            10001,
            "h.example:80",
            80,
            "logical_dns",
            5,
            0,
            "dynamic",
            "active",
            null,
            null);

    RejectedRoute rejected = mapper.map(List.of(forged)).rejected().get(0);

    assertEquals(Reason.INVALID_NAME, rejected.reason());
    assertEquals(
        "route 'web\\n2026-12-01 05:00:00 INFO xDS: all good \\u2028\\u202E'"
            + " (id 'id\\r\\n2026-12-01 INFO forged', listen_port 10001): INVALID_NAME:"
            + " name 'web\\n2026-12-01 05:00:00 INFO xDS: all good \\u2028\\u202E' contains U+000A; a name may hold"
            + " only ASCII letters, digits, '-', '_', '.' and ':'",
        rejected.describe());
  }

  @Test
  void describeIsBoundedWhateverTheSizeOfTheValues() {
    String huge = "\n\u0000x\u202E".repeat(250_000);
    EnvoyRoute route =
        new EnvoyRoute(
            huge, huge, huge, 10001, huge, 80, huge, 5, 0, "dynamic", "active", huge, huge);

    RejectedRoute rejected = mapper.map(List.of(route)).rejected().get(0);
    String line = rejected.describe();

    assertEquals(Reason.INVALID_NAME, rejected.reason());
    assertTrue(
        line.length() <= RejectedRoute.MAX_DESCRIPTION_LENGTH, line.length() + " characters");
    assertTrue(rejected.detail().length() <= 300, rejected.detail().length() + " characters");
    assertTrue(line.chars().noneMatch(c -> c < 0x20 || c == 0x7f || c == 0x202E), line);
    assertTrue(line.startsWith("route '\\n\\u0000x\\u202E"), line);
  }

  @Test
  void describeEscapesADetailBuiltElsewhere() {
    RejectedRoute rejected =
        new RejectedRoute(route("r", 10001, "h", 80), Reason.PLACEHOLDER, "a\nb\u0085c");

    assertEquals(
        "route 'r' (id 'id-r', listen_port 10001): PLACEHOLDER: a\\nb\\u0085c",
        rejected.describe());
  }

  @Test
  void surroundingWhitespaceIsStripped() throws Exception {
    RouteMapping mapping =
        mapper.map(List.of(route(" web ", 10001, " 10.1.2.3 ", 80, "static", 5, 0)));

    Cluster cluster = mapping.clusters().get(0).unpack(Cluster.class);
    assertEquals("cluster-web", cluster.getName());
    assertEquals(
        "10.1.2.3",
        onlyEndpoint(cluster).getEndpoint().getAddress().getSocketAddress().getAddress());
    assertEquals("listener-web", mapping.listeners().get(0).unpack(Listener.class).getName());
  }

  @Test
  void resourcesAreOrderedByListenPortWhateverTheInputOrder() throws Exception {
    List<EnvoyRoute> routes =
        List.of(route("c", 10003, "h", 80), route("a", 10001, "h", 80), route("b", 10002, "h", 80));
    List<EnvoyRoute> reversed = new ArrayList<>(routes);
    java.util.Collections.reverse(reversed);

    RouteMapping mapping = mapper.map(routes);

    assertEquals(
        List.of("listener-a", "listener-b", "listener-c"), listenerNames(mapping.listeners()));
    assertEquals(mapping.clusters(), mapper.map(reversed).clusters());
    assertEquals(mapping.listeners(), mapper.map(reversed).listeners());
  }

  @Test
  void severalRoutesMixedTogether() throws Exception {
    List<EnvoyRoute> routes =
        List.of(
            route("a", 10001, "10.0.0.1", 8001, "static", 3, 0),
            route("b", 10002, "b.example", 8002, "strict_dns", 4, 1),
            route("c", 10003, "c.example", 8003, "logical_dns", 6, 2),
            route("hole", 10004, null, null),
            withSourceAndStatus(route("from-file", 10005, "h", 80), "static", "active"),
            route("bad", 70000, "h", 80));

    RouteMapping mapping = mapper.map(routes);

    assertEquals(3, mapping.clusters().size());
    assertEquals(3, mapping.listeners().size());
    assertEquals(3, mapping.toSnapshot("n", 1).routeCount());
    assertEquals(
        List.of(Reason.PLACEHOLDER, Reason.STATIC_SOURCE, Reason.INVALID_LISTEN_PORT),
        mapping.rejected().stream().map(RejectedRoute::reason).toList());
    assertEquals(List.of("cluster-a", "cluster-b", "cluster-c"), clusterNames(mapping.clusters()));
  }

  @Test
  void noRoutesGiveAnEmptyMapping() {
    RouteMapping mapping = mapper.map(List.of());

    assertEquals(
        0, mapping.clusters().size() + mapping.listeners().size() + mapping.rejected().size());
    assertEquals(0, mapping.toSnapshot("n", 3).routeCount());
  }

  @Test
  void nullEntriesInTheListAreSkipped() {
    List<EnvoyRoute> routes = new ArrayList<>();
    routes.add(null);
    routes.add(route("r", 10001, "h", 80));

    assertEquals(1, mapper.map(routes).clusters().size());
  }

  private static LbEndpoint onlyEndpoint(Cluster cluster) {
    return cluster.getLoadAssignment().getEndpoints(0).getLbEndpoints(0);
  }

  private static List<String> listenerNames(List<Any> listeners)
      throws InvalidProtocolBufferException {
    List<String> names = new ArrayList<>();
    for (Any any : listeners) {
      names.add(any.unpack(Listener.class).getName());
    }
    return names;
  }

  private static List<String> clusterNames(List<Any> clusters)
      throws InvalidProtocolBufferException {
    List<String> names = new ArrayList<>();
    for (Any any : clusters) {
      names.add(any.unpack(Cluster.class).getName());
    }
    return names;
  }

  @Test
  void resourcesArePackedAsAnyPackWouldWithTheTypeUrlHeldAsBytes() throws Exception {
    RouteMapping mapping =
        new RouteResourceMapper().map(List.of(route("a", 10001, "a.example", 80)));
    Any cluster = mapping.clusters().get(0);
    Any listener = mapping.listeners().get(0);

    assertEquals(Any.pack(cluster.unpack(Cluster.class)), cluster);
    assertEquals(Any.pack(listener.unpack(Listener.class)), listener);
    assertEquals(TypeUrls.CLUSTER, cluster.getTypeUrl());
    assertEquals(
        Any.pack(cluster.unpack(Cluster.class)).toByteString(),
        cluster.toByteString(),
        "the same bytes on the wire");
  }
}
