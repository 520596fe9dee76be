package io.sigma.agent.metrics;

import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.ContentType$;

/**
 * {@code GET /metrics}: the registry in the format the scraper asks for (Prometheus text, or
 * OpenMetrics by content negotiation), written by client_java's own writers.
 */
public final class MetricsRoutes extends AllDirectives {
  private final PrometheusRegistry registry;
  private final ExpositionFormats formats = ExpositionFormats.init();

  public MetricsRoutes(PrometheusRegistry registry) {
    this.registry = registry;
  }

  public Route route() {
    return path(
        "metrics",
        () ->
            get(
                () ->
                    optionalHeaderValueByName(
                        "Accept", accept -> complete(scrape(accept.orElse(null))))));
  }

  HttpResponse scrape(String accept) {
    ExpositionFormatWriter writer = formats.findWriter(accept);
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException | RuntimeException e) {
      return HttpResponse.create()
          .withStatus(StatusCodes.INTERNAL_SERVER_ERROR)
          .withEntity("metrics could not be written: " + e.getMessage());
    }
    return HttpResponse.create()
        .withEntity(contentType(writer.getContentType()), out.toByteArray());
  }

  private static ContentType contentType(String header) {
    return ContentType$.MODULE$
        .parse(header)
        .fold(errors -> ContentTypes.TEXT_PLAIN_UTF8, parsed -> parsed);
  }
}
