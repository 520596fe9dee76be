package io.sigma.agent.devapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.StaticRoute;
import io.sigma.agent.host.IpLiterals;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns request bodies and query parameters into checked inputs, the way the real sigma-api
 * validates them: anything malformed, of the wrong type or out of range is an {@link ApiRejection}
 * with status 400. Pure code, no HTTP.
 */
public final class DevApiRequests {
  private static final Pattern UUID_TEXT =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  static final int DEFAULT_SSH_PORT = 22;

  private final ObjectReader reader;

  public DevApiRequests(ObjectMapper mapper) {
    this.reader = mapper.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  /** Body of {@code POST /agent/register}. {@code systemInfo} is kept verbatim. */
  public record RegisterInput(
      String hostname,
      String alias,
      List<IpAddress> ipAddresses,
      int sshPort,
      JsonNode systemInfo) {}

  /** Body of {@code POST /agent/heartbeat}; a null {@code systemInfo} keeps the stored one. */
  public record HeartbeatInput(String hostname, List<IpAddress> ipAddresses, JsonNode systemInfo) {}

  /** Body of {@code POST /envoy-nodes}. */
  public record CreateNodeInput(
      String vpsId, String nodeId, String description, Integer adminPort, String status) {}

  /** Body of {@code POST /envoy-routes/sync-static}. */
  public record SyncStaticInput(String envoyNodeId, List<StaticRoute> routes) {}

  public JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      throw ApiRejection.badRequest("request body must be a JSON object");
    }
    try {
      JsonNode node = reader.readTree(body);
      if (node == null || !node.isObject()) {
        throw ApiRejection.badRequest("request body must be a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw ApiRejection.badRequest("malformed JSON: " + e.getOriginalMessage());
    }
  }

  public RegisterInput register(JsonNode body) {
    String hostname = requiredText(body, "hostname");
    String alias = optionalText(body, "alias");
    List<IpAddress> ips = ipAddresses(body);
    Integer sshPort = optionalPort(body, "ssh_port");
    JsonNode systemInfo = optionalObject(body, "system_info");
    return new RegisterInput(
        hostname, alias, ips, sshPort == null ? DEFAULT_SSH_PORT : sshPort, systemInfo);
  }

  public HeartbeatInput heartbeat(JsonNode body) {
    return new HeartbeatInput(
        requiredText(body, "hostname"), ipAddresses(body), optionalObject(body, "system_info"));
  }

  public CreateNodeInput createNode(JsonNode body) {
    String vpsId = requiredText(body, "vps_id");
    requireUuid("vps_id", vpsId);
    String nodeId = requiredText(body, "node_id");
    String description = optionalText(body, "description");
    Integer adminPort = optionalPort(body, "admin_port");
    String status = optionalText(body, "status");
    return new CreateNodeInput(
        vpsId,
        nodeId,
        description == null ? "" : description,
        adminPort,
        status == null || status.isBlank() ? "active" : status);
  }

  public SyncStaticInput syncStatic(JsonNode body) {
    String nodeId = requiredText(body, "envoy_node_id");
    requireUuid("envoy_node_id", nodeId);
    JsonNode routes = body.get("routes");
    if (routes == null || !routes.isArray()) {
      throw ApiRejection.badRequest("routes must be an array");
    }
    List<StaticRoute> out = new ArrayList<>();
    Set<Integer> ports = new HashSet<>();
    for (JsonNode r : routes) {
      if (!r.isObject()) {
        throw ApiRejection.badRequest("routes[] entries must be objects");
      }
      String name = requiredText(r, "name");
      Integer listenPort = optionalPort(r, "listen_port");
      if (listenPort == null) {
        throw ApiRejection.badRequest("listen_port is required");
      }
      if (!ports.add(listenPort)) {
        throw ApiRejection.badRequest("listen_port " + listenPort + " appears twice");
      }
      Integer timeout = optionalInt(r, "connect_timeout_secs");
      if (timeout != null && timeout < 0) {
        throw ApiRejection.badRequest("connect_timeout_secs must not be negative");
      }
      Integer proxyProtocol = optionalInt(r, "proxy_protocol");
      if (proxyProtocol != null && (proxyProtocol < 0 || proxyProtocol > 2)) {
        throw ApiRejection.badRequest("proxy_protocol must be 0, 1 or 2");
      }
      String clusterType = optionalText(r, "cluster_type");
      out.add(
          new StaticRoute(
              name,
              listenPort,
              optionalText(r, "backend_host"),
              optionalInt(r, "backend_port"),
              clusterType == null || clusterType.isBlank() ? RouteSpec.LOGICAL_DNS : clusterType,
              timeout == null ? RouteSpec.DEFAULT_CONNECT_TIMEOUT_SECS : timeout,
              proxyProtocol == null ? 0 : proxyProtocol));
    }
    return new SyncStaticInput(nodeId, out);
  }

  /** A {@code page}/{@code per_page} query value: absent is null, non-integers are a 400. */
  public static Integer intParam(String name, String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw ApiRejection.badRequest(name + " must be an integer");
    }
  }

  /** A uuid query value: absent is null, anything but a UUID is a 400. */
  public static String uuidParam(String name, String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    requireUuid(name, value);
    return value.toLowerCase();
  }

  static boolean isUuid(String s) {
    return s != null && UUID_TEXT.matcher(s).matches();
  }

  private static void requireUuid(String field, String value) {
    if (!isUuid(value)) {
      throw ApiRejection.badRequest(field + " must be a UUID");
    }
  }

  private static List<IpAddress> ipAddresses(JsonNode body) {
    JsonNode ips = body.get("ip_addresses");
    if (ips == null || ips.isNull()) {
      return List.of();
    }
    if (!ips.isArray()) {
      throw ApiRejection.badRequest("ip_addresses must be an array");
    }
    List<IpAddress> out = new ArrayList<>();
    for (JsonNode entry : ips) {
      if (!entry.isObject()) {
        throw ApiRejection.badRequest("ip_addresses[] entries must be objects");
      }
      String ip = requiredText(entry, "ip");
      if (IpLiterals.parse(ip).isEmpty()) {
        throw ApiRejection.badRequest("invalid IP address: " + ip);
      }
      String label = optionalText(entry, "label");
      out.add(new IpAddress(ip, label == null ? "" : label));
    }
    return out;
  }

  private static String requiredText(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      throw ApiRejection.badRequest(field + " is required");
    }
    if (!v.isTextual()) {
      throw ApiRejection.badRequest(field + " must be a string");
    }
    if (v.asText().isBlank()) {
      throw ApiRejection.badRequest(field + " must not be empty");
    }
    return v.asText();
  }

  private static String optionalText(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw ApiRejection.badRequest(field + " must be a string");
    }
    return v.asText();
  }

  private static Integer optionalInt(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw ApiRejection.badRequest(field + " must be an integer");
    }
    return v.intValue();
  }

  private static Integer optionalPort(JsonNode body, String field) {
    Integer port = optionalInt(body, field);
    if (port != null && (port < 1 || port > 65535)) {
      throw ApiRejection.badRequest(field + " must be within 1..65535");
    }
    return port;
  }

  private static JsonNode optionalObject(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isObject()) {
      throw ApiRejection.badRequest(field + " must be an object");
    }
    return v;
  }
}
