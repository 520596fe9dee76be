package io.sigma.agent.api;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;

/**
 * A client TLS context that is set up only when an https connection is opened. Pekko's default
 * context initialises the JSSE provider at the first request even for http:// URLs (a few hundred
 * classes, a couple of MB on a 512 MB VPS); this one builds the same engine — the default trust
 * store, SNI and host name verification — on demand. Stateless, so shareable.
 */
public final class OnDemandTls {
  public static final HttpsConnectionContext CLIENT =
      ConnectionContext.httpsClient(
          (host, port) -> {
            SSLEngine engine = SSLContext.getDefault().createSSLEngine(host, port);
            engine.setUseClientMode(true);
            SSLParameters params = engine.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(params);
            return engine;
          });

  private OnDemandTls() {}
}
