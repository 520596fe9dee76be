package io.sigma.agent.xds;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Probes the admin interface of every Envoy node that sigma-api lists with an {@code admin_port}
 * ({@code GET http://127.0.0.1:<admin_port>/ready}, see {@link EnvoyAdminClient}) every poll
 * interval, at most {@link Settings#maxConcurrent} at once and one per node at a time, and reports
 * each answer to {@link Events} ({@code sigma_envoy_up}). The node list comes from the config
 * poller ({@link NodesListed}); a node no longer listed, or listed without admin_port, is forgotten
 * and its series removed.
 */
public final class EnvoyAdminProbe {

  /** The probe's protocol. */
  public sealed interface Command {}

  /** sigma-api's current node list for this VPS (every node, with or without admin_port). */
  public record NodesListed(List<AdminNode> nodes) implements Command {
    public NodesListed {
      nodes = List.copyOf(nodes);
    }
  }

  static NodesListed nodesListed(ConfigPoller.EnvoyNodes listing) {
    return new NodesListed(
        listing.nodes().stream()
            .map(node -> new AdminNode(node.nodeId(), node.adminPort()))
            .toList());
  }

  /** A listed Envoy node: its node.id and admin port (null when sigma-api has none). */
  public record AdminNode(String nodeId, Integer adminPort) {}

  /**
   * Probe every {@code interval} from now on (a SIGHUP changed {@code --xds-poll-interval}); the
   * next round comes one new interval after this.
   */
  public record IntervalChanged(Duration interval) implements Command {
    public IntervalChanged {
      if (interval == null || interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("Envoy admin probe interval must be positive");
      }
    }
  }

  private enum Tick implements Command {
    INSTANCE
  }

  private record Probed(String nodeId, long generation, Answer answer) implements Command {}

  /** What one probe found: {@code up} when /ready answered 200 LIVE, else why not. */
  public record Answer(boolean up, String detail) {
    public static final Answer LIVE = new Answer(true, "LIVE");

    public static Answer down(String why) {
      return new Answer(false, why);
    }
  }

  /** Asks the admin interface on 127.0.0.1:{@code port}; completes within its own deadline. */
  @FunctionalInterface
  public interface Prober {
    CompletionStage<Answer> probe(int port);
  }

  /** Where probe results go (the metrics). Called on the probe actor only. */
  public interface Events {
    /** {@code nodeId}'s Envoy answered (up) or did not (down). */
    void onProbed(String nodeId, boolean up);

    /** {@code nodeId} is not probed any more: drop what was reported about it. */
    void onForgotten(String nodeId);
  }

  /**
   * @param interval how often every node is probed
   * @param timeout a probe not answered by then counts as down (the prober has its own deadline;
   *     this one guards against a prober that never completes)
   * @param maxConcurrent probes in flight at once
   */
  public record Settings(Duration interval, Duration timeout, int maxConcurrent) {
    public Settings {
      if (interval.isNegative() || interval.isZero() || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException(
            "Envoy admin probe interval and timeout must be positive");
      }
      if (maxConcurrent < 1) {
        throw new IllegalArgumentException("at least one probe at a time: " + maxConcurrent);
      }
    }
  }

  /** Probes time out after 2 s. */
  public static final Duration TIMEOUT = Duration.ofSeconds(2);

  /** Probes in flight at once: a VPS runs a handful of Envoys. */
  public static final int MAX_CONCURRENT = 4;

  private EnvoyAdminProbe() {}

  /** A probe fed by the poller's node listings ({@link ConfigPoller.WatchNodes}). */
  public static Behavior<Command> create(
      Settings settings,
      Prober prober,
      Events events,
      ActorRef<? super ConfigPoller.WatchNodes> poller) {
    return Behaviors.setup(
        context -> {
          poller.tell(
              new ConfigPoller.WatchNodes(
                  context.messageAdapter(
                      ConfigPoller.EnvoyNodes.class, EnvoyAdminProbe::nodesListed)));
          return create(settings, prober, events);
        });
  }

  /** A probe fed with {@link NodesListed} by whoever creates it. */
  public static Behavior<Command> create(Settings settings, Prober prober, Events events) {
    return Behaviors.supervise(
            Behaviors.<Command>setup(
                context ->
                    Behaviors.withTimers(
                        timers -> new Probe(context, timers, settings, prober, events).behavior())))
        .onFailure(Exception.class, SupervisorStrategy.resume());
  }

  private static final class Probe {
    private final ActorContext<Command> context;
    private final TimerScheduler<Command> timers;
    private Settings settings;
    private final Prober prober;
    private final Events events;

    /** Probed nodes by node.id. */
    private final Map<String, Target> targets = new LinkedHashMap<>();

    private final Queue<String> due = new ArrayDeque<>();
    private final Set<String> queued = new HashSet<>();
    private int inFlight;
    private long generations;

    Probe(
        ActorContext<Command> context,
        TimerScheduler<Command> timers,
        Settings settings,
        Prober prober,
        Events events) {
      this.context = context;
      this.timers = timers;
      this.settings = settings;
      this.prober = prober;
      this.events = events;
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(NodesListed.class, this::onNodesListed)
          .onMessageEquals(Tick.INSTANCE, this::onTick)
          .onMessage(Probed.class, this::onProbed)
          .onMessage(IntervalChanged.class, this::onIntervalChanged)
          .build();
    }

    private Behavior<Command> onNodesListed(NodesListed listed) {
      Map<String, Integer> ports = new HashMap<>();
      for (AdminNode node : listed.nodes()) {
        if (node != null
            && node.nodeId() != null
            && !node.nodeId().isBlank()
            && node.adminPort() != null
            && node.adminPort() >= 1
            && node.adminPort() <= 65535) {
          ports.putIfAbsent(node.nodeId(), node.adminPort());
        }
      }
      for (var it = targets.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, Target> entry = it.next();
        Integer port = ports.get(entry.getKey());
        if (port == null || port != entry.getValue().port) {
          it.remove();
          events.onForgotten(entry.getKey());
          context
              .getLog()
              .debug(
                  "Envoy admin probe: node {} {}",
                  QuotedText.quote(entry.getKey(), 128),
                  port == null ? "no longer has an admin_port" : "moved to admin_port " + port);
        }
      }
      // New nodes are probed at once, then with the others every interval.
      for (Map.Entry<String, Integer> entry : ports.entrySet()) {
        if (!targets.containsKey(entry.getKey())) {
          targets.put(entry.getKey(), new Target(entry.getValue(), ++generations));
          enqueue(entry.getKey());
        }
      }
      if (targets.isEmpty()) {
        timers.cancel(Tick.INSTANCE);
      } else if (!timers.isTimerActive(Tick.INSTANCE)) {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.interval());
      }
      dispatch();
      return Behaviors.same();
    }

    private Behavior<Command> onIntervalChanged(IntervalChanged changed) {
      settings = new Settings(changed.interval(), settings.timeout(), settings.maxConcurrent());
      if (timers.isTimerActive(Tick.INSTANCE)) {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.interval());
      }
      return Behaviors.same();
    }

    private Behavior<Command> onTick() {
      targets.keySet().forEach(this::enqueue);
      dispatch();
      return Behaviors.same();
    }

    private void enqueue(String nodeId) {
      Target target = targets.get(nodeId);
      if (target != null && !target.inFlight && queued.add(nodeId)) {
        due.add(nodeId);
      }
    }

    private void dispatch() {
      while (inFlight < settings.maxConcurrent() && !due.isEmpty()) {
        String nodeId = due.poll();
        queued.remove(nodeId);
        Target target = targets.get(nodeId);
        if (target == null || target.inFlight) {
          continue;
        }
        target.inFlight = true;
        inFlight++;
        long generation = target.generation;
        CompletionStage<Answer> answer;
        try {
          answer =
              prober
                  .probe(target.port)
                  .toCompletableFuture()
                  .completeOnTimeout(
                      Answer.down("no answer within " + settings.timeout().toMillis() + " ms"),
                      settings.timeout().toMillis(),
                      TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
          answer =
              java.util.concurrent.CompletableFuture.completedFuture(Answer.down(e.toString()));
        }
        context.pipeToSelf(
            answer,
            (result, error) ->
                new Probed(
                    nodeId,
                    generation,
                    error == null ? result : Answer.down(String.valueOf(error))));
      }
    }

    private Behavior<Command> onProbed(Probed probed) {
      inFlight--;
      Target target = targets.get(probed.nodeId());
      if (target != null && target.generation == probed.generation()) {
        target.inFlight = false;
        boolean up = probed.answer().up();
        if (target.up == null || target.up != up) {
          if (up) {
            context
                .getLog()
                .info(
                    "Envoy {} is ready (admin port {} answers LIVE)",
                    QuotedText.quote(probed.nodeId(), 128),
                    target.port);
          } else {
            context
                .getLog()
                .warn(
                    "Envoy {} is not ready: GET http://127.0.0.1:{}/ready gave {}; "
                        + "sigma_envoy_up is 0, probing again every {} s",
                    QuotedText.quote(probed.nodeId(), 128),
                    target.port,
                    probed.answer().detail(),
                    settings.interval().toSeconds());
          }
        }
        target.up = up;
        events.onProbed(probed.nodeId(), up);
      }
      dispatch();
      return Behaviors.same();
    }
  }

  /** One probed node. */
  private static final class Target {
    final int port;
    final long generation;
    boolean inFlight;
    Boolean up;

    Target(int port, long generation) {
      this.port = port;
      this.generation = generation;
    }
  }
}
