package io.sigma.agent.xds;

import io.sigma.agent.api.CreateEnvoyNodeRequest;
import io.sigma.agent.api.EnvoyNode;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SigmaApiException;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Registers with sigma-api ({@code POST /envoy-nodes}) the node.ids of connected Envoys that
 * sigma-api does not list for this VPS: a child of the {@link ConfigPoller}.
 *
 * <p>It watches the {@link SnapshotRegistry} for connected node.ids and learns the VPS's listed
 * nodes from the poller ({@link Listed}). Until a listing of the current VPS is known it only waits
 * ({@link #waiting}); then ({@link #registering}) each connected node.id that the listing does not
 * have is registered once per node.id and VPS; a node.id that was listed or served before (then
 * deleted by an operator) is not registered again. A registration that worked asks the poller for a
 * poll ({@code PollNow}), which serves the new node; a 4xx answer (the pair exists, e.g. inactive)
 * is not retried; another failure is retried after the next listing.
 */
final class NodeRegistrar {

  /** The registrar's protocol. */
  sealed interface Command permits VpsChanged, Listed, NotToRegister, Connected, Registered {}

  /** This agent is VPS {@code vpsId} now: wait for its listing, forget what the old one knew. */
  record VpsChanged(String vpsId) implements Command {}

  /** A successful listing of {@code vpsId} has {@code nodeIds}. */
  record Listed(String vpsId, Set<String> nodeIds) implements Command {}

  /** node.ids served before (saved configs): never registered by this agent. */
  record NotToRegister(Set<String> nodeIds) implements Command {}

  private record Connected(Set<String> nodeIds) implements Command {}

  private record Registered(String vpsId, String nodeId, EnvoyNode node, Throwable error)
      implements Command {}

  /** Longest node.id this agent registers on its own (a garbage id is not worth a node). */
  static final int MAX_REGISTERED_NODE_ID = 255;

  private final ActorContext<Command> context;
  private final SigmaApi api;
  private final ActorRef<ConfigPoller.Command> poller;
  private final PollerEvents events;

  /** node.ids never to auto-register for the current VPS: listed or served before, or tried. */
  private final Set<String> notToRegister = new HashSet<>();

  private Set<String> connected = Set.of();

  private NodeRegistrar(
      ActorContext<Command> context,
      SigmaApi api,
      ActorRef<ConfigPoller.Command> poller,
      PollerEvents events) {
    this.context = context;
    this.api = api;
    this.poller = poller;
    this.events = events;
  }

  /**
   * @param registry tells which node.ids are connected
   * @param poller polls again once a node is registered
   */
  static Behavior<Command> create(
      SigmaApi api,
      ActorRef<SnapshotRegistry.Command> registry,
      ActorRef<ConfigPoller.Command> poller,
      PollerEvents events) {
    return Behaviors.setup(
        context -> {
          context.setLoggerName(NodeRegistrar.class);
          registry.tell(
              new SnapshotRegistry.WatchConnectedNodes(
                  context.messageAdapter(
                      SnapshotRegistry.ConnectedNodes.class,
                      nodes -> new Connected(nodes.nodeIds()))));
          return new NodeRegistrar(context, api, poller, events).waiting(null);
        });
  }

  /** No listing of the current VPS ({@code vpsId}, null before registration) is known yet. */
  private Behavior<Command> waiting(String vpsId) {
    return Behaviors.receive(Command.class)
        .onMessage(VpsChanged.class, changed -> onVpsChanged(vpsId, changed))
        .onMessage(Listed.class, listed -> onListed(vpsId, listed))
        .onMessage(NotToRegister.class, this::onNotToRegister)
        .onMessage(
            Connected.class,
            message -> {
              connected = message.nodeIds();
              return Behaviors.same();
            })
        .onMessage(Registered.class, message -> Behaviors.same())
        .build();
  }

  /** {@code listed}: the node.ids of the last listing of VPS {@code vpsId}. */
  private Behavior<Command> registering(String vpsId, Set<String> listed) {
    return Behaviors.receive(Command.class)
        .onMessage(VpsChanged.class, changed -> onVpsChanged(vpsId, changed))
        .onMessage(Listed.class, message -> onListed(vpsId, message))
        .onMessage(NotToRegister.class, this::onNotToRegister)
        .onMessage(
            Connected.class,
            message -> {
              connected = message.nodeIds();
              registerUnknown(vpsId, listed);
              return Behaviors.same();
            })
        .onMessage(Registered.class, message -> onRegistered(vpsId, message))
        .build();
  }

  private Behavior<Command> onVpsChanged(String vpsId, VpsChanged message) {
    forgetIfChanged(vpsId, message.vpsId());
    return waiting(message.vpsId());
  }

  /**
   * What was not to register for VPS {@code from} may be registered for another id; the first id
   * (from null) keeps the node.ids served from the state dir.
   */
  private void forgetIfChanged(String from, String to) {
    if (from != null && !from.equals(to)) {
      notToRegister.clear();
    }
  }

  private Behavior<Command> onListed(String vpsId, Listed message) {
    // The poller tells a new VPS id first (VpsChanged), unless this registrar restarted since.
    forgetIfChanged(vpsId, message.vpsId());
    notToRegister.addAll(message.nodeIds());
    registerUnknown(message.vpsId(), message.nodeIds());
    return registering(message.vpsId(), message.nodeIds());
  }

  private Behavior<Command> onNotToRegister(NotToRegister message) {
    notToRegister.addAll(message.nodeIds());
    return Behaviors.same();
  }

  /** Registers connected node.ids that the listing of {@code vpsId} does not have. */
  private void registerUnknown(String vpsId, Set<String> listed) {
    for (String nodeId : connected) {
      if (listed.contains(nodeId) || !notToRegister.add(nodeId)) {
        continue;
      }
      if (nodeId.length() > MAX_REGISTERED_NODE_ID
          || nodeId.chars().anyMatch(Character::isISOControl)) {
        context
            .getLog()
            .warn(
                "xDS: an Envoy connected with node.id '{}', which sigma-api does not know; not "
                    + "registering it (longer than {} characters or control characters)",
                excerpt(nodeId),
                MAX_REGISTERED_NODE_ID);
        continue;
      }
      context
          .getLog()
          .info(
              "xDS: an Envoy connected as node.id {}, which sigma-api does not list for VPS {}; "
                  + "registering it",
              nodeId,
              vpsId);
      context.pipeToSelf(
          api.createEnvoyNode(
              new CreateEnvoyNodeRequest(
                  vpsId, nodeId, ConfigPoller.AUTO_REGISTERED_DESCRIPTION, null, "active")),
          (node, error) -> new Registered(vpsId, nodeId, node, error));
    }
  }

  private Behavior<Command> onRegistered(String vpsId, Registered message) {
    if (!message.vpsId().equals(vpsId)) {
      return Behaviors.same();
    }
    events.onNodeRegistration(message.nodeId(), message.error() == null);
    if (message.error() == null) {
      context
          .getLog()
          .info(
              "xDS: registered Envoy node {} with sigma-api (id {}); serving it from the next poll",
              message.nodeId(),
              message.node().id());
      poller.tell(new ConfigPoller.PollNow());
      return Behaviors.same();
    }
    SigmaApiException failure = SigmaApiException.of(message.error()).orElse(null);
    if (failure != null && failure.status().map(s -> s >= 400 && s < 500).orElse(false)) {
      // 409 (or the like) when the pair exists, e.g. as an inactive node: that is not retried.
      context
          .getLog()
          .info(
              "xDS: sigma-api refused to register Envoy node {} ({}); it probably exists already "
                  + "(not active?). Not registering it again",
              message.nodeId(),
              failure.getMessage());
    } else {
      notToRegister.remove(message.nodeId());
      context
          .getLog()
          .warn(
              "xDS: could not register Envoy node {} with sigma-api: {}; trying again after the "
                  + "next poll",
              message.nodeId(),
              NodeReconciler.reason(message.error()));
    }
    return Behaviors.same();
  }

  private static String excerpt(String text) {
    String clean = text.replaceAll("\\p{Cntrl}", "?");
    return clean.length() <= 80 ? clean : clean.substring(0, 80) + "…";
  }
}
