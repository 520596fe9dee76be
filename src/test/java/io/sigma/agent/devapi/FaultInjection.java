package io.sigma.agent.devapi;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dev API's misbehaviour, as a {@link DevApiInterceptor}: counts each request in the {@link
 * RequestStats}, asks the {@link FaultPlan} for a decision, churns the VPS's config when the soak
 * mode says so, then answers with the fault or lets the normal answer through.
 */
final class FaultInjection extends AllDirectives implements DevApiInterceptor {
  private static final Logger log = LoggerFactory.getLogger(FaultInjection.class);

  private final DevApiAdmin admin;
  private final FaultPlan faults;
  private final RequestStats stats;

  FaultInjection(DevApiStore store, FaultPlan faults, RequestStats stats) {
    this.admin = DevApiAdmin.of(store);
    this.faults = faults;
    this.stats = stats;
  }

  @Override
  public Route intercept(EndpointKind kind, HttpRequest request, Supplier<Route> normal) {
    stats.record(kind);
    FaultPlan.Decision decision = faults.decide(kind);
    if (decision.churnConfig()) {
      churn(request);
    }
    return decision.fault().map(fault -> faulted(kind, request, fault, normal)).orElseGet(normal);
  }

  private Route faulted(
      EndpointKind kind, HttpRequest request, Fault fault, Supplier<Route> normal) {
    log.debug(
        "dev sigma-api: injecting {} into {} {}",
        fault,
        request.method().value(),
        request.getUri().path());
    if (fault instanceof Fault.Answer a) {
      return complete(response(a.status(), contentType(a.contentType()), a.body()));
    }
    if (fault instanceof Fault.MissingFields) {
      return complete(
          response(200, ContentTypes.APPLICATION_JSON, FaultBodies.missingFields(kind)));
    }
    if (fault instanceof Fault.WrongTypes) {
      return complete(response(200, ContentTypes.APPLICATION_JSON, FaultBodies.wrongTypes(kind)));
    }
    if (fault instanceof Fault.Delay d) {
      CompletableFuture<Done> later =
          CompletableFuture.supplyAsync(
              Done::getInstance,
              CompletableFuture.delayedExecutor(d.delay().toNanos(), TimeUnit.NANOSECONDS));
      return onSuccess(later, done -> normal.get());
    }
    if (fault instanceof Fault.Reset) {
      // An entity stream that fails before its first byte makes Pekko HTTP abort the TCP
      // connection (RST) before the status line goes out: the client gets no answer at all.
      return complete(
          HttpResponse.create()
              .withEntity(
                  HttpEntities.create(
                      ContentTypes.APPLICATION_JSON, 1L, Source.failed(new InjectedReset()))));
    }
    throw new IllegalStateException("unhandled fault " + fault);
  }

  private void churn(HttpRequest request) {
    String vpsId = request.getUri().query().get("vps_id").orElse(null);
    if (DevApiRequests.isUuid(vpsId)) {
      admin.churnConfigOfVps(vpsId.toLowerCase());
    }
  }

  private static HttpResponse response(int status, ContentType type, String body) {
    return HttpResponse.create().withStatus(status).withEntity(type, body.getBytes(UTF_8));
  }

  private static ContentType contentType(String type) {
    return switch (type) {
      case Fault.JSON -> ContentTypes.APPLICATION_JSON;
      case Fault.HTML -> ContentTypes.TEXT_HTML_UTF8;
      case Fault.TEXT -> ContentTypes.TEXT_PLAIN_UTF8;
      default -> ContentTypes.parse(type);
    };
  }

  /**
   * Fails the answer's entity stream so that the connection is aborted. Stackless: it is no bug.
   */
  static final class InjectedReset extends RuntimeException {
    InjectedReset() {
      super("connection reset injected by the dev sigma-api fault plan", null, false, false);
    }
  }
}
