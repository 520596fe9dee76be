package io.sigma.agent.xds;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * The admin probe's events as text for a test probe: "edge up", "edge down", "edge forgotten".
 *
 * @param to where the lines go
 */
record ProbeEventsTo(ActorRef<String> to) implements EnvoyAdminProbe.Events {
  @Override
  public void onProbed(String nodeId, boolean up) {
    to.tell(nodeId + (up ? " up" : " down"));
  }

  @Override
  public void onForgotten(String nodeId) {
    to.tell(nodeId + " forgotten");
  }
}
