package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class EnvoySyncReportTest {

  private static final Instant OPENED = Instant.parse("2026-11-26T09:00:00Z");
  private static final Instant EARLIER = Instant.parse("2026-11-26T09:30:00Z");
  private static final Instant LATER = Instant.parse("2026-11-26T09:45:00Z");

  @Test
  void aSyncedNodeReportsItsConfigVersionAsAckedForBothTypes() throws Exception {
    NodeStatus node =
        node(
            "layer4-01",
            7L,
            "1764151200000",
            stream(
                1,
                acked(TypeUrls.CLUSTER, "1764151200000"),
                acked(TypeUrls.LISTENER, "1764151200000")));

    ObjectNode report = EnvoySyncReport.of(new XdsStatus(List.of(node)));

    assertEquals(
        new ObjectMapper()
            .readTree(
                "{\"layer4-01\":{\"streams\":1,\"config_version\":7,"
                    + "\"acked\":{\"cluster\":\"7\",\"listener\":\"7\"},\"last_nack\":null}}"),
        new ObjectMapper().readTree(report.toString()));
  }

  @Test
  void clustersWithRetainedOnesCountAsTheServedConfig() {
    NodeStatus node =
        node(
            "n",
            8L,
            "100",
            stream(1, acked(TypeUrls.CLUSTER, "100+0a1b2c3d"), acked(TypeUrls.LISTENER, "100")));

    JsonNode acked = EnvoySyncReport.of(new XdsStatus(List.of(node))).get("n").get("acked");

    assertEquals("8", acked.get("cluster").asText());
    assertEquals("8", acked.get("listener").asText());
  }

  @Test
  void anOlderAckIsReportedRawSoItNeverEqualsTheConfigVersion() {
    NodeStatus node =
        node(
            "n",
            8L,
            "100",
            stream(1, acked(TypeUrls.CLUSTER, "100"), acked(TypeUrls.LISTENER, "100")),
            stream(2, acked(TypeUrls.CLUSTER, "100"), acked(TypeUrls.LISTENER, "99")));

    JsonNode entry = EnvoySyncReport.of(new XdsStatus(List.of(node))).get("n");

    assertEquals(2, entry.get("streams").asInt());
    assertEquals("8", entry.get("acked").get("cluster").asText());
    assertEquals("99", entry.get("acked").get("listener").asText());
  }

  @Test
  void aVersionThatOnlyStartsWithTheServedOneIsNotIt() {
    NodeStatus node = node("n", 8L, "100", stream(1, acked(TypeUrls.LISTENER, "1000")));

    assertEquals(
        "1000",
        EnvoySyncReport.of(new XdsStatus(List.of(node)))
            .get("n")
            .get("acked")
            .get("listener")
            .asText());
  }

  @Test
  void aStreamThatHasNotAckedYetMakesTheTypeNull() {
    NodeStatus node =
        node(
            "n",
            8L,
            "100",
            stream(1, acked(TypeUrls.CLUSTER, "100"), acked(TypeUrls.LISTENER, "100")),
            stream(2, acked(TypeUrls.CLUSTER, "100"), acked(TypeUrls.LISTENER, null)));

    JsonNode acked = EnvoySyncReport.of(new XdsStatus(List.of(node))).get("n").get("acked");

    assertEquals("8", acked.get("cluster").asText());
    assertTrue(acked.get("listener").isNull());
  }

  @Test
  void aNodeWithoutSnapshotOrStreamsHasNullsNotGuesses() {
    NodeStatus waiting = node("waiting", null, null, stream(1, acked(TypeUrls.CLUSTER, "5")));
    NodeStatus idle = node("idle", 3L, "30");

    ObjectNode report = EnvoySyncReport.of(new XdsStatus(List.of(waiting, idle)));

    JsonNode w = report.get("waiting");
    assertTrue(w.get("config_version").isNull());
    assertEquals("5", w.get("acked").get("cluster").asText(), "raw: it is not a served config");
    assertTrue(w.get("acked").get("listener").isNull(), "no stream subscribed to Listeners");
    JsonNode i = report.get("idle");
    assertEquals(0, i.get("streams").asInt());
    assertEquals(3, i.get("config_version").asLong());
    assertTrue(i.get("acked").get("cluster").isNull());
    assertTrue(i.get("last_nack").isNull());
  }

  @Test
  void theNewestNackOfAnyStreamAndTypeIsReported() {
    NodeStatus node =
        node(
            "n",
            8L,
            "100",
            stream(1, nacked(TypeUrls.CLUSTER, "100", "old problem", EARLIER)),
            stream(2, nacked(TypeUrls.LISTENER, "100", "port 80 in use", LATER)));

    JsonNode nack = EnvoySyncReport.of(new XdsStatus(List.of(node))).get("n").get("last_nack");

    assertEquals("listener", nack.get("type").asText());
    assertEquals("port 80 in use", nack.get("message").asText());
    assertEquals("2026-11-26T09:45:00Z", nack.get("at").asText());
  }

  @Test
  void aHugeNackMessageIsCutAndItsControlCharactersEscaped() {
    String hostile = "bad\nline\u0000\u202e" + "x".repeat(100_000);
    NodeStatus node =
        node("n", 8L, "100", stream(1, nacked(TypeUrls.LISTENER, "100", hostile, LATER)));

    String message =
        EnvoySyncReport.of(new XdsStatus(List.of(node)))
            .get("n")
            .get("last_nack")
            .get("message")
            .asText();

    assertTrue(message.startsWith("bad\\nline\\u0000\\u202E"), message.substring(0, 40));
    assertTrue(message.length() <= EnvoySyncReport.MAX_MESSAGE_CHARS + 1, "" + message.length());
    assertTrue(message.endsWith(QuotedText.CUT));
    assertFalse(message.chars().anyMatch(Character::isISOControl));
  }

  @Test
  void anUnknownNackedTypeIsNamedShortLowerCaseAndBounded() {
    String type = "type.googleapis.com/" + "Z".repeat(1000) + ".Secret\nX";
    NodeStatus node = node("n", 8L, "100", stream(1, nacked(type, "100", "no", LATER)));

    String name =
        EnvoySyncReport.of(new XdsStatus(List.of(node)))
            .get("n")
            .get("last_nack")
            .get("type")
            .asText();

    assertEquals("secret\\nx", name);
    String longType = "type.googleapis.com/x." + "Y".repeat(1000);
    NodeStatus other = node("n", 8L, "100", stream(1, nacked(longType, "100", "no", LATER)));
    String cut =
        EnvoySyncReport.of(new XdsStatus(List.of(other)))
            .get("n")
            .get("last_nack")
            .get("type")
            .asText();
    assertEquals(EnvoySyncReport.MAX_TYPE_CHARS + 1, cut.length());
  }

  @Test
  void hostileNodeIdsAreEscapedAndCut() {
    String longId = "L".repeat(10_000);
    NodeStatus control = node("evil\r\nid\u2028", 1L, "1");
    NodeStatus huge = node(longId, 2L, "2");

    ObjectNode report = EnvoySyncReport.of(new XdsStatus(List.of(control, huge)));

    List<String> keys = keys(report);
    assertTrue(keys.contains("evil\\r\\nid\\u2028"), keys.toString());
    assertTrue(keys.contains("L".repeat(EnvoySyncReport.MAX_NODE_ID_CHARS) + QuotedText.CUT));
  }

  @Test
  void nodeIdsThatCollideAfterCuttingAreCountedNotMerged() {
    String prefix = "p".repeat(EnvoySyncReport.MAX_NODE_ID_CHARS);
    NodeStatus a = node(prefix + "a", 1L, "1", stream(1));
    NodeStatus b = node(prefix + "b", 2L, "2", stream(2), stream(3));

    ObjectNode report = EnvoySyncReport.of(new XdsStatus(List.of(a, b)));

    assertEquals(1, report.get(prefix + QuotedText.CUT).get("streams").asInt(), "the first listed");
    assertEquals(1, report.get(EnvoySyncReport.MORE).get("nodes").asInt());
    assertEquals(2, report.get(EnvoySyncReport.MORE).get("streams").asInt());
  }

  @Test
  void aNodeNamedLikeTheSummaryKeyIsCountedInTheSummary() {
    NodeStatus sneaky = node(EnvoySyncReport.MORE, 1L, "1", stream(1));

    ObjectNode report = EnvoySyncReport.of(new XdsStatus(List.of(sneaky)));

    assertEquals(List.of(EnvoySyncReport.MORE), keys(report));
    assertEquals(1, report.get(EnvoySyncReport.MORE).get("nodes").asInt());
  }

  @Test
  void atMostMaxNodesAreListedAndServedNodesComeFirst() {
    List<NodeStatus> nodes = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      // "a.." ids sort first but have no config: the served "z.." nodes must win the places.
      nodes.add(node(String.format("a%03d", i), null, null, stream(i)));
      nodes.add(node(String.format("z%03d", i), (long) i, String.valueOf(i)));
    }

    ObjectNode report = EnvoySyncReport.of(new XdsStatus(nodes));

    List<String> keys = keys(report);
    assertEquals(EnvoySyncReport.MAX_NODES + 1, keys.size());
    assertEquals("z000", keys.get(0));
    assertEquals("z063", keys.get(EnvoySyncReport.MAX_NODES - 1));
    JsonNode more = report.get(EnvoySyncReport.MORE);
    assertEquals(200 - EnvoySyncReport.MAX_NODES, more.get("nodes").asInt());
    assertEquals(100, more.get("streams").asInt(), "the left-out a.. nodes have one stream each");
  }

  @Test
  void theWholeObjectStaysUnderTheByteBoundWithHostileNodesAndMessages() {
    // Each node as large as the per-value bounds allow: 4-byte characters in the id, a message
    // of backslashes (each doubled by JSON escaping).
    String emoji = "\uD83D\uDE00";
    List<NodeStatus> nodes = new ArrayList<>();
    for (int i = 0; i < EnvoySyncReport.MAX_NODES; i++) {
      String id = i + emoji.repeat(200);
      nodes.add(
          node(id, 1L, "1", stream(i, nacked(TypeUrls.LISTENER, "1", "\\".repeat(5000), LATER))));
    }

    ObjectNode report = EnvoySyncReport.of(new XdsStatus(nodes));

    int bytes = report.toString().getBytes(StandardCharsets.UTF_8).length;
    assertTrue(bytes <= EnvoySyncReport.MAX_BYTES, bytes + " bytes");
    assertTrue(report.has(EnvoySyncReport.MORE));
    int listed = report.size() - 1;
    assertTrue(listed > 0 && listed < EnvoySyncReport.MAX_NODES, listed + " listed");
    assertEquals(
        EnvoySyncReport.MAX_NODES - listed, report.get(EnvoySyncReport.MORE).get("nodes").asInt());
  }

  @Test
  void anEmptyStatusGivesAnEmptyObject() {
    assertEquals(0, EnvoySyncReport.of(new XdsStatus(List.of())).size());
  }

  private static List<String> keys(ObjectNode report) {
    List<String> keys = new ArrayList<>();
    Iterator<String> names = report.fieldNames();
    names.forEachRemaining(keys::add);
    return keys;
  }

  private static NodeStatus node(
      String nodeId, Long version, String versionInfo, StreamStatus... streams) {
    return new NodeStatus(nodeId, version, versionInfo, 1, 1, 1, List.of(streams));
  }

  private static StreamStatus stream(long id, ResourceTypeStatus... types) {
    return new StreamStatus(id, "ignored", OPENED, null, List.of(types));
  }

  private static ResourceTypeStatus acked(String typeUrl, String version) {
    return new ResourceTypeStatus(
        typeUrl, version, version, false, 1, version == null ? 0 : 1, 0, null, null, null);
  }

  private static ResourceTypeStatus nacked(
      String typeUrl, String version, String message, Instant at) {
    return new ResourceTypeStatus(typeUrl, version, null, false, 1, 0, 1, version, message, at);
  }
}
