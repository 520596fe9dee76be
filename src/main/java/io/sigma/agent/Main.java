package io.sigma.agent;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceHandlerFactory;
public final class Main { public static void main(String[] a){ System.out.println(AggregatedDiscoveryServiceHandlerFactory.class); } }
