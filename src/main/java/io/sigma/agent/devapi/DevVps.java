package io.sigma.agent.devapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sigma.agent.api.IpAddress;
import java.util.List;

/**
 * A VPS record as the dev API stores and serves it: the full shape of sigma-api's record
 * (serialized with {@code Json.newMapper()} it gives the snake_case wire fields), of which the
 * agent reads only {@code id}, {@code hostname} and {@code status}. {@code extra.system_info} holds
 * the agent's {@code system_info} verbatim; the hardware columns are copied from it when they are
 * integers.
 */
public record DevVps(
    String id,
    String hostname,
    String alias,
    String providerId,
    List<IpAddress> ipAddresses,
    int sshPort,
    String country,
    String city,
    Integer cpuCores,
    Long ramMb,
    Long diskGb,
    String status,
    JsonNode extra,
    String createdAt,
    String updatedAt) {

  public static final String ACTIVE = "active";

  public DevVps {
    ipAddresses = List.copyOf(ipAddresses);
    extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
  }

  /** A copy: JSON nodes are mutable and the store's records must not be. */
  @Override
  public JsonNode extra() {
    return extra.deepCopy();
  }

  /** {@code extra.system_info} as the agent sent it (an empty object if it sent none). */
  public JsonNode systemInfo() {
    JsonNode info = extra.get("system_info");
    return info == null ? JsonNodeFactory.instance.objectNode() : info.deepCopy();
  }

  static ObjectNode extraWith(JsonNode systemInfo) {
    ObjectNode extra = JsonNodeFactory.instance.objectNode();
    extra.set(
        "system_info",
        systemInfo == null ? JsonNodeFactory.instance.objectNode() : systemInfo.deepCopy());
    return extra;
  }
}
