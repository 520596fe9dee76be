/**
 * The shape every feature of the agent shares ({@link io.sigma.agent.feature.FeatureGuardian}):
 * depends on config, metrics core, reload, Jackson and Pekko HTTP only, never on a feature.
 */
package io.sigma.agent.feature;
