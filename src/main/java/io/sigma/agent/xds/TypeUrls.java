package io.sigma.agent.xds;

/** The xDS v3 resource type URLs this control plane serves. */
public final class TypeUrls {

  public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";

  private TypeUrls() {}

  /** Whether the type is one this control plane has resources for; others get empty answers. */
  public static boolean isServed(String typeUrl) {
    return CLUSTER.equals(typeUrl) || LISTENER.equals(typeUrl);
  }

  /** "Cluster" / "Listener" / the raw type URL, for log lines and status pages. */
  public static String shortName(String typeUrl) {
    int dot = typeUrl.lastIndexOf('.');
    return dot >= 0 && dot < typeUrl.length() - 1 ? typeUrl.substring(dot + 1) : typeUrl;
  }
}
