package io.sigma.agent.devapi;

/**
 * What a seed (or a test) wants a route to be; the store adds ids, the node and timestamps. Start
 * from {@link #active} or {@link #placeholder} and adjust with the {@code with*} methods.
 */
public record RouteSpec(
    String name,
    int listenPort,
    String backendHost,
    Integer backendPort,
    String clusterType,
    int connectTimeoutSecs,
    int proxyProtocol,
    String source,
    String status) {

  public static final String LOGICAL_DNS = "logical_dns";
  public static final String STATIC = "static";
  public static final String STRICT_DNS = "strict_dns";
  public static final String SOURCE_DYNAMIC = "dynamic";
  public static final String SOURCE_STATIC = "static";
  public static final String STATUS_ACTIVE = "active";
  public static final String STATUS_PLACEHOLDER = "placeholder";
  public static final int DEFAULT_CONNECT_TIMEOUT_SECS = 5;

  public RouteSpec {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("route name must not be empty");
    }
    if (listenPort < 1 || listenPort > 65535) {
      throw new IllegalArgumentException("listen_port " + listenPort + " is outside 1..65535");
    }
    if (proxyProtocol < 0 || proxyProtocol > 2) {
      throw new IllegalArgumentException("proxy_protocol " + proxyProtocol + " is not 0, 1 or 2");
    }
    clusterType = clusterType == null ? LOGICAL_DNS : clusterType;
    source = source == null ? SOURCE_DYNAMIC : source;
    status = status == null ? STATUS_ACTIVE : status;
  }

  /** An active dynamic logical_dns route without PROXY protocol, 5 s connect timeout. */
  public static RouteSpec active(String name, int listenPort, String backendHost, int backendPort) {
    return new RouteSpec(
        name,
        listenPort,
        backendHost,
        backendPort,
        LOGICAL_DNS,
        DEFAULT_CONNECT_TIMEOUT_SECS,
        0,
        SOURCE_DYNAMIC,
        STATUS_ACTIVE);
  }

  /** A port reserved for a route that has no backend yet (status "placeholder"). */
  public static RouteSpec placeholder(String name, int listenPort) {
    return new RouteSpec(
        name,
        listenPort,
        null,
        null,
        LOGICAL_DNS,
        DEFAULT_CONNECT_TIMEOUT_SECS,
        0,
        SOURCE_DYNAMIC,
        STATUS_PLACEHOLDER);
  }

  public RouteSpec withClusterType(String type) {
    return new RouteSpec(
        name,
        listenPort,
        backendHost,
        backendPort,
        type,
        connectTimeoutSecs,
        proxyProtocol,
        source,
        status);
  }

  public RouteSpec withConnectTimeoutSecs(int secs) {
    return new RouteSpec(
        name,
        listenPort,
        backendHost,
        backendPort,
        clusterType,
        secs,
        proxyProtocol,
        source,
        status);
  }

  public RouteSpec withProxyProtocol(int version) {
    return new RouteSpec(
        name,
        listenPort,
        backendHost,
        backendPort,
        clusterType,
        connectTimeoutSecs,
        version,
        source,
        status);
  }

  public RouteSpec withSource(String s) {
    return new RouteSpec(
        name,
        listenPort,
        backendHost,
        backendPort,
        clusterType,
        connectTimeoutSecs,
        proxyProtocol,
        s,
        status);
  }

  public RouteSpec withStatus(String s) {
    return new RouteSpec(
        name,
        listenPort,
        backendHost,
        backendPort,
        clusterType,
        connectTimeoutSecs,
        proxyProtocol,
        source,
        s);
  }
}
