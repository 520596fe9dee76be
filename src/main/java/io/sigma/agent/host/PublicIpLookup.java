package io.sigma.agent.host;

import io.sigma.agent.api.IpAddress;
import io.sigma.agent.api.OnDemandTls;
import java.net.Inet4Address;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.stream.javadsl.Sink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the host's public IPv4 address when it sits behind NAT, by asking "what is my IP" services
 * one after another until one answers with a public IPv4 address.
 *
 * <p>Each service gets one GET with a deadline (connect, answer and body together); no retries. An
 * error status, an answer that is not a bare public IPv4 address (HTML, an error text, a private
 * address, an IPv6 address), a body over {@value #MAX_ANSWER_BYTES} bytes, a connection failure or
 * the deadline all move on to the next service. When none answers, the result is empty and one info
 * line says so; individual failures are logged at debug only, so a machine without internet access
 * stays quiet.
 *
 * <p>Only IPv4 answers count: the look-up exists for NAT'd IPv4 (see {@link #needsLookup}), and
 * sigma-api puts {@code public_ip} unbracketed into a URL.
 *
 * <p>Uses the agent's Pekko HTTP client on the given actor system; thread-safe; the caller
 * schedules and caches it.
 */
public final class PublicIpLookup {
  private static final Logger log = LoggerFactory.getLogger(PublicIpLookup.class);

  /** The services asked, in order, unless others are given. Each answers with the bare IP. */
  public static final List<URI> DEFAULT_SERVICES =
      List.of(
          URI.create("https://api.ipify.org"),
          URI.create("https://ifconfig.me/ip"),
          URI.create("https://icanhazip.com"));

  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  /** An address with a newline fits many times over; anything longer is not a bare address. */
  static final int MAX_ANSWER_BYTES = 256;

  private static final String BECAUSE_OF = " failed because of ";

  private final ActorSystem<?> system;
  private final Http http;
  private final HttpsConnectionContext httpsContext;
  private final ConnectionPoolSettings poolSettings;
  private final List<URI> services;
  private final Duration timeout;

  /**
   * @param system the agent's actor system (its Pekko HTTP client makes the requests)
   * @param services http(s) URIs answering a GET with the caller's IP as plain text, in order
   * @param timeout deadline per service: connecting, the answer and its body together
   * @throws IllegalArgumentException for a non-http(s) URI or a non-positive timeout
   */
  public PublicIpLookup(ActorSystem<?> system, List<URI> services, Duration timeout) {
    this.system = Objects.requireNonNull(system, "system");
    this.services = List.copyOf(services);
    for (URI service : this.services) {
      String scheme = service.getScheme();
      if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
          || service.getHost() == null) {
        throw new IllegalArgumentException(
            "public IP service '" + service + "' is not an http(s) URL");
      }
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "public IP look-up timeout must be positive, not " + timeout);
    }
    this.timeout = timeout;
    this.http = Http.get(system);
    this.httpsContext = OnDemandTls.CLIENT;
    // No retries (a failing service means: ask the next one), and no connection attempt or
    // silent connection outlives the deadline.
    this.poolSettings =
        ConnectionPoolSettings.create(system.classicSystem())
            .withMaxRetries(0)
            .withMaxConnectionBackoff(timeout)
            .withConnectionSettings(
                ClientConnectionSettings.create(system.classicSystem())
                    .withConnectingTimeout(timeout)
                    .withIdleTimeout(timeout));
  }

  /**
   * True when none of the host's own addresses is a public IPv4 address (it is behind NAT), so
   * {@code public_ip} can only be learned by asking the outside.
   */
  public static boolean needsLookup(List<IpAddress> localAddresses) {
    return localAddresses.stream()
        .noneMatch(
            a ->
                IpAddress.PUBLIC.equals(a.label())
                    && IpLiterals.parse(a.ip())
                        .filter(ip -> ip instanceof Inet4Address)
                        .isPresent());
  }

  /**
   * Asks the services in order. Completes (never exceptionally) with the first public IPv4 address
   * answered, in canonical form, or empty when every service failed.
   */
  public CompletionStage<Optional<String>> lookup() {
    return ask(0, new ArrayList<>());
  }

  /**
   * The public IPv4 address that a service's body consists of (surrounding white space allowed), or
   * empty.
   */
  static Optional<String> parseAnswer(String body) {
    return IpLiterals.parse(body.strip())
        .filter(ip -> ip instanceof Inet4Address)
        .filter(AddressFilter::isPublic)
        .map(IpLiterals::format);
  }

  private CompletionStage<Optional<String>> ask(int index, List<String> failures) {
    if (index >= services.size()) {
      log.info(
          "public IP look-up: no service gave a public IPv4 address ({}); public_ip stays unknown until"
              + " the next look-up",
          failures.isEmpty() ? "no services configured" : String.join("; ", failures));
      return CompletableFuture.completedFuture(Optional.empty());
    }
    URI service = services.get(index);
    return askOne(service)
        .handle(
            (ip, error) -> {
              if (error == null) {
                log.debug("public IP look-up: {} answered {}", service, ip);
                return CompletableFuture.completedFuture(Optional.of(ip));
              }
              String reason = reason(error);
              log.debug(
                  "public IP look-up: {} failed: {}; asking the next service", service, reason);
              failures.add(service + ": " + reason);
              return ask(index + 1, failures);
            })
        .thenCompose(Function.identity());
  }

  /** The address one service answers, or a failure; completes within the timeout. */
  private CompletableFuture<String> askOne(URI service) {
    CompletableFuture<String> answer = new CompletableFuture<>();
    try {
      http.singleRequest(
              HttpRequest.GET(service.toString()),
              httpsContext,
              poolSettings,
              system.classicSystem().log())
          .thenCompose(this::readAnswer)
          .whenComplete(
              (ip, error) -> {
                if (error != null) {
                  answer.completeExceptionally(error);
                } else {
                  answer.complete(ip);
                }
              });
    } catch (RuntimeException e) {
      answer.completeExceptionally(e);
    }
    // A separate future carries the deadline, so that a late response still reaches
    // readAnswer above and its body is consumed or discarded (which frees the pooled connection).
    return answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private CompletionStage<String> readAnswer(HttpResponse response) {
    if (!response.status().isSuccess()) {
      return reject(response, "HTTP status " + response.status().intValue());
    }
    OptionalLong length = response.entity().getContentLengthOption();
    if (length.isPresent() && length.getAsLong() > MAX_ANSWER_BYTES) {
      return reject(
          response, "answer of " + length.getAsLong() + " bytes is too long for an address");
    }
    return response
        .entity()
        .toStrict(timeout.toMillis(), MAX_ANSWER_BYTES, system)
        .thenApply(
            strict -> {
              String body = strict.getData().utf8String();
              return parseAnswer(body)
                  .orElseThrow(
                      () ->
                          new RejectedAnswer(
                              "answer is not a public IPv4 address: " + LogText.excerpt(body, 40)));
            });
  }

  /**
   * Fails with {@code reason} after cancelling the body: the pool needs every entity subscribed,
   * and cancelling (unlike draining) does not read an unbounded body.
   */
  private CompletionStage<String> reject(HttpResponse response, String reason) {
    response.entity().getDataBytes().runWith(Sink.cancelled(), system);
    return CompletableFuture.failedFuture(new RejectedAnswer(reason));
  }

  private String reason(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TimeoutException) {
      return "no answer within " + timeout.toMillis() + " ms";
    }
    if (cause instanceof RejectedAnswer) {
      return cause.getMessage();
    }
    String message =
        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    // Pekko's connection errors read "Tcp command [Connect(…)] failed because of <the cause>".
    int because = message.indexOf(BECAUSE_OF);
    if (because >= 0) {
      message = message.substring(because + BECAUSE_OF.length());
    }
    return message.length() <= 160 ? message : message.substring(0, 160) + "…";
  }

  /** A service answered, but not with something usable. */
  private static final class RejectedAnswer extends RuntimeException {
    RejectedAnswer(String message) {
      super(message, null, false, false);
    }
  }
}
