/**
 * How the agent waits before trying again: exponential backoff with full jitter, and the jittered
 * spread of periodic work over an interval. Shared by every feature that talks to a flaky peer
 * (sigma-api, public-IP services); it depends on nothing else in the agent.
 */
package io.sigma.agent.retry;
