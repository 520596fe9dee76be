package io.sigma.agent.xds;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Where the {@link ConfigPoller} stands (the "config source" part of {@code /xds/status}).
 *
 * @param vpsId the VPS whose nodes are polled, null before registration
 * @param pollInterval time between polls when they succeed
 * @param pollInFlight a poll is running now
 * @param lastPollAt when the last finished poll started, null before the first one
 * @param lastResult how it went, null before the first one
 * @param lastError why the last failed poll failed, null when the last poll did not fail
 * @param lastSuccessAt when the last poll whose node listing worked started, null if never
 * @param consecutiveFailures failed polls in a row (the retry delay grows with it)
 * @param unsavedNodes node.ids whose served config is not saved in the state dir yet (saves
 *     retried)
 * @param lastSaveError why the last save failed, null when every served config is saved
 * @param nodes every node listed by sigma-api or served, by node.id
 */
public record PollerStatus(
    String vpsId,
    Duration pollInterval,
    boolean pollInFlight,
    Instant lastPollAt,
    PollResult lastResult,
    String lastError,
    Instant lastSuccessAt,
    int consecutiveFailures,
    List<String> unsavedNodes,
    String lastSaveError,
    List<Node> nodes) {

  public PollerStatus {
    unsavedNodes = List.copyOf(unsavedNodes);
    nodes = List.copyOf(nodes);
  }

  /**
   * One node as the poller sees it.
   *
   * @param nodeId the Envoy node.id
   * @param envoyNodeUuid sigma-api's id of the node, null when unknown
   * @param apiConfigVersion its config_version in the last node listing, null when not listed
   *     (served from the state dir and not confirmed yet)
   * @param servedVersion the config_version being served, null when none yet
   * @param lastFetchError why the last routes fetch failed, null when it worked
   * @param lastFetchErrorAt when that was
   * @param rejectedRoutes the first routes of the served config that made no resources, with why
   * @param rejectedRouteCount all routes of the served config that made no resources
   */
  public record Node(
      String nodeId,
      String envoyNodeUuid,
      Long apiConfigVersion,
      Long servedVersion,
      String lastFetchError,
      Instant lastFetchErrorAt,
      List<Rejected> rejectedRoutes,
      int rejectedRouteCount) {

    public Node {
      rejectedRoutes = List.copyOf(rejectedRoutes);
    }
  }

  /**
   * A route left out of a node's served config.
   *
   * @param name the route's name (as sigma-api sent it)
   * @param listenPort its listen_port, null when it had none
   * @param reason the {@link RejectedRoute.Reason} name
   * @param message a sentence for the operator: which route and why
   */
  public record Rejected(String name, Integer listenPort, String reason, String message) {}

  /** The node with {@code nodeId}, or null. */
  public Node node(String nodeId) {
    for (Node node : nodes) {
      if (node.nodeId().equals(nodeId)) {
        return node;
      }
    }
    return null;
  }
}
