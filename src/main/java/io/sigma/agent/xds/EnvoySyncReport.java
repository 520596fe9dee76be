package io.sigma.agent.xds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The {@code system_info.envoy} object of a heartbeat (sigma-api contract, section 6): per Envoy
 * node.id the agent serves, whether the config it serves reached the node's Envoys. Pure: an {@link
 * XdsStatus} in, a JSON object out.
 *
 * <pre>{@code
 * {"layer4-01": {"streams": 1, "config_version": 7,
 *                "acked": {"cluster": "7", "listener": "7"},
 *                "last_nack": {"type": "listener", "message": "...", "at": "2026-11-26T10:00:00Z"}}}
 * }</pre>
 *
 * <ul>
 *   <li>{@code streams}: connected ADS streams of the node.
 *   <li>{@code config_version}: the sigma-api config_version served to it, null while it has none.
 *   <li>{@code acked.cluster} / {@code acked.listener}: what every connected stream has ACKed. The
 *       config_version (as text) when that is the config served now, so {@code acked.listener ==
 *       config_version} means the route change reached Envoy; the raw xDS version_info when a
 *       stream still holds an older config; null when some stream has ACKed nothing of the type yet
 *       (or none is connected).
 *   <li>{@code last_nack}: the newest rejection on the node's connected streams, null if none.
 * </ul>
 *
 * <p>Bounded whatever Envoys send (the node.id and the NACK message are theirs): node.ids and
 * messages on one line with control and format characters escaped, node.ids cut to {@link
 * #MAX_NODE_ID_CHARS}, messages to {@link #MAX_MESSAGE_CHARS}; at most {@link #MAX_NODES} nodes and
 * {@link #MAX_BYTES} bytes of JSON. Nodes served a config come first, then the others, each by
 * node.id; those that do not fit are counted under {@link #MORE} as {@code {"nodes": n, "streams":
 * s}}.
 */
public final class EnvoySyncReport {

  /** Nodes listed one by one; the rest are counted under {@link #MORE}. */
  public static final int MAX_NODES = 64;

  /** A node.id longer than this is cut (the key stays unique: a clash is counted under MORE). */
  public static final int MAX_NODE_ID_CHARS = 128;

  /** Envoy's NACK message (error_detail) is cut to this many characters. */
  public static final int MAX_MESSAGE_CHARS = 512;

  /** A resource type name (another type than Cluster or Listener may be NACKed) is cut to this. */
  static final int MAX_TYPE_CHARS = 64;

  /** An acked version_info is the agent's own text; cut anyway. */
  static final int MAX_VERSION_CHARS = 64;

  /** The whole object, as compact JSON in UTF-8, stays under this. */
  public static final int MAX_BYTES = 16 * 1024;

  /** The key counting the nodes left out (a node whose id is this key is counted there too). */
  public static final String MORE = "_more";

  /** Room kept for the {@link #MORE} entry and the braces of the object. */
  private static final int RESERVED_BYTES = 96;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private EnvoySyncReport() {}

  /** The {@code system_info.envoy} object for {@code status}. */
  public static ObjectNode of(XdsStatus status) {
    List<NodeStatus> ordered = new ArrayList<>(status.nodes());
    ordered.sort(
        Comparator.comparing((NodeStatus node) -> node.snapshotVersion() == null)
            .thenComparing(NodeStatus::nodeId));
    ObjectNode report = NODES.objectNode();
    int bytes = 2; // {}
    int leftOutNodes = 0;
    long leftOutStreams = 0;
    for (NodeStatus node : ordered) {
      String key = QuotedText.oneLine(node.nodeId(), MAX_NODE_ID_CHARS);
      boolean listed = false;
      if (report.size() < MAX_NODES && !MORE.equals(key) && !report.has(key)) {
        ObjectNode entry = entry(node);
        int entryBytes = jsonBytes(key) + 1 + jsonBytes(entry) + 1; // "key":{...},
        if (bytes + entryBytes + RESERVED_BYTES <= MAX_BYTES) {
          report.set(key, entry);
          bytes += entryBytes;
          listed = true;
        }
      }
      if (!listed) {
        leftOutNodes++;
        leftOutStreams += node.streams().size();
      }
    }
    if (leftOutNodes > 0) {
      ObjectNode more = report.putObject(MORE);
      more.put("nodes", leftOutNodes);
      more.put("streams", leftOutStreams);
    }
    return report;
  }

  /** Size of {@code value} as compact JSON in UTF-8. */
  static int jsonBytes(Object value) {
    try {
      return JSON.writeValueAsString(value).getBytes(StandardCharsets.UTF_8).length;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JsonNode or String always serialises", e);
    }
  }

  private static ObjectNode entry(NodeStatus node) {
    ObjectNode entry = NODES.objectNode();
    entry.put("streams", node.streams().size());
    if (node.snapshotVersion() == null) {
      entry.putNull("config_version");
    } else {
      entry.put("config_version", node.snapshotVersion());
    }
    ObjectNode acked = entry.putObject("acked");
    acked.put("cluster", acked(node, TypeUrls.CLUSTER));
    acked.put("listener", acked(node, TypeUrls.LISTENER));
    ResourceTypeStatus nack = lastNack(node);
    if (nack == null) {
      entry.putNull("last_nack");
    } else {
      ObjectNode lastNack = entry.putObject("last_nack");
      lastNack.put("type", typeName(nack.typeUrl()));
      lastNack.put(
          "message",
          QuotedText.oneLine(
              nack.lastNackMessage() == null ? "" : nack.lastNackMessage(), MAX_MESSAGE_CHARS));
      lastNack.put("at", nack.lastNackAt().toString());
    }
    return entry;
  }

  /**
   * What all streams of the node subscribed to {@code typeUrl} have ACKed: null when one has not
   * ACKed yet (or none subscribed), else a stream's version that is not the served config if any,
   * else the served config_version.
   */
  private static String acked(NodeStatus node, String typeUrl) {
    String current = null;
    String older = null;
    boolean subscribed = false;
    for (StreamStatus stream : node.streams()) {
      ResourceTypeStatus type = stream.type(typeUrl);
      if (type == null) {
        continue;
      }
      subscribed = true;
      String version = type.ackedVersion();
      if (version == null) {
        return null;
      }
      if (isServed(node, version)) {
        current = String.valueOf(node.snapshotVersion());
      } else if (older == null) {
        older = QuotedText.oneLine(version, MAX_VERSION_CHARS);
      }
    }
    if (!subscribed) {
      return null;
    }
    return older != null ? older : current;
  }

  /**
   * Whether {@code version} (a version_info Envoy ACKed) is the served snapshot's: its
   * version_info, or that plus {@code +digest} (its Clusters and ones retained for make before
   * break).
   */
  private static boolean isServed(NodeStatus node, String version) {
    String served = node.versionInfo();
    return node.snapshotVersion() != null
        && served != null
        && (version.equals(served)
            || (version.startsWith(served) && version.startsWith("+", served.length())));
  }

  private static ResourceTypeStatus lastNack(NodeStatus node) {
    ResourceTypeStatus newest = null;
    for (StreamStatus stream : node.streams()) {
      for (ResourceTypeStatus type : stream.types()) {
        if (type.lastNackAt() != null
            && (newest == null || type.lastNackAt().isAfter(newest.lastNackAt()))) {
          newest = type;
        }
      }
    }
    return newest;
  }

  /** "cluster", "listener", or the short name of another type in lower case. */
  private static String typeName(String typeUrl) {
    return QuotedText.oneLine(TypeUrls.shortName(typeUrl).toLowerCase(Locale.ROOT), MAX_TYPE_CHARS);
  }
}
