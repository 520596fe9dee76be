package io.sigma.agent.xds;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Asks a local Envoy's admin interface whether it is ready: {@code GET
 * http://127.0.0.1:<port>/ready}, which Envoy answers 200 {@code LIVE} once initialised (503 with
 * its state otherwise). Only loopback is ever asked, whatever port sigma-api names, with a deadline
 * for connecting, the answer and its body together, and a body of at most {@link #MAX_BODY_BYTES}.
 */
public final class EnvoyAdminClient implements EnvoyAdminProbe.Prober {

  /** Envoy's body is a state name ({@code LIVE}, {@code DRAINING}...); anything longer is wrong. */
  static final int MAX_BODY_BYTES = 64;

  /** The only host asked. */
  static final String HOST = "127.0.0.1";

  private final ActorSystem<?> system;
  private final Http http;
  private final ConnectionPoolSettings poolSettings;
  private final Duration timeout;

  /**
   * @param timeout deadline per probe: connecting, the answer and its body together
   */
  public EnvoyAdminClient(ActorSystem<?> system, Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("Envoy admin probe timeout must be positive: " + timeout);
    }
    this.system = system;
    this.http = Http.get(system);
    this.timeout = timeout;
    // No retries (the next poll probes again), and no connection outlives the deadline.
    this.poolSettings =
        ConnectionPoolSettings.create(system.classicSystem())
            .withMaxRetries(0)
            .withMaxConnections(1)
            .withMaxConnectionBackoff(timeout)
            .withConnectionSettings(
                ClientConnectionSettings.create(system.classicSystem())
                    .withConnectingTimeout(timeout)
                    .withIdleTimeout(timeout));
  }

  /** Completes (never exceptionally) within the timeout: LIVE, or why not. */
  @Override
  public CompletionStage<EnvoyAdminProbe.Answer> probe(int port) {
    if (port < 1 || port > 65535) {
      return CompletableFuture.completedFuture(EnvoyAdminProbe.Answer.down("no valid port"));
    }
    CompletableFuture<EnvoyAdminProbe.Answer> answer = new CompletableFuture<>();
    try {
      http.singleRequest(
              HttpRequest.GET("http://" + HOST + ":" + port + "/ready"),
              http.defaultClientHttpsContext(),
              poolSettings,
              system.classicSystem().log())
          .thenCompose(this::read)
          .whenComplete((read, error) -> answer.complete(error == null ? read : failed(error)));
    } catch (RuntimeException e) {
      answer.complete(failed(e));
    }
    // A separate future carries the deadline: a late response still reaches read() above, whose
    // body is then consumed or cancelled, which frees the pooled connection.
    return answer.completeOnTimeout(
        EnvoyAdminProbe.Answer.down("no answer within " + timeout.toMillis() + " ms"),
        timeout.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private CompletionStage<EnvoyAdminProbe.Answer> read(HttpResponse response) {
    int status = response.status().intValue();
    if (status != 200) {
      return discard(response, "HTTP " + status);
    }
    OptionalLong length = response.entity().getContentLengthOption();
    if (length.isPresent() && length.getAsLong() > MAX_BODY_BYTES) {
      return discard(response, "HTTP 200 with a body of " + length.getAsLong() + " bytes");
    }
    return response
        .entity()
        .toStrict(timeout.toMillis(), MAX_BODY_BYTES, system)
        .thenApply(
            strict -> {
              String body = strict.getData().utf8String().strip();
              return "LIVE".equals(body)
                  ? EnvoyAdminProbe.Answer.LIVE
                  : EnvoyAdminProbe.Answer.down(
                      "HTTP 200 but not LIVE: " + QuotedText.quote(body, 32));
            });
  }

  /** Cancels the body (never reads an unbounded one) and answers down for {@code reason}. */
  private CompletionStage<EnvoyAdminProbe.Answer> discard(HttpResponse response, String reason) {
    response.entity().getDataBytes().runWith(Sink.cancelled(), system);
    return CompletableFuture.completedFuture(EnvoyAdminProbe.Answer.down(reason));
  }

  private EnvoyAdminProbe.Answer failed(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TimeoutException) {
      return EnvoyAdminProbe.Answer.down("no answer within " + timeout.toMillis() + " ms");
    }
    String message =
        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return EnvoyAdminProbe.Answer.down(QuotedText.oneLine(message, 160));
  }
}
