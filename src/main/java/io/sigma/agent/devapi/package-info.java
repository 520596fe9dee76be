/**
 * The development sigma-api: an embedded, in-memory implementation of the sigma-api contract
 * (shared/contract/sigma-api.md) on 127.0.0.1, for {@code sigma-agent --dev}, the integration tests
 * and the fleet simulation.
 *
 * <ul>
 *   <li>{@link io.sigma.agent.devapi.DevSigmaApi}: binding lifecycle (start, stop, down, up);
 *   <li>{@link io.sigma.agent.devapi.DevApiStore}: the data and its rules, plus the admin methods
 *       tests and simulations call directly (routes, nodes, VPS deletion, seeding);
 *   <li>{@link io.sigma.agent.devapi.FaultPlan} and {@link io.sigma.agent.devapi.Fault}: how the
 *       API misbehaves, per request kind; {@link io.sigma.agent.devapi.SoakFaults}: random mode;
 *   <li>{@link io.sigma.agent.devapi.RequestStats}: requests received, per kind and per second;
 *   <li>{@link io.sigma.agent.devapi.DevApiRoutes}: the Pekko HTTP routes tying them together.
 * </ul>
 */
package io.sigma.agent.devapi;
