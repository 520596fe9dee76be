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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Turns a node's sigma-api routes into Envoy resources, as the contract's "Resource mapping for
 * xDS" says: route R with backend H:P gives Cluster {@code cluster-R} and Listener {@code
 * listener-R} on {@code 0.0.0.0:listen_port} with a TcpProxy to {@code cluster-R}.
 *
 * <p>Pure and stateless. Decisions beyond the contract:
 *
 * <ul>
 *   <li>Every value is checked first ({@link RouteValidator}: names, host names, ports, timeouts);
 *       a bad route is left out with its reason, the node's other routes are served.
 *   <li>{@code connect_timeout_secs} null or 0 gives Envoy's own default, 5 s (Envoy rejects a zero
 *       timeout, but the contract does not forbid 0, so such a route is served with the default
 *       rather than dropped); negative or above 300 s is rejected.
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
  static final String UPSTREAM_PROXY_PROTOCOL_SOCKET =
      "envoy.transport_sockets.upstream_proxy_protocol";
  static final String RAW_BUFFER_SOCKET = "envoy.transport_sockets.raw_buffer";
  static final String LISTEN_ADDRESS = "0.0.0.0";

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
      RejectedRoute rejection = RouteValidator.check(route);
      if (rejection == null && !usedPorts.add(route.listenPort())) {
        rejection =
            new RejectedRoute(
                route,
                Reason.DUPLICATE_LISTEN_PORT,
                "listen_port " + route.listenPort() + " is already used by an earlier route");
      }
      if (rejection == null && !usedNames.add(route.name().strip())) {
        usedPorts.remove(route.listenPort());
        rejection =
            new RejectedRoute(
                route,
                Reason.DUPLICATE_NAME,
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

  static Cluster.DiscoveryType clusterType(EnvoyRoute route) {
    String type =
        route.clusterType() == null ? "" : route.clusterType().strip().toLowerCase(Locale.ROOT);
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
    Cluster.Builder cluster =
        Cluster.newBuilder()
            .setName(clusterName)
            .setType(clusterType(route))
            .setConnectTimeout(Duration.newBuilder().setSeconds(timeoutSecs))
            .setLoadAssignment(
                ClusterLoadAssignment.newBuilder()
                    .setClusterName(clusterName)
                    .addEndpoints(
                        LocalityLbEndpoints.newBuilder()
                            .addLbEndpoints(
                                LbEndpoint.newBuilder()
                                    .setEndpoint(
                                        Endpoint.newBuilder()
                                            .setAddress(
                                                socketAddress(
                                                    route.backendHost().strip(),
                                                    route.backendPort()))))));
    int proxyProtocol = route.proxyProtocol() == null ? 0 : route.proxyProtocol();
    if (proxyProtocol == 1 || proxyProtocol == 2) {
      ProxyProtocolUpstreamTransport upstream =
          ProxyProtocolUpstreamTransport.newBuilder()
              .setConfig(
                  ProxyProtocolConfig.newBuilder()
                      .setVersion(
                          proxyProtocol == 1
                              ? ProxyProtocolConfig.Version.V1
                              : ProxyProtocolConfig.Version.V2))
              .setTransportSocket(
                  TransportSocket.newBuilder()
                      .setName(RAW_BUFFER_SOCKET)
                      .setTypedConfig(Any.pack(RawBuffer.getDefaultInstance())))
              .build();
      cluster.setTransportSocket(
          TransportSocket.newBuilder()
              .setName(UPSTREAM_PROXY_PROTOCOL_SOCKET)
              .setTypedConfig(Any.pack(upstream)));
    }
    return cluster.build();
  }

  private static Listener listener(EnvoyRoute route) {
    String name = route.name().strip();
    TcpProxy tcpProxy =
        TcpProxy.newBuilder().setStatPrefix("tcp-" + name).setCluster(clusterName(route)).build();
    return Listener.newBuilder()
        .setName("listener-" + name)
        .setAddress(socketAddress(LISTEN_ADDRESS, route.listenPort()))
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
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
}
