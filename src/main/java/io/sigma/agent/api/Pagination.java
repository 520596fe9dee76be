package io.sigma.agent.api;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.IntFunction;

/** Follows sigma-api's page/total pagination until every row is read. */
final class Pagination {
  /** A safety stop: a server whose {@code total} never drains cannot loop the agent forever. */
  static final int MAX_PAGES = 1_000;

  private Pagination() {}

  static <T> CompletionStage<List<T>> collectAll(IntFunction<CompletionStage<Page<T>>> fetchPage) {
    return next(fetchPage, 1, new ArrayList<>());
  }

  private static <T> CompletionStage<List<T>> next(
      IntFunction<CompletionStage<Page<T>>> fetchPage, int page, List<T> acc) {
    return fetchPage.apply(page).thenCompose(p -> {
      if (p == null || p.data() == null) {
        return CompletableFuture.failedFuture(
            SigmaApiException.badResponse("page " + page + " has no \"data\" array"));
      }
      acc.addAll(p.data());
      boolean more = acc.size() < p.total() && !p.data().isEmpty();
      if (!more) {
        return CompletableFuture.completedFuture(List.copyOf(acc));
      }
      if (page >= MAX_PAGES) {
        return CompletableFuture.failedFuture(SigmaApiException.badResponse(
            "pagination did not end after " + MAX_PAGES + " pages (total=" + p.total() + ")"));
      }
      return next(fetchPage, page + 1, acc);
    });
  }
}
