package io.sigma.agent.web;

import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.model.headers.BasicHttpCredentials;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts basic auth in front of every route of a server: without valid credentials the answer is 401
 * with {@code WWW-Authenticate: Basic}, whatever the path.
 */
public final class BasicAuthRoute {
  private static final Logger log = LoggerFactory.getLogger(BasicAuthRoute.class);
  static final String REALM = "sigma-agent";

  private BasicAuthRoute() {}

  public static Route protect(BasicAuth auth, Route inner) {
    return Directives.extractRequest(
        request -> {
          Optional<BasicHttpCredentials> credentials =
              request
                  .getHeader(Authorization.class)
                  .map(Authorization::credentials)
                  .filter(BasicHttpCredentials.class::isInstance)
                  .map(BasicHttpCredentials.class::cast);
          if (credentials.isEmpty()) {
            // Browsers ask without credentials first: not worth a WARN.
            log.debug(
                "metrics server: {} {} without basic-auth credentials: answered 401",
                request.method().value(),
                request.getUri().path());
            return unauthorized();
          }
          BasicAuth.Outcome outcome =
              auth.check(credentials.get().username(), credentials.get().password());
          if (outcome == BasicAuth.Outcome.ACCEPTED) {
            return inner;
          }
          if (outcome == BasicAuth.Outcome.THROTTLED) {
            log.warn(
                "metrics server: refused {} {}: more basic-auth checks than the budget ({} at once, "
                    + "{} a second: bcrypt is slow by design); answered 429. A password-guessing run?",
                request.method().value(),
                request.getUri().path(),
                BasicAuth.Budget.DEFAULT.burst(),
                BasicAuth.Budget.DEFAULT.perSecond());
            return Directives.complete(
                HttpResponse.create()
                    .withStatus(StatusCodes.TOO_MANY_REQUESTS)
                    .addHeader(RetryAfter.create(1L))
                    .withEntity("429 Too Many Requests\n"));
          }
          // One template: the global repeated-WARN filter keeps a password-guessing run to a few
          // lines.
          log.warn(
              "metrics server: refused {} {}: basic auth failed ({}); answered 401. Check the "
                  + "credentials of the caller (Prometheus: basic_auth in the scrape config).",
              request.method().value(),
              request.getUri().path(),
              outcome == BasicAuth.Outcome.UNKNOWN_USER ? "unknown user" : "wrong password");
          return unauthorized();
        });
  }

  private static Route unauthorized() {
    return Directives.complete(
        HttpResponse.create()
            .withStatus(StatusCodes.UNAUTHORIZED)
            .addHeader(WWWAuthenticate.create(HttpChallenge.createBasic(REALM)))
            .withEntity("401 Unauthorized\n"));
  }
}
