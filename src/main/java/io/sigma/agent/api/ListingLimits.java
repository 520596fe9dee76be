package io.sigma.agent.api;

/**
 * How much of one paginated listing the agent reads before it calls the listing a lie: rows (all
 * pages together) and response body bytes (all pages together). A listing beyond either is a {@link
 * SigmaApiException.Kind#BAD_RESPONSE}, so a server whose {@code total} grows forever, or whose
 * pages never end, costs a bounded amount of memory and requests.
 *
 * @param maxRows most rows one listing may have
 * @param maxBytes most response body bytes one listing may take, over all its pages; only enforced
 *     where the body size is known (the HTTP client)
 */
public record ListingLimits(int maxRows, long maxBytes) {
  private static final long MIB = 1024 * 1024;

  /**
   * Envoy nodes of one VPS: 1,000 (each node is an Envoy process of its own; a 1 vCPU / 512 MB VPS
   * runs a handful) in at most 4 MiB (an honest node row is ~300 bytes: 1,000 rows ~ 300 KB).
   */
  public static final ListingLimits NODES = new ListingLimits(1_000, 4 * MIB);

  /**
   * Dynamic routes of one Envoy node: 65,535, one per TCP listen port (a node cannot listen on
   * more), in at most 8 MiB (an honest route row is ~420 bytes: ~20,000 routes, more Listeners than
   * an Envoy on a 512 MB VPS holds). The poller reads up to 4 nodes' routes at once, so a lying API
   * holds at most 32 MiB of route bodies in flight.
   */
  public static final ListingLimits ROUTES = new ListingLimits(65_535, 8 * MIB);

  public ListingLimits {
    if (maxRows < 1 || maxBytes < 1) {
      throw new IllegalArgumentException(
          "listing limits must be positive: " + maxRows + " rows, " + maxBytes + " bytes");
    }
  }
}
