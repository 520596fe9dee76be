package io.sigma.agent.staticsync;

import io.sigma.agent.api.StaticRoute;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads an Envoy static config (the bootstrap YAML Envoy starts with, or JSON, which is YAML) and
 * turns each TCP proxy listener of {@code static_resources.listeners} into the {@link StaticRoute}
 * sigma-api's {@code POST /envoy-routes/sync-static} takes:
 *
 * <ul>
 *   <li>{@code name}: the listener's name ({@code listener-<port>} when it has none);
 *   <li>{@code listen_port}: {@code address.socket_address.port_value};
 *   <li>the first {@code envoy.filters.network.tcp_proxy} filter's {@code cluster}, looked up in
 *       {@code static_resources.clusters}: {@code backend_host}/{@code backend_port} from its first
 *       endpoint ({@code load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
 *       .socket_address}); {@code cluster_type} from {@code type} (STATIC, the default, STRICT_DNS,
 *       LOGICAL_DNS as static, strict_dns, logical_dns); {@code connect_timeout_secs} from {@code
 *       connect_timeout} ("5s", "0.25s"; Envoy's default 5s when absent) rounded <em>up</em> to
 *       whole seconds, so the recorded timeout is never shorter than the one Envoy uses; {@code
 *       proxy_protocol} 1 or 2 for an {@code envoy.transport_sockets.upstream_proxy_protocol}
 *       transport socket of version V1 (the default) or V2, else 0.
 * </ul>
 *
 * A listener that cannot be synced (no TCP proxy, a missing cluster, a port out of range, a port
 * already taken by an earlier listener, ...) is left out with a reason ({@link SkippedListener}); a
 * file that is not YAML or not an Envoy config fails as a whole ({@link StaticConfigException}).
 *
 * <p>The YAML is read by SnakeYAML (the parser under jackson-dataformat-yaml) with safe
 * construction (plain maps, lists and scalars; no tags to classes), which resolves anchors and
 * aliases as Envoy does; a "billion laughs" file is stopped by the alias limit ({@link
 * #MAX_ALIASES}), deep nesting by {@link #MAX_NESTING}, size by {@link #MAX_CODE_POINTS}. The
 * parser only walks fixed paths of the tree (never the whole of it), so aliased or self-referencing
 * collections cost no more than their references. Error texts name lines and keys, never values: an
 * Envoy config may hold inline TLS keys. Stateless and thread-safe.
 */
public final class EnvoyStaticConfigParser {
  public static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
  static final String TCP_PROXY_TYPE =
      "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
  public static final String PROXY_PROTOCOL_SOCKET =
      "envoy.transport_sockets.upstream_proxy_protocol";
  static final String PROXY_PROTOCOL_TYPE =
      "type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3"
          + ".ProxyProtocolUpstreamTransport";

  /** Aliases of collections a file may use (SnakeYAML's default); a YAML bomb needs thousands. */
  public static final int MAX_ALIASES = 50;

  /** Nesting of collections; an Envoy bootstrap is ~15 deep. */
  public static final int MAX_NESTING = 64;

  /** Characters of a file (the reader's byte cap is the first bound). */
  public static final int MAX_CODE_POINTS = 2 << 20;

  /** Listeners a file may have; more is refused as a whole rather than synced in part. */
  public static final int MAX_LISTENERS = 4096;

  /** Envoy's default connect_timeout. */
  public static final int DEFAULT_CONNECT_TIMEOUT_SECS = 5;

  private static final Pattern DURATION = Pattern.compile("(\\d{1,19})(?:\\.(\\d{1,9}))?s");

  /** Parses {@code text}; never throws anything but {@link StaticConfigException}. */
  public StaticConfig parse(String text) throws StaticConfigException {
    Object root = load(text);
    if (root == null) {
      throw new StaticConfigException("is empty");
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw new StaticConfigException(
          "is not an Envoy config: the top level is " + kind(root) + ", not a mapping");
    }
    Object resources = top.get("static_resources");
    if (resources == null) {
      throw new StaticConfigException(
          "is not an Envoy static config: it has no static_resources (a config without static"
              + " listeners says so with 'static_resources: {listeners: []}')");
    }
    if (!(resources instanceof Map<?, ?> staticResources)) {
      throw new StaticConfigException("static_resources is " + kind(resources) + ", not a mapping");
    }
    List<?> listeners = list(staticResources, "listeners", "static_resources.listeners");
    List<?> clusters = list(staticResources, "clusters", "static_resources.clusters");
    if (listeners.size() > MAX_LISTENERS) {
      throw new StaticConfigException(
          "has "
              + listeners.size()
              + " listeners, more than the "
              + MAX_LISTENERS
              + " the agent syncs");
    }
    Map<String, Map<?, ?>> clustersByName = new HashMap<>();
    for (Object c : clusters) {
      if (c instanceof Map<?, ?> cluster
          && cluster.get("name") instanceof String name
          && !clustersByName.containsKey(name)) {
        clustersByName.put(name, cluster);
      }
    }
    List<StaticRoute> routes = new ArrayList<>();
    List<SkippedListener> skipped = new ArrayList<>();
    Map<Integer, String> listenerOfPort = new HashMap<>();
    for (int i = 0; i < listeners.size(); i++) {
      String where = "static_resources.listeners[" + i + "]";
      Object l = listeners.get(i);
      if (!(l instanceof Map<?, ?> listener)) {
        skipped.add(new SkippedListener(where, "is " + kind(l) + ", not a mapping"));
        continue;
      }
      String name = listener.get("name") instanceof String n && !n.isBlank() ? n : null;
      try {
        StaticRoute route = route(listener, name, clustersByName);
        String earlier = listenerOfPort.putIfAbsent(route.listenPort(), route.name());
        if (earlier != null) {
          throw new Skip(
              "port " + route.listenPort() + " is already synced for listener '" + earlier + "'");
        }
        routes.add(route);
      } catch (Skip skip) {
        skipped.add(new SkippedListener(name == null ? where : name, skip.getMessage()));
      }
    }
    return new StaticConfig(routes, skipped);
  }

  private static Object load(String text) throws StaticConfigException {
    LoaderOptions options = new LoaderOptions();
    options.setMaxAliasesForCollections(MAX_ALIASES);
    options.setAllowRecursiveKeys(false);
    options.setNestingDepthLimit(MAX_NESTING);
    options.setCodePointLimit(MAX_CODE_POINTS);
    options.setAllowDuplicateKeys(false);
    try {
      return new Yaml(new SafeConstructor(options)).load(text);
    } catch (MarkedYAMLException e) {
      // getMessage() quotes the offending text; only the problem and the place are kept.
      String context = e.getContext() == null ? "" : e.getContext() + ": ";
      throw new StaticConfigException("is not valid YAML: " + context + e.getProblem() + at(e));
    } catch (YAMLException e) {
      throw new StaticConfigException("is not valid YAML: " + firstLine(e.getMessage()));
    } catch (RuntimeException | StackOverflowError e) {
      throw new StaticConfigException("cannot be parsed: " + e.getClass().getSimpleName());
    }
  }

  private static String at(MarkedYAMLException e) {
    Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
    return mark == null
        ? ""
        : " (line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ")";
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unknown error";
    }
    String line = message.lines().findFirst().orElse("");
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  /** An optional list; a present value of another kind fails the whole file. */
  private static List<?> list(Map<?, ?> map, String key, String path) throws StaticConfigException {
    Object value = map.get(key);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)) {
      throw new StaticConfigException(path + " is " + kind(value) + ", not a list");
    }
    return list;
  }

  /** Why a listener is left out. */
  private static final class Skip extends Exception {
    Skip(String reason) {
      super(reason, null, false, false);
    }
  }

  private static StaticRoute route(
      Map<?, ?> listener, String name, Map<String, Map<?, ?>> clustersByName) throws Skip {
    int port = listenPort(listener);
    Map<?, ?> tcpProxy = tcpProxyConfig(listener);
    Object clusterRef = tcpProxy.get("cluster");
    if (!(clusterRef instanceof String clusterName) || clusterName.isBlank()) {
      throw new Skip(
          tcpProxy.containsKey("weighted_clusters")
              ? "its tcp_proxy uses weighted_clusters; only a single cluster is synced"
              : "its tcp_proxy names no cluster");
    }
    Map<?, ?> cluster = clustersByName.get(clusterName);
    if (cluster == null) {
      throw new Skip("its cluster '" + clusterName + "' is not in static_resources.clusters");
    }
    String clusterType = clusterType(cluster, clusterName);
    Map<?, ?> socket =
        mapAt(
            cluster,
            "load_assignment",
            "endpoints",
            0,
            "lb_endpoints",
            0,
            "endpoint",
            "address",
            "socket_address");
    if (socket == null) {
      throw new Skip(
          "cluster '"
              + clusterName
              + "' has no endpoint (load_assignment.endpoints[0].lb_endpoints[0].endpoint"
              + ".address.socket_address)");
    }
    Object host = socket.get("address");
    if (!(host instanceof String backendHost)
        || backendHost.isBlank()
        || backendHost.length() > 253
        || backendHost.chars().anyMatch(Character::isWhitespace)) {
      throw new Skip(
          "cluster '" + clusterName + "' endpoint address is missing or not a host name/address");
    }
    int backendPort = port(socket.get("port_value"), "cluster '" + clusterName + "' endpoint");
    return new StaticRoute(
        name == null ? "listener-" + port : name,
        port,
        backendHost,
        backendPort,
        clusterType,
        connectTimeoutSecs(cluster.get("connect_timeout"), clusterName),
        proxyProtocol(cluster, clusterName));
  }

  private static int listenPort(Map<?, ?> listener) throws Skip {
    Map<?, ?> address = mapAt(listener, "address");
    if (address != null && address.containsKey("pipe")) {
      throw new Skip("listens on a pipe, not a TCP port");
    }
    Map<?, ?> socket = mapAt(listener, "address", "socket_address");
    if (socket == null || !socket.containsKey("port_value")) {
      throw new Skip("has no address.socket_address.port_value");
    }
    if (socket.get("protocol") instanceof String protocol && protocol.equalsIgnoreCase("UDP")) {
      throw new Skip("is a UDP listener");
    }
    return port(socket.get("port_value"), "listener");
  }

  /** A port as Envoy reads one: an integer, or a string of digits (proto JSON), 1-65535. */
  private static int port(Object value, String what) throws Skip {
    BigInteger number;
    if (value instanceof Integer || value instanceof Long) {
      number = BigInteger.valueOf(((Number) value).longValue());
    } else if (value instanceof BigInteger big) {
      number = big;
    } else if (value instanceof String s && s.matches("\\d{1,10}")) {
      number = new BigInteger(s);
    } else {
      throw new Skip(what + " port_value is " + kind(value) + ", not an integer");
    }
    if (number.signum() <= 0 || number.compareTo(BigInteger.valueOf(65535)) > 0) {
      throw new Skip(what + " port_value " + number + " is out of range 1-65535");
    }
    return number.intValue();
  }

  /** The typed_config of the listener's first TCP proxy filter. */
  private static Map<?, ?> tcpProxyConfig(Map<?, ?> listener) throws Skip {
    if (listener.get("filter_chains") instanceof List<?> chains) {
      for (Object chain : chains) {
        if (chain instanceof Map<?, ?> c && c.get("filters") instanceof List<?> filters) {
          for (Object f : filters) {
            if (f instanceof Map<?, ?> filter && isTcpProxy(filter)) {
              Map<?, ?> config = mapAt(filter, "typed_config");
              if (config == null) {
                throw new Skip("its tcp_proxy filter has no typed_config");
              }
              return config;
            }
          }
        }
      }
    }
    throw new Skip("has no " + TCP_PROXY + " filter (not a TCP proxy)");
  }

  private static boolean isTcpProxy(Map<?, ?> filter) {
    return TCP_PROXY.equals(filter.get("name"))
        || TCP_PROXY_TYPE.equals(value(mapAt(filter, "typed_config"), "@type"));
  }

  private static String clusterType(Map<?, ?> cluster, String clusterName) throws Skip {
    if (cluster.containsKey("cluster_type")) {
      throw new Skip("cluster '" + clusterName + "' has a custom cluster_type");
    }
    Object type = cluster.containsKey("type") ? cluster.get("type") : "STATIC";
    if (!(type instanceof String t)) {
      throw new Skip("cluster '" + clusterName + "' type is " + kind(type) + ", not a string");
    }
    return switch (t) {
      case "STATIC" -> "static";
      case "STRICT_DNS" -> "strict_dns";
      case "LOGICAL_DNS" -> "logical_dns";
      default ->
          throw new Skip(
              "cluster '"
                  + clusterName
                  + "' has type "
                  + (t.length() > 40 ? t.substring(0, 40) + "..." : t)
                  + "; only STATIC, STRICT_DNS and LOGICAL_DNS have a fixed endpoint");
    };
  }

  /** "5s" → 5, "0.25s" → 1, "5.000000001s" → 6: whole seconds, rounded up. */
  static int connectTimeoutSecs(Object value, String clusterName) throws Skip {
    if (value == null) {
      return DEFAULT_CONNECT_TIMEOUT_SECS;
    }
    Matcher m = value instanceof String s ? DURATION.matcher(s.trim()) : null;
    if (m == null || !m.matches()) {
      throw new Skip(
          "cluster '"
              + clusterName
              + "' connect_timeout is "
              + (value instanceof String ? "not" : kind(value) + ", not")
              + " a duration such as \"5s\" or \"0.25s\"");
    }
    BigInteger seconds = new BigInteger(m.group(1));
    boolean fraction = m.group(2) != null && !m.group(2).matches("0+");
    if (fraction) {
      seconds = seconds.add(BigInteger.ONE);
    }
    if (seconds.compareTo(BigInteger.valueOf(Integer.MAX_VALUE)) > 0) {
      throw new Skip("cluster '" + clusterName + "' connect_timeout is out of range");
    }
    return seconds.intValue();
  }

  /** 1 or 2 for an upstream PROXY protocol transport socket of version V1 or V2, else 0. */
  static int proxyProtocol(Map<?, ?> cluster, String clusterName) throws Skip {
    Map<?, ?> socket = mapAt(cluster, "transport_socket");
    if (socket == null) {
      return 0;
    }
    Map<?, ?> typed = mapAt(socket, "typed_config");
    boolean proxyProtocol =
        PROXY_PROTOCOL_SOCKET.equals(socket.get("name"))
            || PROXY_PROTOCOL_TYPE.equals(value(typed, "@type"));
    if (!proxyProtocol) {
      return 0;
    }
    Object version = value(mapAt(typed, "config"), "version");
    if (version == null || "V1".equals(version)) {
      return 1;
    }
    if ("V2".equals(version)) {
      return 2;
    }
    throw new Skip(
        "cluster '"
            + clusterName
            + "' PROXY protocol version is not V1 or V2 (transport_socket.typed_config.config"
            + ".version)");
  }

  /**
   * The map at a path of keys (String) and list indexes (Integer), or null when a step is missing
   * or of another kind.
   */
  static Map<?, ?> mapAt(Object node, Object... path) {
    Object current = node;
    for (Object step : path) {
      if (step instanceof String key && current instanceof Map<?, ?> map) {
        current = map.get(key);
      } else if (step instanceof Integer index
          && current instanceof List<?> list
          && index < list.size()) {
        current = list.get(index);
      } else {
        return null;
      }
    }
    return current instanceof Map<?, ?> map ? map : null;
  }

  /** The value of {@code key} in {@code map}, or null (also when {@code map} is null). */
  private static Object value(Map<?, ?> map, String key) {
    return map == null ? null : map.get(key);
  }

  /** What a YAML value is, for messages (never the value itself). */
  static String kind(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof Map<?, ?>) {
      return "a mapping";
    }
    if (value instanceof List<?>) {
      return "a list";
    }
    if (value instanceof String) {
      return "a string";
    }
    if (value instanceof Boolean) {
      return "a boolean";
    }
    if (value instanceof Double || value instanceof Float) {
      return "a decimal number";
    }
    if (value instanceof Number) {
      return "an integer";
    }
    return "a " + value.getClass().getSimpleName();
  }
}
