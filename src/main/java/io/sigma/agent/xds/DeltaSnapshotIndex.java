package io.sigma.agent.xds;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What {@link DeltaStreamState} needs of a snapshot: each Cluster and Listener as a delta {@link
 * Resource} (name, per-resource version, bytes) and the Clusters each Listener uses. Built once per
 * snapshot and shared by the node's delta streams ({@link Shared}), so a bump costs one decode and
 * one digest per resource, not one per stream. Immutable.
 *
 * <p>A resource's version is the first 16 hex digits of the SHA-256 of its bytes: the same bytes
 * have the same version on every stream, across agent restarts, so a reconnecting Envoy's
 * initial_resource_versions are recognised and what it already has is not sent again.
 *
 * @param snapshot the snapshot indexed
 * @param clusters the snapshot's Clusters by name, in snapshot order
 * @param listeners the snapshot's Listeners by name, in snapshot order
 * @param listenerClusters per Listener name, the Clusters it routes to
 */
record DeltaSnapshotIndex(
    XdsSnapshot snapshot,
    Map<String, Resource> clusters,
    Map<String, Resource> listeners,
    Map<String, Set<String>> listenerClusters) {

  DeltaSnapshotIndex {
    clusters = Collections.unmodifiableMap(new LinkedHashMap<>(clusters));
    listeners = Collections.unmodifiableMap(new LinkedHashMap<>(listeners));
    listenerClusters = Collections.unmodifiableMap(new LinkedHashMap<>(listenerClusters));
  }

  static DeltaSnapshotIndex of(XdsSnapshot snapshot) {
    Map<String, Resource> clusters = new LinkedHashMap<>();
    for (Any cluster : snapshot.clusters()) {
      String name = name(cluster);
      if (name == null) {
        name = ClusterReferences.clusterName(cluster);
      }
      clusters.put(name, resource(name, cluster));
    }
    Map<String, Resource> listeners = new LinkedHashMap<>();
    Map<String, Set<String>> uses = new LinkedHashMap<>();
    for (Any listener : snapshot.listeners()) {
      String name = name(listener);
      if (name == null) {
        name = listenerName(listener);
      }
      listeners.put(name, resource(name, listener));
      // Most Listeners use one Cluster: a compact immutable set, shared by the node's streams.
      uses.put(name, Set.copyOf(ClusterReferences.usedBy(List.of(listener))));
    }
    return new DeltaSnapshotIndex(snapshot, clusters, listeners, uses);
  }

  /** The snapshot's resources of {@code typeUrl} by name; empty for a type not served. */
  Map<String, Resource> resources(String typeUrl) {
    if (TypeUrls.CLUSTER.equals(typeUrl)) {
      return clusters;
    }
    if (TypeUrls.LISTENER.equals(typeUrl)) {
      return listeners;
    }
    return Map.of();
  }

  /** The per-resource version sent for {@code packed}: 16 hex digits of SHA-256 of its bytes. */
  static String version(Any packed) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    packed.getValue().asReadOnlyByteBufferList().forEach(sha256::update);
    return HexFormat.of().formatHex(sha256.digest(), 0, 8);
  }

  /**
   * The {@code name} of a packed Cluster or Listener (field 1 of both), read without decoding the
   * rest of the message; null when it is not the first field (then decode it all).
   */
  static String name(Any packed) {
    try {
      CodedInputStream in = packed.getValue().newCodedInput();
      int tag = in.readTag();
      return tag == NAME_TAG ? in.readStringRequireUtf8() : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Field 1, length-delimited: {@code name} of Cluster and Listener. */
  private static final int NAME_TAG = (1 << 3) | 2;

  static String listenerName(Any listener) {
    try {
      return Listener.parseFrom(listener.getValue()).getName();
    } catch (InvalidProtocolBufferException e) {
      return "undecodable-" + Integer.toHexString(listener.getValue().hashCode());
    }
  }

  private static Resource resource(String name, Any packed) {
    return Resource.newBuilder()
        .setName(name)
        .setVersion(version(packed))
        .setResource(packed)
        .build();
  }

  /**
   * The index of each node's newest snapshot, computed once for all its delta streams (they get the
   * same snapshot instance). Thread-safe; two streams racing on a new snapshot may both compute it.
   */
  static final class Shared implements Function<XdsSnapshot, DeltaSnapshotIndex> {
    private final Map<String, DeltaSnapshotIndex> byNode = new ConcurrentHashMap<>();

    @Override
    public DeltaSnapshotIndex apply(XdsSnapshot snapshot) {
      DeltaSnapshotIndex cached = byNode.get(snapshot.nodeId());
      if (cached != null && cached.snapshot() == snapshot) {
        return cached;
      }
      DeltaSnapshotIndex fresh = of(snapshot);
      byNode.put(snapshot.nodeId(), fresh);
      return fresh;
    }
  }
}
