package io.sigma.agent.metrics;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /} on the metrics port: a small HTML page, like node_exporter's, that tells whoever
 * opens the port in a browser what it is and where the endpoints are.
 */
public final class LandingPage extends AllDirectives {
  private final byte[] html;

  public LandingPage(String version, String revision) {
    this.html = html(version, revision).getBytes(StandardCharsets.UTF_8);
  }

  public Route route() {
    return pathSingleSlash(
        () ->
            get(
                () ->
                    complete(HttpResponse.create().withEntity(ContentTypes.TEXT_HTML_UTF8, html))));
  }

  static String html(String version, String revision) {
    return """
        <!DOCTYPE html>
        <html>
        <head><meta charset="utf-8"><title>sigma-agent</title></head>
        <body>
        <h1>sigma-agent</h1>
        <p>Version %s (commit %s)</p>
        <ul>
        <li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
        <li>/ports/allocate: POST only (sigma-api reserves a free port)</li>
        </ul>
        <p>/xds/status and the health endpoints /alive and /ready are on the management port.</p>
        </body>
        </html>
        """
        .formatted(escape(version), escape(revision));
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
