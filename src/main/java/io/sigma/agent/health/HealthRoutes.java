package io.sigma.agent.health;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.HealthCheckSettings;
import org.apache.pekko.management.javadsl.CheckResult;
import org.apache.pekko.management.javadsl.HealthChecks;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * The health endpoints on pekko-management's HTTP server, in place of its own {@code
 * HealthCheckRoutes} (configured as {@code pekko.management.http.routes.health-checks}). The checks
 * are the same (pekko-management's {@link HealthChecks}: the configured liveness/readiness checks,
 * run in parallel with its check timeout); only the answer differs: a failing check is {@code 503
 * Service Unavailable} with the reason, where pekko-management answers {@code 500 Internal Server
 * Error}. 503 is what load balancers, Kubernetes and humans read as "not ready (yet)"; a 500 reads
 * as a bug in the agent.
 *
 * <p>{@code GET /alive}, {@code GET /ready} (and {@code GET /startup}, with no checks: always 200),
 * paths as in {@code pekko.management.health-checks}.
 */
public final class HealthRoutes extends AllDirectives implements ManagementRouteProvider {
  private final HealthCheckSettings settings;
  private final HealthChecks checks;
  private final AgentHealth health;

  /** Called by pekko-management, by reflection, when it starts. */
  public HealthRoutes(ExtendedActorSystem system) {
    this.settings =
        HealthCheckSettings.create(
            system.settings().config().getConfig("pekko.management.health-checks"));
    this.checks = new HealthChecks(system, settings);
    this.health = AgentHealth.get(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings routeSettings) {
    return concat(
        endpoint(settings.livenessPath(), checks::aliveResult, health::livenessProblem),
        endpoint(settings.readinessPath(), checks::readyResult, health::readinessProblem),
        endpoint(settings.startupPath(), checks::startupResult, Optional::empty));
  }

  /**
   * @param check runs the configured checks
   * @param reason why the agent's own check fails, for the answer's body (pekko-management's
   *     failure text only names the check)
   */
  private Route endpoint(
      String path,
      Supplier<CompletionStage<CheckResult>> check,
      Supplier<Optional<String>> reason) {
    return path(
        PathMatchers.separateOnSlashes(path),
        () ->
            get(
                () ->
                    completeWithFuture(
                        check
                            .get()
                            .handle(
                                (result, error) -> {
                                  if (error != null) {
                                    return unhealthy("Health Check Failed: " + error.getMessage());
                                  }
                                  if (result.isSuccess()) {
                                    return HttpResponse.create()
                                        .withStatus(StatusCodes.OK)
                                        .withEntity("OK");
                                  }
                                  return unhealthy(
                                      "Not Healthy: "
                                          + reason
                                              .get()
                                              .or(result::failure)
                                              .orElse("a health check failed"));
                                }))));
  }

  private static HttpResponse unhealthy(String text) {
    return HttpResponse.create().withStatus(StatusCodes.SERVICE_UNAVAILABLE).withEntity(text);
  }
}
