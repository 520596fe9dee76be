package io.sigma.agent.fleet;

import io.sigma.agent.api.HeartbeatRequest;
import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.RegisterRequest;
import io.sigma.agent.api.SigmaApi;
import io.sigma.agent.api.SigmaApiException;
import io.sigma.agent.api.SystemInfo;
import io.sigma.agent.api.VpsRecord;
import io.sigma.agent.host.SystemFacts;
import io.sigma.agent.retry.Backoff;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Owns the agent's membership of the fleet: registers with sigma-api (retrying with exponential
 * backoff and full jitter), then heartbeats every interval (±10%) with at most one request in
 * flight; the first beat after a registration falls anywhere within one whole interval, so a fleet
 * that registered together spreads out at once. A 404 heartbeat means sigma-api forgot this VPS:
 * register again. 401/403 is a configuration error: say which setting to fix, and retry near the
 * backoff cap. Every other failure is logged and retried; the loop never stops.
 *
 * <p>The host facts sent with each request are read from /proc off the actor, on Pekko's
 * blocking-IO dispatcher, with a timeout ({@link HostReads}): a read that stalls (a hung file
 * system under --host-proc) cannot hold up this actor or the default dispatcher. Then the request
 * carries the facts last read (before any: no addresses, which heartbeats may send, and a zeroed
 * system_info with the metrics port and known public IP), one warning is logged, and no second read
 * starts while the stalled one still runs.
 */
public final class RegistrationActor extends AbstractBehavior<RegistrationActor.Command> {

  public sealed interface Command {}

  /** Tell me the VPS id now (if registered) and on every (re-)registration. */
  public record Subscribe(ActorRef<Registered> subscriber) implements Command {}

  /** The public IP found by a look-up, sent with the next register/heartbeat. */
  public record PublicIpChanged(Optional<String> publicIp) implements Command {}

  /** SIGHUP changed the heartbeat interval: the next heartbeat is due one new interval from now. */
  public record IntervalChanged(Duration interval) implements Command {}

  /**
   * From now on add {@code extras} to the system_info of every register and heartbeat: objects
   * other parts of the agent report (by name, e.g. {@code envoy}). The supplier is called on this
   * actor for each request, so it must answer at once from memory; one that throws is skipped for
   * that request.
   */
  public record AddSystemInfo(Supplier<Map<String, ?>> extras) implements Command {}

  /** Event for subscribers: this agent is the VPS {@code vpsId} in sigma-api. */
  public record Registered(String vpsId, String hostname) {}

  private enum Tick implements Command {
    REGISTER,
    HEARTBEAT,
    SUMMARY
  }

  private record RegisterAnswered(VpsRecord vps, Throwable error) implements Command {}

  private record HeartbeatAnswered(VpsRecord vps, Throwable error) implements Command {}

  /** The host facts for the request {@code next} (REGISTER or HEARTBEAT), or why there are none. */
  private record FactsRead(Tick next, Facts facts, Throwable error) implements Command {}

  /** What one register/heartbeat reports about the host. */
  private record Facts(List<IpAddress> addresses, SystemInfo systemInfo, Instant readAt) {}

  /**
   * Where host facts are read and how long a read may take before the request goes without it.
   *
   * @param executor a blocking-IO executor, never the actor's dispatcher
   * @param timeout after this the request is sent with the facts last read
   */
  public record HostReads(Executor executor, Duration timeout) {
    public HostReads {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("host read timeout must be positive: " + timeout);
      }
    }
  }

  /**
   * How often successful heartbeats are summarised in the log: a healthy agent logs its first
   * accepted heartbeat, then one line per period, not one per beat.
   */
  public static final Duration SUMMARY_EVERY = Duration.ofHours(1);

  /** How long a host read may take in production: /proc answers in microseconds. */
  public static final Duration HOST_READ_TIMEOUT = Duration.ofSeconds(5);

  /** What the actor needs to know; fixed for the agent's life but the interval (SIGHUP). */
  public record Settings(
      Optional<String> alias,
      int sshPort,
      Integer metricsPort,
      Duration interval,
      Backoff backoff) {}

  private static final Object NEXT = "next";
  private static final Object SUMMARY = "summary";

  private final TimerScheduler<Command> timers;
  private Settings settings;
  private final SigmaApi api;
  private final HostFacts host;
  private final FleetStatus status;
  private final RandomGenerator random;
  private final List<ActorRef<Registered>> subscribers = new ArrayList<>();
  private final List<Supplier<Map<String, ?>>> systemInfoExtras = new ArrayList<>();

  private String vpsId;
  private Optional<String> publicIp = Optional.empty();
  private boolean inFlight;
  private int registerFailures;
  private int heartbeatFailures;
  private final HostReads reads;

  /** The last host read started; a stalled one is not joined by a second. */
  private CompletableFuture<Facts> hostRead = CompletableFuture.completedFuture(null);

  private Facts lastFacts;
  private int stalledReads;
  private final Duration summaryEvery;

  /** After a (re-)registration the next accepted heartbeat is logged, not just counted. */
  private boolean announceNextSuccess;

  /** When the current streak of failed heartbeats began (clock of the FleetStatus). */
  private Instant failingSince;

  /** Heartbeats of the current summary period. */
  private long sentInPeriod;

  private long acceptedInPeriod;
  private long failedInPeriod;

  /** Reads host facts on Pekko's blocking-IO dispatcher, with {@link #HOST_READ_TIMEOUT}. */
  public static Behavior<Command> create(
      Settings settings, SigmaApi api, HostFacts host, FleetStatus status, RandomGenerator random) {
    return Behaviors.setup(
        ctx ->
            create(
                settings,
                api,
                host,
                status,
                random,
                new HostReads(
                    ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking()),
                    HOST_READ_TIMEOUT)));
  }

  public static Behavior<Command> create(
      Settings settings,
      SigmaApi api,
      HostFacts host,
      FleetStatus status,
      RandomGenerator random,
      HostReads reads) {
    return create(settings, api, host, status, random, reads, SUMMARY_EVERY);
  }

  /**
   * @param summaryEvery how often successful heartbeats are summarised ({@link #SUMMARY_EVERY})
   */
  public static Behavior<Command> create(
      Settings settings,
      SigmaApi api,
      HostFacts host,
      FleetStatus status,
      RandomGenerator random,
      HostReads reads,
      Duration summaryEvery) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ctx.getSelf().tell(Tick.REGISTER);
                  timers.startTimerWithFixedDelay(SUMMARY, Tick.SUMMARY, summaryEvery);
                  return new RegistrationActor(
                      ctx, timers, settings, api, host, status, random, reads, summaryEvery);
                }));
  }

  private RegistrationActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      Settings settings,
      SigmaApi api,
      HostFacts host,
      FleetStatus status,
      RandomGenerator random,
      HostReads reads,
      Duration summaryEvery) {
    super(ctx);
    this.reads = reads;
    this.summaryEvery = summaryEvery;
    this.timers = timers;
    this.settings = settings;
    this.api = api;
    this.host = host;
    this.status = status;
    this.random = random;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.REGISTER, this::register)
        .onMessageEquals(Tick.HEARTBEAT, this::heartbeat)
        .onMessageEquals(Tick.SUMMARY, this::summarise)
        .onMessage(FactsRead.class, this::onFactsRead)
        .onMessage(RegisterAnswered.class, this::onRegisterAnswered)
        .onMessage(HeartbeatAnswered.class, this::onHeartbeatAnswered)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(PublicIpChanged.class, this::onPublicIp)
        .onMessage(IntervalChanged.class, this::onIntervalChanged)
        .onMessage(
            AddSystemInfo.class,
            add -> {
              systemInfoExtras.add(add.extras());
              return this;
            })
        .build();
  }

  private Behavior<Command> onIntervalChanged(IntervalChanged changed) {
    settings =
        new Settings(
            settings.alias(),
            settings.sshPort(),
            settings.metricsPort(),
            changed.interval(),
            settings.backoff());
    // A heartbeat waiting for the old interval waits for the new one instead; a request in
    // flight or a retry after failures schedules with the new interval when it is answered.
    if (vpsId != null && !inFlight && heartbeatFailures == 0 && timers.isTimerActive(NEXT)) {
      schedule(Tick.HEARTBEAT, Backoff.jittered(changed.interval(), random));
    }
    return this;
  }

  private Behavior<Command> register() {
    if (inFlight) {
      return this;
    }
    readFactsThen(Tick.REGISTER);
    return this;
  }

  private Behavior<Command> heartbeat() {
    if (inFlight || vpsId == null) {
      return this;
    }
    readFactsThen(Tick.HEARTBEAT);
    return this;
  }

  /**
   * Reads the host facts off the actor, then sends {@code next}. In flight from here: ticks that
   * arrive meanwhile are dropped, as during the request itself.
   */
  private void readFactsThen(Tick next) {
    inFlight = true;
    if (!hostRead.isDone()) {
      // The last read is still stalled: do not tie up a second thread behind it.
      getContext()
          .getSelf()
          .tell(
              new FactsRead(
                  next, null, new TimeoutException("the previous host read has not finished")));
      return;
    }
    Optional<String> lookedUp = publicIp;
    Integer metricsPort = settings.metricsPort();
    hostRead =
        CompletableFuture.supplyAsync(
            () -> {
              List<IpAddress> addresses = host.addresses();
              return new Facts(
                  addresses,
                  host.systemInfo(metricsPort, publicIpFor(lookedUp, addresses)),
                  Instant.now());
            },
            reads.executor());
    getContext()
        .pipeToSelf(
            hostRead.copy().orTimeout(reads.timeout().toMillis(), TimeUnit.MILLISECONDS),
            (facts, error) -> new FactsRead(next, facts, error));
  }

  private Behavior<Command> onFactsRead(FactsRead read) {
    Facts facts = read.facts();
    if (read.error() == null) {
      if (stalledReads > 0) {
        getContext()
            .getLog()
            .info("Host facts read again after {} stalled or failed attempt(s)", stalledReads);
        stalledReads = 0;
      }
      lastFacts = facts;
    } else {
      facts = factsWithoutARead(read.error());
    }
    SystemInfo systemInfo = withExtras(facts.systemInfo());
    if (read.next() == Tick.REGISTER) {
      send(
          api.register(
              new RegisterRequest(
                  host.hostname(),
                  settings.alias().orElse(null),
                  facts.addresses(),
                  settings.sshPort(),
                  systemInfo)),
          RegisterAnswered::new);
    } else if (vpsId != null) {
      sentInPeriod++;
      send(
          api.heartbeat(new HeartbeatRequest(host.hostname(), facts.addresses(), systemInfo)),
          HeartbeatAnswered::new);
    } else {
      inFlight = false; // deregistered meanwhile: the registration tick is on its way
    }
    return this;
  }

  /** {@code systemInfo} with the objects of every {@link AddSystemInfo} supplier that answers. */
  private SystemInfo withExtras(SystemInfo systemInfo) {
    SystemInfo extended = systemInfo;
    for (Supplier<Map<String, ?>> extras : systemInfoExtras) {
      try {
        extended = extended.withExtra(extras.get());
      } catch (RuntimeException e) {
        getContext()
            .getLog()
            .warn(
                "An extra system_info object could not be read ({}); sending without it",
                e.toString());
      }
    }
    return extended;
  }

  /** The facts to send when a read stalled or failed: the last ones read, else none. */
  private Facts factsWithoutARead(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String why =
        cause instanceof TimeoutException
            ? "took longer than "
                + reads.timeout().toMillis()
                + " ms (a stalled file system under"
                + " --host-proc?)"
            : "failed (" + cause + ")";
    String instead =
        lastFacts != null
            ? "the facts last read at " + lastFacts.readAt()
            : "no IP addresses and a zeroed system_info (with metrics_port and public_ip)";
    if (stalledReads++ == 0) {
      getContext()
          .getLog()
          .warn(
              "Reading the host facts (IP addresses, system_info) {}; sending {} "
                  + "instead, and reading again for the next request",
              why,
              instead);
    } else {
      getContext()
          .getLog()
          .debug(
              "Host facts still not read ({} in a row): {}; sending {}",
              stalledReads,
              why,
              instead);
    }
    if (lastFacts != null) {
      return lastFacts;
    }
    return new Facts(
        List.of(),
        SystemFacts.NONE.toSystemInfo(settings.metricsPort(), publicIp.orElse(null)),
        Instant.now());
  }

  private <A extends Command> void send(
      CompletionStage<VpsRecord> call,
      java.util.function.BiFunction<VpsRecord, Throwable, A> answer) {
    inFlight = true;
    getContext().pipeToSelf(call, answer::apply);
  }

  private Behavior<Command> onRegisterAnswered(RegisterAnswered answer) {
    inFlight = false;
    if (answer.error() == null) {
      boolean firstTime = vpsId == null && status.registrationSuccesses() == 0;
      vpsId = answer.vps().id();
      registerFailures = 0;
      heartbeatFailures = 0;
      announceNextSuccess = true;
      status.registered(vpsId);
      getContext()
          .getLog()
          .info(
              "Registered with sigma-api as VPS {} (hostname {}){}; " + "heartbeat every {}s",
              vpsId,
              host.hostname(),
              firstTime ? "" : " again",
              settings.interval().toSeconds());
      subscribers.forEach(s -> s.tell(new Registered(vpsId, host.hostname())));
      // A random phase within one whole interval, so agents that registered together do not
      // heartbeat together.
      schedule(Tick.HEARTBEAT, Backoff.spreadOverInterval(settings.interval(), random));
      return this;
    }
    registerFailures++;
    String reason = reason(answer.error());
    status.registrationFailed(reason);
    Duration delay = retryDelay(answer.error(), registerFailures);
    if (isAuthFailure(answer.error())) {
      getContext()
          .getLog()
          .error(
              "Registration refused by sigma-api ({}): the API key is "
                  + "missing, wrong or lacks the agent role; set --api-key / SIGMA_API_KEY. "
                  + "Retrying in {}s",
              reason,
              delay.toSeconds());
    } else {
      getContext()
          .getLog()
          .warn(
              "Registration failed (attempt {}): {}. Retrying in {} ms",
              registerFailures,
              reason,
              delay.toMillis());
    }
    schedule(Tick.REGISTER, delay);
    return this;
  }

  private Behavior<Command> onHeartbeatAnswered(HeartbeatAnswered answer) {
    inFlight = false;
    if (answer.error() == null) {
      status.heartbeatSucceeded();
      acceptedInPeriod++;
      if (heartbeatFailures > 0) {
        getContext()
            .getLog()
            .info(
                "Heartbeats succeed again after {} failure(s) over {} s",
                heartbeatFailures,
                Duration.between(failingSince, now()).toSeconds());
      } else if (announceNextSuccess) {
        getContext()
            .getLog()
            .info(
                "Heartbeat accepted by sigma-api (VPS {}); next in ~{}; further "
                    + "successes are summarised {}",
                answer.vps().id(),
                text(settings.interval()),
                summaryEvery.equals(Duration.ofHours(1))
                    ? "hourly"
                    : "every " + text(summaryEvery));
      }
      announceNextSuccess = false;
      heartbeatFailures = 0;
      if (!answer.vps().id().equals(vpsId)) {
        // The VPS was re-created under another id (e.g. a restored database): follow it.
        getContext()
            .getLog()
            .info("sigma-api now knows this VPS as {} (was {})", answer.vps().id(), vpsId);
        vpsId = answer.vps().id();
        status.registered(vpsId);
        subscribers.forEach(s -> s.tell(new Registered(vpsId, host.hostname())));
      }
      schedule(Tick.HEARTBEAT, Backoff.jittered(settings.interval(), random));
      return this;
    }
    String reason = reason(answer.error());
    status.heartbeatFailed(reason);
    failedInPeriod++;
    if (SigmaApiException.of(answer.error()).map(e -> e.isStatus(404)).orElse(false)) {
      getContext()
          .getLog()
          .warn(
              "sigma-api does not know hostname {} any more (HTTP 404): " + "registering again",
              host.hostname());
      vpsId = null;
      status.deregistered();
      heartbeatFailures = 0;
      getContext().getSelf().tell(Tick.REGISTER);
      return this;
    }
    if (heartbeatFailures++ == 0) {
      failingSince = now();
    }
    Duration delay = retryDelay(answer.error(), heartbeatFailures);
    // Never heartbeat faster than the interval because of failures: an API in trouble gets
    // less traffic from the fleet, not more.
    Duration interval = Backoff.jittered(settings.interval(), random);
    if (delay.compareTo(interval) < 0) {
      delay = interval;
    }
    if (isAuthFailure(answer.error())) {
      getContext()
          .getLog()
          .error(
              "Heartbeat refused by sigma-api ({}): set --api-key / "
                  + "SIGMA_API_KEY to a valid key. Retrying in {}s",
              reason,
              delay.toSeconds());
    } else {
      getContext()
          .getLog()
          .warn(
              "Heartbeat failed ({} in a row): {}. Next attempt in {}s",
              heartbeatFailures,
              reason,
              delay.toSeconds());
    }
    schedule(Tick.HEARTBEAT, delay);
    return this;
  }

  /** One INFO line per period while heartbeats are being sent; silent when none were. */
  private Behavior<Command> summarise() {
    if (sentInPeriod > 0) {
      String lastAccepted =
          status
              .lastHeartbeatSuccess()
              .map(t -> t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString())
              .orElse("never");
      getContext()
          .getLog()
          .info(
              "Last {}: {} heartbeats sent, {} accepted, {} failed; last " + "accepted {}",
              summaryEvery.equals(Duration.ofHours(1)) ? "hour" : text(summaryEvery),
              sentInPeriod,
              acceptedInPeriod,
              failedInPeriod,
              lastAccepted);
    }
    sentInPeriod = 0;
    acceptedInPeriod = 0;
    failedInPeriod = 0;
    return this;
  }

  private Instant now() {
    return status.clock().instant();
  }

  /** "60 s", or "400 ms" below a second. */
  private static String text(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private Behavior<Command> onSubscribe(Subscribe subscribe) {
    subscribers.add(subscribe.subscriber());
    if (vpsId != null) {
      subscribe.subscriber().tell(new Registered(vpsId, host.hostname()));
    }
    return this;
  }

  private Behavior<Command> onPublicIp(PublicIpChanged change) {
    publicIp = change.publicIp();
    return this;
  }

  /**
   * {@code public_ip}: the looked-up address (behind NAT), else the first public IPv4 address of
   * the host itself, else none.
   */
  private static String publicIpFor(Optional<String> publicIp, List<IpAddress> addresses) {
    return publicIp.orElseGet(
        () ->
            addresses.stream()
                .filter(a -> IpAddress.PUBLIC.equals(a.label()) && !a.ip().contains(":"))
                .map(IpAddress::ip)
                .findFirst()
                .orElse(null));
  }

  private void schedule(Tick tick, Duration delay) {
    timers.startSingleTimer(NEXT, tick, delay);
  }

  private Duration retryDelay(Throwable error, int failures) {
    return isAuthFailure(error)
        ? settings.backoff().atCap(random)
        : settings.backoff().delay(failures, random);
  }

  private static boolean isAuthFailure(Throwable error) {
    return SigmaApiException.of(error).map(SigmaApiException::isAuthFailure).orElse(false);
  }

  private static String reason(Throwable error) {
    return SigmaApiException.of(error)
        .map(Throwable::getMessage)
        .orElseGet(() -> error.getClass().getSimpleName() + ": " + error.getMessage());
  }
}
