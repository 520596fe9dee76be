package io.sigma.agent.api;

import java.util.List;

/** One page of a paginated sigma-api listing ({@code page} starts at 1). */
public record Page<T>(List<T> data, long total, int page, int perPage) {}
