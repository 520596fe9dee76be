package io.sigma.agent.api;

/**
 * One page of a listing as it came off the wire.
 *
 * @param bodyBytes size of the response body, or 0 where the size is not known (an in-process
 *     {@link SigmaApi}); counted against {@link ListingLimits#maxBytes()}
 */
record FetchedPage<T>(Page<T> page, long bodyBytes) {}
