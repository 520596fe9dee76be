package io.sigma.agent.xds;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sigma.agent.api.Json;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /xds/status} on the metrics server: {@link XdsStatusReport} as JSON, from the {@link
 * SnapshotRegistry} and the {@link ConfigPoller}. Answers 503 when they do not reply in time.
 */
public final class XdsStatusRoutes extends AllDirectives {

  /** How long the page waits for the registry and the poller. */
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);

  private static final Logger log = LoggerFactory.getLogger(XdsStatusRoutes.class);

  private final Function<Duration, CompletionStage<XdsStatus>> served;
  private final Function<Duration, CompletionStage<PollerStatus>> source;
  private final Clock clock;
  private final Duration askTimeout;
  private final ObjectMapper json = Json.newMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * @param served asks what the registry serves, within the timeout
   * @param source asks the poller's status, within the timeout (null when there is no poller: the
   *     page then shows the served side only)
   */
  XdsStatusRoutes(
      Function<Duration, CompletionStage<XdsStatus>> served,
      Function<Duration, CompletionStage<PollerStatus>> source,
      Clock clock,
      Duration askTimeout) {
    this.served = served;
    this.source = source;
    this.clock = clock;
    this.askTimeout = askTimeout;
  }

  /** The page of the control plane run by {@code guardian}. */
  static XdsStatusRoutes of(
      ActorRef<XdsGuardian.Command> guardian, ActorSystem<?> system, Clock clock) {
    return of(guardian, system, clock, ASK_TIMEOUT);
  }

  /** As {@link #of(ActorRef, ActorSystem, Clock)}, answering 503 after {@code askTimeout}. */
  static XdsStatusRoutes of(
      ActorRef<XdsGuardian.Command> guardian,
      ActorSystem<?> system,
      Clock clock,
      Duration askTimeout) {
    return new XdsStatusRoutes(
        timeout ->
            AskPattern.ask(guardian, XdsGuardian.GetServedStatus::new, timeout, system.scheduler()),
        timeout ->
            AskPattern.ask(guardian, ConfigPoller.GetStatus::new, timeout, system.scheduler()),
        clock,
        askTimeout);
  }

  public Route route() {
    return path(
        PathMatchers.segment("xds").slash("status"), () -> get(() -> completeWithFuture(status())));
  }

  CompletionStage<HttpResponse> status() {
    CompletionStage<XdsStatus> served = this.served.apply(askTimeout);
    CompletionStage<PollerStatus> source = this.source.apply(askTimeout);
    return served
        .thenCombine(source, (s, p) -> XdsStatusReport.of(s, p, clock.instant()))
        .thenApply(
            report -> {
              try {
                return HttpResponse.create()
                    .withEntity(ContentTypes.APPLICATION_JSON, json.writeValueAsBytes(report));
              } catch (Exception e) {
                throw new IllegalStateException("cannot write the xDS status as JSON", e);
              }
            })
        .exceptionally(
            failure -> {
              log.warn("GET /xds/status failed: {}", failure.toString());
              return HttpResponse.create()
                  .withStatus(StatusCodes.SERVICE_UNAVAILABLE)
                  .withEntity(
                      ContentTypes.APPLICATION_JSON,
                      "{\"error\":\"the xDS control plane did not answer in time; try again\"}");
            });
  }
}
