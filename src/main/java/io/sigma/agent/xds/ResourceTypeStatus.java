package io.sigma.agent.xds;

import java.time.Instant;

/**
 * Where one resource type stands on one stream.
 *
 * @param typeUrl the xDS type URL
 * @param sentVersion version_info of the last response sent for this type, null if none yet
 * @param ackedVersion the last version Envoy ACKed, null if none yet
 * @param awaitingReply a response was sent and Envoy has not ACKed or NACKed it yet
 * @param responses responses sent for this type on this stream
 * @param acks ACKs received
 * @param nacks NACKs received
 * @param lastNackVersion the version Envoy last rejected, null if never
 * @param lastNackMessage Envoy's error_detail message for it (truncated), null if never
 * @param lastNackAt when that NACK arrived, null if never
 */
public record ResourceTypeStatus(
    String typeUrl,
    String sentVersion,
    String ackedVersion,
    boolean awaitingReply,
    long responses,
    long acks,
    long nacks,
    String lastNackVersion,
    String lastNackMessage,
    Instant lastNackAt) {}
