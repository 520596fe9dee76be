package io.sigma.agent.xds;

import com.google.protobuf.Any;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What {@link AdsStreamState} needs to know about a snapshot beyond its bytes: its Clusters by name
 * and the Clusters its Listeners use. Decoding them costs a parse per resource, so the streams of
 * one node share it (see {@link Shared}). Immutable.
 *
 * @param snapshot the snapshot indexed
 * @param clustersByName the snapshot's Clusters by name, in snapshot order
 * @param listenerClusters the Clusters the snapshot's Listeners route to, sorted
 */
record SnapshotIndex(
    XdsSnapshot snapshot, Map<String, Any> clustersByName, Set<String> listenerClusters) {

  SnapshotIndex {
    clustersByName =
        java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(clustersByName));
    listenerClusters =
        java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(listenerClusters));
  }

  static SnapshotIndex of(XdsSnapshot snapshot) {
    return new SnapshotIndex(
        snapshot,
        ClusterReferences.byName(snapshot.clusters()),
        ClusterReferences.usedBy(snapshot.listeners()));
  }

  /**
   * The index of each node's newest snapshot, computed once for all the node's streams (they get
   * the same snapshot instance). One entry per node that has a snapshot; thread-safe. Two streams
   * racing on a new snapshot may both compute it: harmless.
   */
  static final class Shared implements Function<XdsSnapshot, SnapshotIndex> {
    private final Map<String, SnapshotIndex> byNode = new ConcurrentHashMap<>();

    @Override
    public SnapshotIndex apply(XdsSnapshot snapshot) {
      SnapshotIndex cached = byNode.get(snapshot.nodeId());
      if (cached != null && cached.snapshot() == snapshot) {
        return cached;
      }
      SnapshotIndex fresh = of(snapshot);
      byNode.put(snapshot.nodeId(), fresh);
      return fresh;
    }
  }
}
