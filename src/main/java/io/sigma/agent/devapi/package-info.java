/**
 * The development sigma-api: an embedded, in-memory implementation of the sigma-api contract
 * (shared/contract/sigma-api.md) on 127.0.0.1, for {@code sigma-agent --dev}, the integration tests
 * and the fleet simulation.
 *
 * <ul>
 *   <li>{@link io.sigma.agent.devapi.DevSigmaApi}: binding lifecycle (start, stop, down, up);
 *   <li>{@link io.sigma.agent.devapi.DevApiStore}: the data and its rules, the endpoints and the
 *       seeding of the first VPS;
 *   <li>{@link io.sigma.agent.devapi.DevApiRoutes}: the Pekko HTTP routes in front of the store;
 *   <li>{@link io.sigma.agent.devapi.DevApiInterceptor}: the hook that sees every request first.
 * </ul>
 *
 * <p>Fault injection (FaultPlan, Fault, SoakFaults) and request counting (RequestStats) are test
 * code: they live in the test sources of this package and plug in as an interceptor
 * (FaultInjectingDevApi). So are the admin edits tests and benchmarks make behind the agent's back
 * (DevApiAdmin: nodes, routes, config churn, VPS deletion, per-hostname seeds, reads of the state),
 * which work on the store's state under its lock. The agent's jar carries only what {@code --dev}
 * needs.
 */
package io.sigma.agent.devapi;
