package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sigma.agent.api.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class XdsStatusReportTest {

  private static final Instant NOW = Instant.parse("2026-11-26T10:00:00Z");
  private static final Instant OPENED = Instant.parse("2026-11-26T09:00:00Z");

  @Test
  void nodesFromTheRegistryAndThePollerAreMergedByNodeId() {
    XdsStatus served =
        new XdsStatus(
            List.of(
                new NodeStatus(
                    "edge",
                    7L,
                    "1764151200000",
                    3,
                    3,
                    3,
                    List.of(stream(1, "edge", "1764151200000", "1764151200000"))),
                new NodeStatus(
                    "waiting", null, null, 0, 0, 0, List.of(stream(2, "waiting", null, null)))));
    PollerStatus.Rejected rejected =
        new PollerStatus.Rejected(
            "bad",
            10009,
            "DUPLICATE_LISTEN_PORT",
            "route 'bad' (id r9, listen_port 10009): DUPLICATE_LISTEN_PORT: port taken by 'good'");
    PollerStatus poller =
        poller(
            List.of(
                new PollerStatus.Node(
                    "edge", "uuid-edge", 8L, 7L, "HTTP 500: boom", NOW, List.of(rejected), 51),
                new PollerStatus.Node(
                    "listed-only", "uuid-l", 1L, null, null, null, List.of(), 0)));

    XdsStatusReport report = XdsStatusReport.of(served, poller, NOW);

    assertEquals(
        List.of("edge", "listed-only", "waiting"),
        report.nodes().stream().map(XdsStatusReport.Node::nodeId).toList());
    XdsStatusReport.Node edge = report.nodes().get(0);
    assertEquals(7L, edge.snapshotVersion());
    assertEquals("1764151200000", edge.versionInfo());
    assertEquals(List.of(rejected), edge.rejectedRoutes());
    assertEquals(51, edge.rejectedRouteCount());
    assertEquals(8L, edge.apiConfigVersion());
    assertEquals("uuid-edge", edge.envoyNodeUuid());
    assertEquals("HTTP 500: boom", edge.lastFetchError());
    assertEquals(1, edge.connectedStreams());
    assertEquals("1764151200000", edge.streams().get(0).types().get("Cluster").ackedVersion());
    XdsStatusReport.Node listedOnly = report.nodes().get(1);
    assertNull(listedOnly.snapshotVersion());
    assertNull(listedOnly.versionInfo());
    assertEquals(0, listedOnly.connectedStreams());
    XdsStatusReport.Node waiting = report.nodes().get(2);
    assertNull(waiting.apiConfigVersion());
    assertEquals(1, waiting.connectedStreams());
    assertEquals("vps-1", report.configSource().vpsId());
    assertEquals("partial", report.configSource().lastResult());
    assertEquals(10.0, report.configSource().pollIntervalSeconds());
  }

  @Test
  void theNodesLastNackIsTheNewestOfAllItsStreamsAndTypes() {
    StreamStatus older =
        new StreamStatus(
            1,
            "edge",
            OPENED,
            "5",
            List.of(
                new ResourceTypeStatus(
                    TypeUrls.CLUSTER,
                    "5",
                    "4",
                    false,
                    2,
                    1,
                    1,
                    "5",
                    "old complaint",
                    Instant.parse("2026-11-26T09:10:00Z"))));
    StreamStatus newer =
        new StreamStatus(
            2,
            "edge",
            OPENED,
            "5",
            List.of(
                new ResourceTypeStatus(
                    TypeUrls.CLUSTER, "5", "5", false, 1, 1, 0, null, null, null),
                new ResourceTypeStatus(
                    TypeUrls.LISTENER,
                    "5",
                    "4",
                    false,
                    2,
                    1,
                    1,
                    "5",
                    "listener-x: port in use",
                    Instant.parse("2026-11-26T09:20:00Z"))));

    XdsStatusReport report =
        XdsStatusReport.of(
            new XdsStatus(List.of(new NodeStatus("edge", 5L, "5", 1, 1, 1, List.of(older, newer)))),
            null,
            NOW);

    XdsStatusReport.Nack nack = report.nodes().get(0).lastNack();
    assertEquals("listener-x: port in use", nack.message());
    assertEquals("Listener", nack.type());
    assertEquals(2L, nack.streamId());
    assertEquals("2026-11-26T09:20:00Z", nack.at());
    assertNull(report.configSource(), "no poller wired");
  }

  @Test
  void jsonIsSnakeCaseWithExplicitNulls() throws Exception {
    XdsStatusReport report =
        XdsStatusReport.of(
            new XdsStatus(
                List.of(
                    new NodeStatus(
                        "edge",
                        7L,
                        "1764151200000",
                        3,
                        3,
                        3,
                        List.of(stream(1, "edge", "1764151200000", "1764151200000"))))),
            poller(
                List.of(
                    new PollerStatus.Node(
                        "edge",
                        "uuid-edge",
                        7L,
                        7L,
                        null,
                        null,
                        List.of(
                            new PollerStatus.Rejected(
                                "later",
                                10003,
                                "PLACEHOLDER",
                                "route 'later': PLACEHOLDER: no backend yet")),
                        1))),
            NOW);

    JsonNode json = new ObjectMapper().readTree(Json.newMapper().writeValueAsString(report));

    assertEquals("2026-11-26T10:00:00Z", json.path("generated_at").asText());
    assertEquals("vps-1", json.path("config_source").path("vps_id").asText());
    JsonNode node = json.path("nodes").path(0);
    assertEquals(7, node.path("snapshot_version").asInt());
    assertEquals("1764151200000", node.path("version_info").asText());
    assertEquals(1, node.path("rejected_route_count").asInt());
    JsonNode rejected = node.path("rejected_routes").path(0);
    assertEquals("later", rejected.path("name").asText());
    assertEquals(10003, rejected.path("listen_port").asInt());
    assertEquals("PLACEHOLDER", rejected.path("reason").asText());
    assertTrue(rejected.path("message").asText().contains("no backend yet"), rejected.toString());
    assertEquals(0, json.path("config_source").path("unsaved_nodes").size());
    assertTrue(json.path("config_source").has("last_save_error"));
    assertTrue(node.has("last_nack") && node.path("last_nack").isNull());
    assertEquals(
        "1764151200000",
        node.path("streams").path(0).path("types").path("Listener").path("acked_version").asText());
    assertEquals(
        TypeUrls.CLUSTER,
        node.path("streams").path(0).path("types").path("Cluster").path("type_url").asText());
  }

  @Test
  void aStreamsRetainedClustersAreListed() throws Exception {
    StreamStatus renaming =
        new StreamStatus(
            1,
            "edge",
            OPENED,
            "8",
            List.of(
                new ResourceTypeStatus(
                    TypeUrls.CLUSTER, "8+3fa9c021", "8+3fa9c021", false, 1, 1, 0, null, null, null),
                new ResourceTypeStatus(
                    TypeUrls.LISTENER, "8", null, true, 1, 0, 0, null, null, null)),
            List.of("cluster-old"));
    XdsStatusReport report =
        XdsStatusReport.of(
            new XdsStatus(List.of(new NodeStatus("edge", 8L, "8", 1, 1, 1, List.of(renaming)))),
            null,
            NOW);

    JsonNode stream =
        new ObjectMapper()
            .readTree(Json.newMapper().writeValueAsString(report))
            .path("nodes")
            .path(0)
            .path("streams")
            .path(0);

    assertEquals(1, stream.path("retained_clusters").size(), stream.toString());
    assertEquals("cluster-old", stream.path("retained_clusters").path(0).asText());
  }

  private static StreamStatus stream(long id, String node, String version, String acked) {
    return new StreamStatus(
        id,
        node,
        OPENED,
        version,
        List.of(
            new ResourceTypeStatus(
                TypeUrls.CLUSTER,
                version,
                acked,
                false,
                1,
                acked == null ? 0 : 1,
                0,
                null,
                null,
                null),
            new ResourceTypeStatus(
                TypeUrls.LISTENER,
                version,
                acked,
                false,
                1,
                acked == null ? 0 : 1,
                0,
                null,
                null,
                null)));
  }

  private static PollerStatus poller(List<PollerStatus.Node> nodes) {
    return new PollerStatus(
        "vps-1",
        Duration.ofSeconds(10),
        false,
        NOW,
        PollResult.PARTIAL,
        null,
        NOW,
        0,
        List.of(),
        null,
        nodes);
  }
}
