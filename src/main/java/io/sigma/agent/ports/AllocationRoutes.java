package io.sigma.agent.ports;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sigma.agent.config.AllocationToken;
import io.sigma.agent.config.PortRange;
import io.sigma.agent.host.IpLiterals;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /ports/allocate} on the metrics server, the call sigma-api proxies for {@code POST
 * /vps/{id}/allocate-ports} (contract section 5).
 *
 * <table>
 *   <caption>answers</caption>
 *   <tr><td>200</td><td>{@code {"ports": [10001, 10002]}}: reserved for the caller</td></tr>
 *   <tr><td>400</td><td>{@code {"error": "..."}}: body not {@code {"count": N}}, 1 ≤ N ≤ 1000
 *       ({@link AllocationRequest})</td></tr>
 *   <tr><td>401</td><td>an {@code --allocate-token} is set and neither {@code X-Api-Key} nor
 *       {@code Authorization: Bearer} carries it</td></tr>
 *   <tr><td>403</td><td>the caller is not loopback, not sigma-api and not in
 *       {@code --allocate-allow-from} ({@link AllocationCallers})</td></tr>
 *   <tr><td>409</td><td>fewer free ports than asked; nothing reserved</td></tr>
 *   <tr><td>413</td><td>body over {@value #MAX_BODY_BYTES} bytes</td></tr>
 *   <tr><td>429</td><td>a caller let in by {@code --allocate-allow-from} went over its rate
 *       ({@link CallerRateLimiter}); {@code Retry-After} says when to try again</td></tr>
 *   <tr><td>500</td><td>the bind tests failed unexpectedly (the allocator restarts)</td></tr>
 *   <tr><td>503</td><td>port scanning is off ({@code --port-scan}); or the allocator is busy
 *       (too many requests wait, or none answered within {@link #ASK_TIMEOUT}), with {@code
 *       Retry-After}</td></tr>
 * </table>
 *
 * The caller is the TCP peer (the server's {@code remote-address-attribute}); headers such as
 * {@code X-Forwarded-For} are never trusted (Pekko's {@code extractClientIP} would prefer them).
 * The address is checked first, then the rate, then the token, so a stranger learns nothing (not
 * even whether a token is set or scanning is on). The allocation is asked of the {@link
 * PortAllocator} actor, which runs the bind tests on the blocking-IO dispatcher, never on the HTTP
 * server's threads.
 */
public final class AllocationRoutes extends AllDirectives {
  private static final Logger LOG = LoggerFactory.getLogger(AllocationRoutes.class);

  /** Bodies are {@code {"count": N}}; anything this long is not one. */
  public static final long MAX_BODY_BYTES = 4096;

  /** How long a request waits for the allocator's answer. */
  public static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

  /** The allocator actor and the range it allocates from (for the answers' wording). */
  public record Allocator(ActorRef<PortAllocator.Command> actor, PortRange range) {
    public Allocator {
      Objects.requireNonNull(actor, "actor");
      Objects.requireNonNull(range, "range");
    }
  }

  private final ObjectMapper json = new ObjectMapper();
  private final Optional<Allocator> allocator;
  private final Supplier<Optional<AllocationToken>> token;
  private final AllocationCallers callers;
  private final CallerRateLimiter rateLimiter;
  private final Scheduler scheduler;

  /**
   * @param allocator the allocator, or empty when port scanning is disabled (answers 503)
   * @param token the required shared secret as of each request (SIGHUP may set, change or remove
   *     it), or empty for none
   * @param callers who may call at all
   * @param rateLimiter the rate of the callers {@code --allocate-allow-from} lets in
   * @param scheduler times out the asks of the allocator
   */
  public AllocationRoutes(
      Optional<Allocator> allocator,
      Supplier<Optional<AllocationToken>> token,
      AllocationCallers callers,
      CallerRateLimiter rateLimiter,
      Scheduler scheduler) {
    this.allocator = Objects.requireNonNull(allocator, "allocator");
    this.token = Objects.requireNonNull(token, "token");
    this.callers = Objects.requireNonNull(callers, "callers");
    this.rateLimiter = Objects.requireNonNull(rateLimiter, "rateLimiter");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  public Route route() {
    return path(
        PathMatchers.segment("ports").slash("allocate"),
        () ->
            post(
                () ->
                    extractRequest(
                        request -> {
                          Optional<InetAddress> peer =
                              request
                                  .getAttribute(AttributeKeys.remoteAddress)
                                  .flatMap(RemoteAddress::getAddress);
                          if (peer.isEmpty()) {
                            // only if the server runs without
                            // pekko.http.server.remote-address-attribute
                            LOG.error(
                                "POST /ports/allocate refused: the HTTP server does not tell the caller's "
                                    + "address (pekko.http.server.remote-address-attribute is off)");
                            return complete(
                                error(
                                    StatusCodes.FORBIDDEN,
                                    "the agent cannot tell the caller's address"));
                          }
                          return onSuccess(
                              callers.classify(peer.get()),
                              kind ->
                                  kind.isEmpty()
                                      ? refuse(peer.get())
                                      : rateLimited(peer.get(), kind.get())
                                          .orElseGet(this::authorised));
                        })));
  }

  private Route refuse(InetAddress peer) {
    String caller = IpLiterals.format(AllocationCallers.normalise(peer));
    LOG.warn(
        "Refused POST /ports/allocate from {} (403): not loopback, not sigma-api (the host of "
            + "--api-url), not in --allocate-allow-from. If this host should allocate ports, add it "
            + "to --allocate-allow-from / AGENT_ALLOCATE_ALLOW_FROM.",
        caller);
    return complete(
        error(
            StatusCodes.FORBIDDEN,
            "this agent takes no port allocations from "
                + caller
                + "; to allow it, add it to the agent's --allocate-allow-from / "
                + "AGENT_ALLOCATE_ALLOW_FROM (sigma-api at the host of the agent's --api-url, and "
                + "loopback, need no entry)"));
  }

  private Optional<Route> rateLimited(InetAddress peer, AllocationCallers.Kind kind) {
    if (kind != AllocationCallers.Kind.ALLOWED_RANGE) {
      return Optional.empty();
    }
    return rateLimiter
        .tryAcquire(peer)
        .map(
            wait -> {
              long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
              LOG.warn(
                  "Rate-limited POST /ports/allocate from {}: over {} requests at once or one a "
                      + "second; answered 429",
                  IpLiterals.format(AllocationCallers.normalise(peer)),
                  CallerRateLimiter.BURST);
              return complete(
                  error(
                          StatusCodes.TOO_MANY_REQUESTS,
                          "too many allocation requests from "
                              + "this address; retry in "
                              + seconds
                              + " s")
                      .addHeader(RetryAfter.create(seconds)));
            });
  }

  private Route authorised() {
    return optionalHeaderValueByName(
        "X-Api-Key",
        apiKey ->
            optionalHeaderValueByName(
                "Authorization",
                authorization -> {
                  Optional<AllocationToken> token = this.token.get();
                  if (token.isPresent() && !token.get().acceptsHeaders(apiKey, authorization)) {
                    LOG.debug("POST /ports/allocate without a valid allocation token: 401");
                    return complete(
                        error(
                                StatusCodes.UNAUTHORIZED,
                                "missing or wrong allocation "
                                    + "token: send it as X-Api-Key or Authorization: Bearer")
                            .addHeader(
                                WWWAuthenticate.create(
                                    HttpChallenge.create("Bearer", "sigma-agent"))));
                  }
                  if (allocator.isEmpty()) {
                    return complete(
                        error(
                            StatusCodes.SERVICE_UNAVAILABLE,
                            "port scanning is disabled on this agent (start it with --port-scan)"));
                  }
                  return withSizeLimit(
                      MAX_BODY_BYTES,
                      () ->
                          entity(
                              Unmarshaller.entityToString(),
                              body -> completeWithFuture(answer(allocator.get(), body))));
                }));
  }

  private CompletionStage<HttpResponse> answer(Allocator ports, String body) {
    AllocationRequest request;
    try {
      request = AllocationRequest.parse(body);
    } catch (AllocationRequest.Invalid e) {
      return CompletableFuture.completedFuture(error(StatusCodes.BAD_REQUEST, e.getMessage()));
    }
    return PortAllocator.ask(ports.actor(), request.count(), ASK_TIMEOUT, scheduler)
        .handle(
            (allocation, failure) -> {
              if (failure != null) {
                Throwable cause =
                    failure instanceof java.util.concurrent.CompletionException
                            && failure.getCause() != null
                        ? failure.getCause()
                        : failure;
                if (cause instanceof TimeoutException) {
                  LOG.warn(
                      "Port allocation of {} not answered within {} s; answered 503",
                      request.count(),
                      ASK_TIMEOUT.toSeconds());
                  return busy("the port allocator did not answer in time");
                }
                LOG.error("Port allocation of {} failed unexpectedly", request.count(), cause);
                return error(
                    StatusCodes.INTERNAL_SERVER_ERROR, "allocation failed: " + cause.getMessage());
              }
              return respond(ports.range(), allocation);
            });
  }

  private HttpResponse busy(String why) {
    return error(StatusCodes.SERVICE_UNAVAILABLE, why + "; retry in 1 s")
        .addHeader(RetryAfter.create(1L));
  }

  private HttpResponse respond(PortRange range, PortAllocator.Allocation allocation) {
    if (allocation instanceof PortAllocator.Allocation.Granted granted) {
      LOG.info("Allocated {} port(s) of {}: {}", granted.ports().size(), range, granted.ports());
      ObjectNode body = json.createObjectNode();
      ArrayNode ports = body.putArray("ports");
      granted.ports().forEach(ports::add);
      return jsonResponse(StatusCodes.OK, body);
    }
    if (allocation instanceof PortAllocator.Allocation.Busy) {
      LOG.warn("Port allocation refused: {} requests wait already", PortAllocator.MAX_WAITING);
      return busy("too many allocation requests wait");
    }
    if (allocation instanceof PortAllocator.Allocation.Failed failed) {
      LOG.error("Port allocation failed: {}", failed.reason());
      return error(StatusCodes.INTERNAL_SERVER_ERROR, "allocation failed: " + failed.reason());
    }
    PortAllocator.Allocation.Insufficient insufficient =
        (PortAllocator.Allocation.Insufficient) allocation;
    LOG.warn(
        "Allocation of {} port(s) refused: only {} free in {}",
        insufficient.requested(),
        insufficient.free(),
        range);
    return error(
        StatusCodes.CONFLICT,
        "only "
            + insufficient.free()
            + " free port(s) in "
            + range
            + ", "
            + insufficient.requested()
            + " requested");
  }

  private HttpResponse error(StatusCode status, String message) {
    return jsonResponse(status, json.createObjectNode().put("error", message));
  }

  private HttpResponse jsonResponse(StatusCode status, ObjectNode body) {
    byte[] bytes;
    try {
      bytes = json.writeValueAsBytes(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a tree of strings and ints always serializes", e);
    }
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(ContentTypes.APPLICATION_JSON, bytes);
  }
}
