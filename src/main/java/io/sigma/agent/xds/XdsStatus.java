package io.sigma.agent.xds;

import java.util.List;

/** Every node the control plane knows (with a snapshot or a connected stream), by node.id. */
public record XdsStatus(List<NodeStatus> nodes) {

  public XdsStatus {
    nodes = List.copyOf(nodes);
  }

  /** The status of {@code nodeId}, or null when the control plane does not know it. */
  public NodeStatus node(String nodeId) {
    for (NodeStatus node : nodes) {
      if (node.nodeId().equals(nodeId)) {
        return node;
      }
    }
    return null;
  }
}
