package io.sigma.agent.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which Clusters a set of packed Listeners uses, and the names of packed Clusters: what {@link
 * AdsStreamState} needs to keep a Cluster until no Listener Envoy may hold still uses it. Pure
 * functions.
 *
 * <p>References are read from the resources themselves: the {@code cluster} (or {@code
 * weighted_clusters}) of every TcpProxy filter in a Listener's filter chains. A Listener whose
 * filters cannot be decoded falls back to the contract's naming rule ({@code listener-R} uses
 * {@code cluster-R}), so an unexpected resource never loses a reference.
 */
final class ClusterReferences {

  static final String LISTENER_PREFIX = "listener-";
  static final String CLUSTER_PREFIX = "cluster-";

  private ClusterReferences() {}

  /** The names of the Clusters the given packed Listeners route to, sorted. */
  static Set<String> usedBy(List<Any> listeners) {
    Set<String> used = new TreeSet<>();
    for (Any listener : listeners) {
      addUsedBy(listener, used);
    }
    return used;
  }

  /**
   * Packed Clusters by name, in list order (a resource that does not decode is keyed by its bytes'
   * hash).
   */
  static Map<String, Any> byName(List<Any> clusters) {
    Map<String, Any> named = new LinkedHashMap<>();
    for (Any cluster : clusters) {
      named.put(clusterName(cluster), cluster);
    }
    return named;
  }

  static String clusterName(Any cluster) {
    try {
      return Cluster.parseFrom(cluster.getValue()).getName();
    } catch (InvalidProtocolBufferException e) {
      return "undecodable-" + Integer.toHexString(cluster.getValue().hashCode());
    }
  }

  private static void addUsedBy(Any packed, Set<String> used) {
    Listener listener;
    try {
      listener = Listener.parseFrom(packed.getValue());
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    List<FilterChain> chains = new ArrayList<>(listener.getFilterChainsList());
    if (listener.hasDefaultFilterChain()) {
      chains.add(listener.getDefaultFilterChain());
    }
    boolean decoded = true;
    for (FilterChain chain : chains) {
      for (Filter filter : chain.getFiltersList()) {
        if (filter.hasTypedConfig() && filter.getTypedConfig().is(TcpProxy.class)) {
          try {
            TcpProxy proxy = filter.getTypedConfig().unpack(TcpProxy.class);
            if (!proxy.getCluster().isEmpty()) {
              used.add(proxy.getCluster());
            }
            proxy
                .getWeightedClusters()
                .getClustersList()
                .forEach(weighted -> used.add(weighted.getName()));
          } catch (InvalidProtocolBufferException e) {
            decoded = false;
          }
        }
      }
    }
    if (!decoded && listener.getName().startsWith(LISTENER_PREFIX)) {
      used.add(CLUSTER_PREFIX + listener.getName().substring(LISTENER_PREFIX.length()));
    }
  }
}
