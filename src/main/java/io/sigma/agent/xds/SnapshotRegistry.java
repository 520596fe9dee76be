package io.sigma.agent.xds;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;

/**
 * Holds the current {@link XdsSnapshot} of every Envoy node and hands it to the node's ADS streams.
 *
 * <p>The config source (the poller) sends {@link SetSnapshot} and {@link RemoveNode}; each ADS
 * stream sends {@link Subscribe} with the actor ref of its snapshot inlet and then keeps its {@link
 * StreamStatus} up to date with {@link StreamUpdated}. The registry only ever {@code tell}s
 * snapshots to streams; each stream keeps the newest one and drops older ones it has not consumed
 * yet, so a slow stream never holds the registry back. A stream that ends is dropped ({@link
 * StreamClosed}, or when its inlet actor stops).
 *
 * <p>Whoever needs to know which node.ids have Envoys connected (the poller, to register node.ids
 * sigma-api does not know) sends {@link WatchConnectedNodes} and gets {@link ConnectedNodes}.
 */
public final class SnapshotRegistry {

  /** The registry's protocol. */
  public sealed interface Command
      permits SetSnapshot,
          SetSnapshotIfAbsent,
          RemoveNode,
          Subscribe,
          StreamUpdated,
          StreamClosed,
          GetStatus,
          WatchConnectedNodes,
          SubscriberTerminated,
          WatcherTerminated {}

  /** Serve {@code snapshot} to its node from now on (replacing any earlier one) and push it. */
  public record SetSnapshot(XdsSnapshot snapshot) implements Command {}

  /**
   * Serve {@code snapshot} only if its node has none yet: for configs saved before a restart, which
   * must never replace a newer one the registry already has (e.g. when the poller restarts).
   */
  public record SetSnapshotIfAbsent(XdsSnapshot snapshot) implements Command {}

  /**
   * The node is gone from the config source: drop its snapshot. Its connected streams get an empty
   * state (no Clusters, no Listeners) at the removed snapshot's version + 1, with serial {@code
   * serial} (at least the removed snapshot's serial + 1, so Envoy never sees the empty state under
   * a version_info it already had); streams that connect later wait until the node has a snapshot
   * again.
   */
  public record RemoveNode(String nodeId, long serial) implements Command {}

  /**
   * An ADS stream identified its node: send it the node's snapshots (the current one at once, if
   * any). {@code initialStatus} names the stream (id, node) for status queries.
   */
  public record Subscribe(StreamStatus initialStatus, ActorRef<XdsSnapshot> subscriber)
      implements Command {}

  /** A stream's protocol state changed (ACK, NACK, response sent...). */
  public record StreamUpdated(StreamStatus status) implements Command {}

  /** A stream ended. */
  public record StreamClosed(long streamId) implements Command {}

  /** Ask for every node's snapshot version, route count and streams. */
  public record GetStatus(ActorRef<XdsStatus> replyTo) implements Command {}

  /**
   * Tell {@code watcher} the node.ids that have at least one connected stream: at once, then each
   * time that set changes (a node's first stream opens or its last one closes).
   */
  public record WatchConnectedNodes(ActorRef<ConnectedNodes> watcher) implements Command {}

  /** The node.ids with at least one connected ADS stream, in the order they connected. */
  public record ConnectedNodes(Set<String> nodeIds) {
    public ConnectedNodes {
      nodeIds = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(nodeIds));
    }
  }

  private record SubscriberTerminated(long streamId) implements Command {}

  private record WatcherTerminated(ActorRef<ConnectedNodes> watcher) implements Command {}

  private record Subscription(ActorRef<XdsSnapshot> subscriber, StreamStatus status) {}

  private SnapshotRegistry() {}

  /** The registry behavior; bad messages are logged and skipped, state survives them. */
  public static Behavior<Command> create() {
    return Behaviors.supervise(Behaviors.<Command>setup(context -> new Registry(context).receive()))
        .onFailure(Exception.class, SupervisorStrategy.resume());
  }

  private static final class Registry {
    private final ActorContext<Command> context;
    private final Logger log;
    private final Map<String, XdsSnapshot> snapshots = new HashMap<>();
    private final Map<Long, Subscription> streams = new LinkedHashMap<>();

    /** Open streams per node.id; a node without streams has no entry. */
    private final Map<String, Integer> streamCounts = new LinkedHashMap<>();

    private final List<ActorRef<ConnectedNodes>> watchers = new ArrayList<>();

    Registry(ActorContext<Command> context) {
      this.context = context;
      this.log = context.getLog();
    }

    Behavior<Command> receive() {
      return Behaviors.receive(Command.class)
          .onMessage(SetSnapshot.class, this::onSetSnapshot)
          .onMessage(SetSnapshotIfAbsent.class, this::onSetSnapshotIfAbsent)
          .onMessage(RemoveNode.class, this::onRemoveNode)
          .onMessage(Subscribe.class, this::onSubscribe)
          .onMessage(StreamUpdated.class, this::onStreamUpdated)
          .onMessage(StreamClosed.class, message -> forget(message.streamId()))
          .onMessage(SubscriberTerminated.class, message -> forget(message.streamId()))
          .onMessage(GetStatus.class, this::onGetStatus)
          .onMessage(WatchConnectedNodes.class, this::onWatchConnectedNodes)
          .onMessage(
              WatcherTerminated.class,
              message -> {
                watchers.remove(message.watcher());
                return Behaviors.same();
              })
          .build();
    }

    private Behavior<Command> onSetSnapshot(SetSnapshot message) {
      XdsSnapshot snapshot = message.snapshot();
      if (snapshot == null) {
        log.warn("xDS registry: SetSnapshot without a snapshot ignored");
        return Behaviors.same();
      }
      snapshots.put(snapshot.nodeId(), snapshot);
      int pushed = push(snapshot);
      log.debug(
          "xDS registry: node {} now at config_version {}, version_info {} ({} routes), pushed to {} streams",
          snapshot.nodeId(),
          snapshot.version(),
          snapshot.versionInfo(),
          snapshot.routeCount(),
          pushed);
      return Behaviors.same();
    }

    private Behavior<Command> onSetSnapshotIfAbsent(SetSnapshotIfAbsent message) {
      XdsSnapshot snapshot = message.snapshot();
      if (snapshot == null) {
        log.warn("xDS registry: SetSnapshotIfAbsent without a snapshot ignored");
        return Behaviors.same();
      }
      XdsSnapshot current = snapshots.get(snapshot.nodeId());
      if (current != null) {
        log.debug(
            "xDS registry: node {} already at version {}; saved version {} not applied",
            snapshot.nodeId(),
            current.version(),
            snapshot.version());
        return Behaviors.same();
      }
      return onSetSnapshot(new SetSnapshot(snapshot));
    }

    private Behavior<Command> onRemoveNode(RemoveNode message) {
      XdsSnapshot removed = snapshots.remove(message.nodeId());
      if (removed == null) {
        log.debug("xDS registry: node {} removed, it had no snapshot", message.nodeId());
        return Behaviors.same();
      }
      XdsSnapshot empty =
          XdsSnapshot.empty(
              removed.nodeId(),
              removed.version() + 1,
              Math.max(message.serial(), removed.serial() + 1));
      int pushed = push(empty);
      log.info(
          "xDS registry: node {} removed; its {} connected streams get an empty config (version_info {})",
          removed.nodeId(),
          pushed,
          empty.versionInfo());
      return Behaviors.same();
    }

    private Behavior<Command> onSubscribe(Subscribe message) {
      StreamStatus status = message.initialStatus();
      context.watchWith(message.subscriber(), new SubscriberTerminated(status.streamId()));
      Subscription replaced =
          streams.put(status.streamId(), new Subscription(message.subscriber(), status));
      if (replaced == null && streamCounts.merge(status.nodeId(), 1, Integer::sum) == 1) {
        tellWatchers();
      }
      XdsSnapshot current = snapshots.get(status.nodeId());
      if (current != null) {
        message.subscriber().tell(current);
      } else {
        log.info(
            "xDS stream {} of node {} waits: the node has no config yet",
            status.streamId(),
            status.nodeId());
      }
      return Behaviors.same();
    }

    private Behavior<Command> onStreamUpdated(StreamUpdated message) {
      StreamStatus status = message.status();
      Subscription subscription = streams.get(status.streamId());
      if (subscription != null) {
        streams.put(status.streamId(), new Subscription(subscription.subscriber(), status));
      }
      return Behaviors.same();
    }

    private Behavior<Command> forget(long streamId) {
      Subscription gone = streams.remove(streamId);
      if (gone != null) {
        context.unwatch(gone.subscriber());
        String nodeId = gone.status().nodeId();
        if (streamCounts.merge(nodeId, -1, Integer::sum) <= 0) {
          streamCounts.remove(nodeId);
          tellWatchers();
        }
      }
      return Behaviors.same();
    }

    private Behavior<Command> onWatchConnectedNodes(WatchConnectedNodes message) {
      if (!watchers.contains(message.watcher())) {
        watchers.add(message.watcher());
        context.watchWith(message.watcher(), new WatcherTerminated(message.watcher()));
      }
      message.watcher().tell(new ConnectedNodes(streamCounts.keySet()));
      return Behaviors.same();
    }

    private void tellWatchers() {
      if (watchers.isEmpty()) {
        return;
      }
      ConnectedNodes connected = new ConnectedNodes(streamCounts.keySet());
      watchers.forEach(watcher -> watcher.tell(connected));
    }

    private Behavior<Command> onGetStatus(GetStatus message) {
      Map<String, List<StreamStatus>> streamsByNode = new TreeMap<>();
      for (String nodeId : snapshots.keySet()) {
        streamsByNode.put(nodeId, new ArrayList<>());
      }
      for (Subscription subscription : streams.values()) {
        streamsByNode
            .computeIfAbsent(subscription.status().nodeId(), id -> new ArrayList<>())
            .add(subscription.status());
      }
      List<NodeStatus> nodes = new ArrayList<>(streamsByNode.size());
      streamsByNode.forEach(
          (nodeId, nodeStreams) -> {
            XdsSnapshot snapshot = snapshots.get(nodeId);
            nodes.add(
                snapshot == null
                    ? new NodeStatus(nodeId, null, null, 0, 0, 0, nodeStreams)
                    : new NodeStatus(
                        nodeId,
                        snapshot.version(),
                        snapshot.versionInfo(),
                        snapshot.routeCount(),
                        snapshot.clusters().size(),
                        snapshot.listeners().size(),
                        nodeStreams));
          });
      message.replyTo().tell(new XdsStatus(nodes));
      return Behaviors.same();
    }

    /** Tells {@code snapshot} to every stream of its node; returns how many. */
    private int push(XdsSnapshot snapshot) {
      int pushed = 0;
      for (Subscription subscription : streams.values()) {
        if (subscription.status().nodeId().equals(snapshot.nodeId())) {
          subscription.subscriber().tell(snapshot);
          pushed++;
        }
      }
      return pushed;
    }
  }
}
