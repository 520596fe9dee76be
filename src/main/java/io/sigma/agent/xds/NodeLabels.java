package io.sigma.agent.xds;

import java.util.HashMap;
import java.util.Map;

/**
 * Which {@code node} label value the series of each Envoy node.id carry, so that per-node series
 * stay bounded whatever node.ids clients send. A node gets its own label value while it has an open
 * ADS stream or a served snapshot, if fewer than {@code limit} nodes have one and its id is short;
 * otherwise its events count under {@link #OTHER}. A node that later finds a free value is moved to
 * it. A node with neither stream nor snapshot is forgotten: the caller removes its series.
 *
 * <p>Not thread-safe: {@link XdsMetrics} calls it under its lock.
 */
final class NodeLabels {
  /** The label value shared by the nodes without a value of their own. */
  static final String OTHER = "_other";

  private final int limit;
  private final int maxIdChars;
  private final Map<String, Node> nodes = new HashMap<>();
  private int ownLabels;

  NodeLabels(int limit, int maxIdChars) {
    this.limit = limit;
    this.maxIdChars = maxIdChars;
  }

  /**
   * A node's label value; {@code movedStreams} of its streams just moved from {@link #OTHER} to it.
   */
  record Label(String value, int movedStreams) {
    boolean own() {
      return !OTHER.equals(value);
    }
  }

  /** A stream of {@code nodeId} opened: the label to count it under. */
  Label streamOpened(String nodeId) {
    Node node = nodes.computeIfAbsent(nodeId, id -> new Node());
    Label label = label(nodeId, node);
    node.streams++;
    return label;
  }

  /**
   * A stream of {@code nodeId} closed: the label it was counted under (null if the node is not
   * tracked, then there is nothing to undo); {@link #isTracked} tells whether the node is now gone.
   */
  Label streamClosed(String nodeId) {
    Node node = nodes.get(nodeId);
    if (node == null || node.streams == 0) {
      return null;
    }
    Label label = label(nodeId, node);
    node.streams--;
    forgetIfIdle(nodeId, node);
    return label;
  }

  /** {@code nodeId} is served a snapshot. */
  Label served(String nodeId) {
    Node node = nodes.computeIfAbsent(nodeId, id -> new Node());
    node.served = true;
    return label(nodeId, node);
  }

  /**
   * {@code nodeId} is no longer served: the label its snapshot series were under, or null if it was
   * not tracked. It stays tracked while it has open streams.
   */
  Label removed(String nodeId) {
    Node node = nodes.get(nodeId);
    if (node == null) {
      return null;
    }
    String value = node.own ? nodeId : OTHER;
    node.served = false;
    forgetIfIdle(nodeId, node);
    return new Label(value, 0);
  }

  /**
   * The label for any other event of {@code nodeId}: {@link #OTHER} when the node is not tracked.
   */
  Label of(String nodeId) {
    Node node = nodes.get(nodeId);
    return node == null ? new Label(OTHER, 0) : label(nodeId, node);
  }

  boolean isTracked(String nodeId) {
    return nodes.containsKey(nodeId);
  }

  /** Nodes with a label value of their own (at most the limit). */
  int ownLabels() {
    return ownLabels;
  }

  /** Tracked nodes counted under {@link #OTHER}. */
  int otherNodes() {
    return nodes.size() - ownLabels;
  }

  private Label label(String nodeId, Node node) {
    if (node.own) {
      return new Label(nodeId, 0);
    }
    if (ownLabels < limit && nodeId.length() <= maxIdChars && !nodeId.equals(OTHER)) {
      node.own = true;
      ownLabels++;
      return new Label(nodeId, node.streams);
    }
    return new Label(OTHER, 0);
  }

  private void forgetIfIdle(String nodeId, Node node) {
    if (node.streams == 0 && !node.served) {
      nodes.remove(nodeId);
      if (node.own) {
        ownLabels--;
      }
    }
  }

  private static final class Node {
    int streams;
    boolean served;
    boolean own;
  }
}
