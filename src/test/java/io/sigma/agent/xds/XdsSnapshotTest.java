package io.sigma.agent.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class XdsSnapshotTest {

  private static final Any CLUSTER = Any.pack(Cluster.newBuilder().setName("cluster-a").build());
  private static final Any LISTENER = Any.pack(Listener.newBuilder().setName("listener-a").build());

  @Test
  void versionInfoIsTheConfigVersionAsText() {
    assertEquals("42", new XdsSnapshot("n", 42, List.of(), List.of(), 0).versionInfo());
    assertEquals("9223372036854775807", XdsSnapshot.empty("n", 1, Long.MAX_VALUE).versionInfo());
  }

  @Test
  void versionInfoIsTheSerialNotTheConfigVersion() {
    XdsSnapshot snapshot =
        new XdsSnapshot("n", 1, 1_764_151_200_000L, List.of(CLUSTER), List.of(LISTENER), 1);

    assertEquals("1764151200000", snapshot.versionInfo());
    assertEquals(1, snapshot.version(), "the config_version stays for status and metrics");
    assertEquals("12", XdsSnapshot.empty("n", 3, 12).versionInfo());
    assertEquals(3, XdsSnapshot.empty("n", 3, 12).version());
  }

  @Test
  void resourcesAreLookedUpByTypeUrlAndUnknownTypesAreEmpty() {
    XdsSnapshot snapshot = new XdsSnapshot("n", 1, List.of(CLUSTER), List.of(LISTENER), 1);

    assertEquals(List.of(CLUSTER), snapshot.resources(TypeUrls.CLUSTER));
    assertEquals(List.of(LISTENER), snapshot.resources(TypeUrls.LISTENER));
    assertEquals(
        List.of(),
        snapshot.resources("type.googleapis.com/envoy.config.route.v3.RouteConfiguration"));
    assertEquals(List.of(), snapshot.resources(""));
  }

  @Test
  void listsAreCopiedAndUnmodifiable() {
    List<Any> clusters = new ArrayList<>(List.of(CLUSTER));
    XdsSnapshot snapshot = new XdsSnapshot("n", 1, clusters, List.of(), 1);

    clusters.clear();

    assertEquals(List.of(CLUSTER), snapshot.clusters());
    assertThrows(UnsupportedOperationException.class, () -> snapshot.clusters().add(LISTENER));
    assertThrows(UnsupportedOperationException.class, () -> snapshot.listeners().add(LISTENER));
  }

  @Test
  void emptySnapshotHasNoResources() {
    XdsSnapshot empty = XdsSnapshot.empty("n", 3, 3);

    assertEquals(List.of(), empty.clusters());
    assertEquals(List.of(), empty.listeners());
    assertEquals(0, empty.routeCount());
    assertEquals(3, empty.version());
  }

  @Test
  void nodeIdIsRequired() {
    assertThrows(NullPointerException.class, () -> XdsSnapshot.empty(null, 1, 1));
  }

  @Test
  void typeShortNamesForLogs() {
    assertEquals("Cluster", TypeUrls.shortName(TypeUrls.CLUSTER));
    assertEquals("Listener", TypeUrls.shortName(TypeUrls.LISTENER));
    assertEquals("weird", TypeUrls.shortName("weird"));
    assertEquals("trailing.", TypeUrls.shortName("trailing."));
  }
}
