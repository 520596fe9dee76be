package io.sigma.agent.xds;

import io.prometheus.metrics.core.metrics.Gauge;
import io.sigma.agent.metrics.AgentMetrics;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code sigma_envoy_up{node}}: 1 while a local Envoy's admin {@code /ready} answers 200 LIVE, else
 * 0 (see {@link EnvoyAdminProbe}). The {@code node} label is capped like the xDS series ({@link
 * NodeLabels}, {@link XdsMetrics#NODE_LABEL_LIMIT} values, ids up to {@link
 * XdsMetrics#NODE_LABEL_MAX_CHARS}); the nodes beyond share {@code node="_other"}, which is 1 only
 * while every one of them is up. A node that is no longer probed loses its series.
 */
public final class EnvoyAdminMetrics implements EnvoyAdminProbe.Events {

  private final Gauge up;
  private final NodeLabels labels =
      new NodeLabels(XdsMetrics.NODE_LABEL_LIMIT, XdsMetrics.NODE_LABEL_MAX_CHARS);

  /** Up or down of the nodes counted under {@link NodeLabels#OTHER}. */
  private final Map<String, Boolean> others = new HashMap<>();

  public EnvoyAdminMetrics(AgentMetrics metrics) {
    up =
        Gauge.builder()
            .name("sigma_envoy_up")
            .help(
                "1 when the Envoy node's admin /ready on 127.0.0.1:admin_port answers 200 LIVE, else 0")
            .constLabels(metrics.constLabels())
            .labelNames("node")
            .register(metrics.registry());
  }

  @Override
  public synchronized void onProbed(String nodeId, boolean isUp) {
    NodeLabels.Label label = labels.served(nodeId);
    if (label.own()) {
      if (others.remove(nodeId) != null) {
        updateOthers();
      }
      up.labelValues(label.value()).set(isUp ? 1 : 0);
    } else {
      others.put(nodeId, isUp);
      updateOthers();
    }
  }

  @Override
  public synchronized void onForgotten(String nodeId) {
    NodeLabels.Label label = labels.removed(nodeId);
    if (label == null) {
      return;
    }
    if (label.own()) {
      up.remove(label.value());
    } else if (others.remove(nodeId) != null) {
      updateOthers();
    }
  }

  private void updateOthers() {
    if (others.isEmpty()) {
      up.remove(NodeLabels.OTHER);
    } else {
      up.labelValues(NodeLabels.OTHER).set(others.containsValue(false) ? 0 : 1);
    }
  }
}
