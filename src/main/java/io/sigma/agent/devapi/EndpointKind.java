package io.sigma.agent.devapi;

/**
 * The sigma-api endpoints the dev API serves, used to count requests and to aim faults. {@link
 * #OTHER} is every request that matches none of them (answered 404).
 */
public enum EndpointKind {
  REGISTER,
  HEARTBEAT,
  ENVOY_NODES,
  ENVOY_ROUTES,
  CREATE_NODE,
  SYNC_STATIC,
  OTHER;

  /** The path prefix every endpoint lives under (the contract's default base URL path). */
  public static final String BASE_PATH = "/api";

  /**
   * Which endpoint a request addresses. {@code path} is the full request path (e.g. {@code
   * /api/agent/register}); one trailing slash is tolerated, doubled slashes are not.
   */
  public static EndpointKind classify(String method, String path) {
    if (method == null || path == null) {
      return OTHER;
    }
    String p =
        path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    if (!p.startsWith(BASE_PATH + "/")) {
      return OTHER;
    }
    String rest = p.substring(BASE_PATH.length());
    boolean post = method.equalsIgnoreCase("POST");
    boolean get = method.equalsIgnoreCase("GET");
    return switch (rest) {
      case "/agent/register" -> post ? REGISTER : OTHER;
      case "/agent/heartbeat" -> post ? HEARTBEAT : OTHER;
      case "/envoy-nodes" -> get ? ENVOY_NODES : post ? CREATE_NODE : OTHER;
      case "/envoy-routes" -> get ? ENVOY_ROUTES : OTHER;
      case "/envoy-routes/sync-static" -> post ? SYNC_STATIC : OTHER;
      default -> OTHER;
    };
  }
}
