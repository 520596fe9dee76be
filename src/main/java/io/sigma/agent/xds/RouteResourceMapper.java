package io.sigma.agent.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.ProxyProtocolConfig;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.sigma.agent.api.EnvoyRoute;
import io.sigma.agent.xds.RejectedRoute.Reason;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns a node's sigma-api routes into Envoy resources, as the contract's "Resource mapping for
 * xDS" says: route R with backend H:P gives Cluster {@code cluster-R} and Listener
 * {@code listener-R} on {@code 0.0.0.0:listen_port} with a TcpProxy to {@code cluster-R}.
 *
 * <p>Pure and stateless. Decisions beyond the contract:
 * <ul>
 *   <li>{@code connect_timeout_secs} null or &lt;= 0 gives Envoy's own default, 5 s (Envoy
 *       rejects a zero timeout, so such a route is served with the default rather than dropped).
 *   <li>{@code cluster_type} is matched case-insensitively; null or unknown means LOGICAL_DNS.
 *   <li>{@code proxy_protocol} null means 0 (none).
 *   <li>Names and backend hosts are used with surrounding whitespace stripped.
 *   <li>A {@code static} cluster whose backend_host is not an IP literal is rejected: Envoy NACKs
 *       such a cluster, and one NACKed cluster blocks the whole Cluster update of the node.
 *   <li>Duplicates (listen_port or name) are decided among valid routes in input order: the first
 *       wins. The produced resources are ordered by listen_port, so the same routes in another
 *       order give the same snapshot (and no needless push).
 * </ul>
 */
public final class RouteResourceMapper {

  /** Envoy's default cluster connect timeout, used when a route has none. */
  public static final int DEFAULT_CONNECT_TIMEOUT_SECS = 5;

  static final String TCP_PROXY_FILTER = "envoy.filters.network.tcp_proxy";
  static final String UPSTREAM_PROXY_PROTOCOL_SOCKET = "envoy.transport_sockets.upstream_proxy_protocol";
  static final String RAW_BUFFER_SOCKET = "envoy.transport_sockets.raw_buffer";
  static final String LISTEN_ADDRESS = "0.0.0.0";

  private static final Pattern IPV4 =
      Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

  /** Maps {@code routes} (one node's, as sigma-api lists them); never throws on bad route data. */
  public RouteMapping map(List<EnvoyRoute> routes) {
    List<EnvoyRoute> accepted = new ArrayList<>();
    List<RejectedRoute> rejected = new ArrayList<>();
    Set<Integer> usedPorts = new HashSet<>();
    Set<String> usedNames = new HashSet<>();
    for (EnvoyRoute route : routes) {
      if (route == null) {
        continue;
      }
      RejectedRoute rejection = check(route);
      if (rejection == null && !usedPorts.add(route.listenPort())) {
        rejection = new RejectedRoute(route, Reason.DUPLICATE_LISTEN_PORT,
            "listen_port " + route.listenPort() + " is already used by an earlier route");
      }
      if (rejection == null && !usedNames.add(route.name().strip())) {
        usedPorts.remove(route.listenPort());
        rejection = new RejectedRoute(route, Reason.DUPLICATE_NAME,
            "name '" + route.name().strip() + "' is already used by an earlier route");
      }
      if (rejection == null) {
        accepted.add(route);
      } else {
        rejected.add(rejection);
      }
    }
    accepted.sort(Comparator.comparingInt(EnvoyRoute::listenPort));
    List<Any> clusters = new ArrayList<>(accepted.size());
    List<Any> listeners = new ArrayList<>(accepted.size());
    for (EnvoyRoute route : accepted) {
      clusters.add(packed(cluster(route), TypeUrls.CLUSTER));
      listeners.add(packed(listener(route), TypeUrls.LISTENER));
    }
    return new RouteMapping(clusters, listeners, accepted, rejected);
  }

  /**
   * {@code Any.pack(resource)}, with the type URL held as bytes: every response to every stream
   * serializes these Anys again, and a type URL held as a String is UTF-8 encoded each time.
   */
  static Any packed(com.google.protobuf.Message resource, String typeUrl) {
    return Any.newBuilder()
        .setTypeUrlBytes(ByteString.copyFromUtf8(typeUrl))
        .setValue(resource.toByteString())
        .build();
  }

  /** Why {@code route} makes no resources on its own, or null when it is servable. */
  private static RejectedRoute check(EnvoyRoute route) {
    if (route.source() != null && route.source().strip().equalsIgnoreCase("static")) {
      return new RejectedRoute(route, Reason.STATIC_SOURCE,
          "source=static routes come from Envoy's own config file and are not served over xDS");
    }
    if (route.status() == null || !route.status().strip().equalsIgnoreCase("active")) {
      return new RejectedRoute(route, Reason.NOT_ACTIVE, "status is " + route.status() + ", not active");
    }
    if (route.isPlaceholder()) {
      return new RejectedRoute(route, Reason.PLACEHOLDER,
          "no backend yet (backend_host " + route.backendHost() + ", backend_port " + route.backendPort() + ")");
    }
    if (route.name() == null || route.name().isBlank()) {
      return new RejectedRoute(route, Reason.INVALID_NAME, "empty name");
    }
    Integer listenPort = route.listenPort();
    if (listenPort == null || listenPort < 1 || listenPort > 65535) {
      return new RejectedRoute(route, Reason.INVALID_LISTEN_PORT,
          "listen_port " + listenPort + " is not in 1..65535");
    }
    if (route.backendPort() > 65535) {
      return new RejectedRoute(route, Reason.INVALID_BACKEND_PORT,
          "backend_port " + route.backendPort() + " is not in 1..65535");
    }
    Integer proxyProtocol = route.proxyProtocol();
    if (proxyProtocol != null && (proxyProtocol < 0 || proxyProtocol > 2)) {
      return new RejectedRoute(route, Reason.INVALID_PROXY_PROTOCOL,
          "proxy_protocol " + proxyProtocol + " is not 0, 1 or 2");
    }
    if (clusterType(route) == Cluster.DiscoveryType.STATIC && !isIpLiteral(route.backendHost().strip())) {
      return new RejectedRoute(route, Reason.STATIC_CLUSTER_NEEDS_IP,
          "cluster_type static needs an IP address, backend_host is '" + route.backendHost()
              + "' (use strict_dns or logical_dns for host names)");
    }
    return null;
  }

  static Cluster.DiscoveryType clusterType(EnvoyRoute route) {
    String type = route.clusterType() == null ? "" : route.clusterType().strip().toLowerCase(Locale.ROOT);
    return switch (type) {
      case "static" -> Cluster.DiscoveryType.STATIC;
      case "strict_dns" -> Cluster.DiscoveryType.STRICT_DNS;
      default -> Cluster.DiscoveryType.LOGICAL_DNS;
    };
  }

  private static Cluster cluster(EnvoyRoute route) {
    String clusterName = clusterName(route);
    Integer timeout = route.connectTimeoutSecs();
    int timeoutSecs = timeout == null || timeout <= 0 ? DEFAULT_CONNECT_TIMEOUT_SECS : timeout;
    Cluster.Builder cluster = Cluster.newBuilder()
        .setName(clusterName)
        .setType(clusterType(route))
        .setConnectTimeout(Duration.newBuilder().setSeconds(timeoutSecs))
        .setLoadAssignment(ClusterLoadAssignment.newBuilder()
            .setClusterName(clusterName)
            .addEndpoints(LocalityLbEndpoints.newBuilder()
                .addLbEndpoints(LbEndpoint.newBuilder()
                    .setEndpoint(Endpoint.newBuilder()
                        .setAddress(socketAddress(route.backendHost().strip(), route.backendPort()))))));
    int proxyProtocol = route.proxyProtocol() == null ? 0 : route.proxyProtocol();
    if (proxyProtocol == 1 || proxyProtocol == 2) {
      ProxyProtocolUpstreamTransport upstream = ProxyProtocolUpstreamTransport.newBuilder()
          .setConfig(ProxyProtocolConfig.newBuilder()
              .setVersion(proxyProtocol == 1 ? ProxyProtocolConfig.Version.V1 : ProxyProtocolConfig.Version.V2))
          .setTransportSocket(TransportSocket.newBuilder()
              .setName(RAW_BUFFER_SOCKET)
              .setTypedConfig(Any.pack(RawBuffer.getDefaultInstance())))
          .build();
      cluster.setTransportSocket(TransportSocket.newBuilder()
          .setName(UPSTREAM_PROXY_PROTOCOL_SOCKET)
          .setTypedConfig(Any.pack(upstream)));
    }
    return cluster.build();
  }

  private static Listener listener(EnvoyRoute route) {
    String name = route.name().strip();
    TcpProxy tcpProxy = TcpProxy.newBuilder()
        .setStatPrefix("tcp-" + name)
        .setCluster(clusterName(route))
        .build();
    return Listener.newBuilder()
        .setName("listener-" + name)
        .setAddress(socketAddress(LISTEN_ADDRESS, route.listenPort()))
        .addFilterChains(FilterChain.newBuilder()
            .addFilters(Filter.newBuilder()
                .setName(TCP_PROXY_FILTER)
                .setTypedConfig(Any.pack(tcpProxy))))
        .build();
  }

  private static String clusterName(EnvoyRoute route) {
    return "cluster-" + route.name().strip();
  }

  private static Address socketAddress(String host, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
        .build();
  }

  /** An IPv4 dotted quad or an IPv6 literal; never a DNS lookup. */
  static boolean isIpLiteral(String host) {
    if (IPV4.matcher(host).matches()) {
      return true;
    }
    if (host.indexOf(':') < 0 || !IPV6_CHARS.matcher(host).matches()) {
      return false;
    }
    try {
      // With a ':' in it, the JDK parses the string as an IPv6 literal and never resolves it.
      InetAddress.getByName(host);
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
