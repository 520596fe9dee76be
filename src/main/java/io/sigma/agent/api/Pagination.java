package io.sigma.agent.api;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * Follows sigma-api's page/total pagination until every row is read, and refuses a listing that
 * does not behave like one: each page must be the page asked for, carry the {@code total} of the
 * first page (a different total means rows were added or removed while the pages were read), hold
 * no more rows than {@code per_page} asked, repeat neither the previous page nor any row id seen
 * before, and advance (an empty page before {@code total} rows is an error); the listing must stay
 * within its {@link ListingLimits}. Every refusal is a {@link SigmaApiException.Kind#BAD_RESPONSE}
 * naming the listing and the broken rule; the rows read so far are dropped. Refusals that rows
 * added or removed between two page reads explain (a changed total, a row seen twice, a short page)
 * are {@link SigmaApiException#isListingChanged()}.
 */
final class Pagination<T> {
  static final String CHANGED = "listing changed while being read";

  private final String listing;
  private final ListingLimits limits;
  private final int perPage;
  private final Function<T, String> idOf;
  private final IntFunction<CompletionStage<FetchedPage<T>>> fetchPage;

  private final List<T> rows = new ArrayList<>();
  private final Set<String> ids = new HashSet<>();
  private List<String> previousIds = List.of();
  private long total = -1;
  private long bytes;

  private Pagination(
      String listing,
      ListingLimits limits,
      int perPage,
      Function<T, String> idOf,
      IntFunction<CompletionStage<FetchedPage<T>>> fetchPage) {
    this.listing = listing;
    this.limits = limits;
    this.perPage = perPage;
    this.idOf = idOf;
    this.fetchPage = fetchPage;
  }

  /**
   * Every row of a listing.
   *
   * @param listing what is listed, for messages (e.g. "routes of Envoy node 5b1c…")
   * @param perPage the {@code per_page} every page is asked with
   * @param idOf a row's id (rows without one are not checked for repeats)
   * @param fetchPage page number (from 1) to that page
   */
  static <T> CompletionStage<List<T>> collectAll(
      String listing,
      ListingLimits limits,
      int perPage,
      Function<T, String> idOf,
      IntFunction<CompletionStage<FetchedPage<T>>> fetchPage) {
    return new Pagination<>(listing, limits, perPage, idOf, fetchPage).next(1);
  }

  /** How a node listing is named in errors. */
  static String nodesListing(String vpsId) {
    return "Envoy nodes of VPS " + Excerpt.of(vpsId);
  }

  /** How a routes listing is named in errors. */
  static String routesListing(String envoyNodeUuid) {
    return "routes of Envoy node " + Excerpt.of(envoyNodeUuid);
  }

  private CompletionStage<List<T>> next(int page) {
    return fetchPage
        .apply(page)
        .thenCompose(
            fetched -> {
              Refusal refusal = accept(page, fetched);
              if (refusal != null) {
                String message = listing + ": " + refusal.problem();
                return CompletableFuture.failedFuture(
                    refusal.torn()
                        ? SigmaApiException.listingChanged(message)
                        : SigmaApiException.badResponse(message));
              }
              if (rows.size() < total) {
                return next(page + 1);
              }
              return CompletableFuture.completedFuture(List.copyOf(rows));
            });
  }

  /**
   * Why a page is refused; {@code torn} when the pages disagree in a way rows added or removed
   * between two page reads explain (the caller may read the listing again).
   */
  private record Refusal(String problem, boolean torn) {
    static Refusal lie(String problem) {
      return new Refusal(problem, false);
    }

    static Refusal torn(String problem) {
      return new Refusal(problem, true);
    }
  }

  /** Takes the page's rows, or says what is wrong with it. */
  private Refusal accept(int asked, FetchedPage<T> fetched) {
    Page<T> p = fetched == null ? null : fetched.page();
    if (p == null || p.data() == null) {
      return Refusal.lie("page " + asked + " has no \"data\" array");
    }
    if (p.page() != asked) {
      return Refusal.lie("asked for page " + asked + ", got page " + p.page());
    }
    if (total < 0) {
      if (p.total() < 0) {
        return Refusal.lie("negative total " + p.total());
      }
      if (p.total() > limits.maxRows()) {
        return Refusal.lie(
            "total "
                + p.total()
                + " is more than the "
                + limits.maxRows()
                + " rows a listing may have");
      }
      total = p.total();
    } else if (p.total() != total) {
      return Refusal.torn(
          CHANGED + " (total " + total + " on page 1, " + p.total() + " on page " + asked + ")");
    }
    List<T> data = p.data();
    if (data.size() > perPage) {
      return Refusal.lie(
          "page "
              + asked
              + " has "
              + data.size()
              + " rows, more than the per_page="
              + perPage
              + " asked");
    }
    if (data.isEmpty() && rows.size() < total) {
      return Refusal.torn(
          "page "
              + asked
              + " is empty after "
              + rows.size()
              + " of "
              + total
              + " rows ("
              + CHANGED
              + "?)");
    }
    bytes += fetched.bodyBytes();
    if (bytes > limits.maxBytes()) {
      return Refusal.lie("more than " + limits.maxBytes() + " bytes after " + asked + " page(s)");
    }
    if (rows.size() + data.size() > total) {
      return Refusal.lie(
          "page "
              + asked
              + " brings "
              + (rows.size() + data.size())
              + " rows, more than its total "
              + total);
    }
    List<String> pageIds = new ArrayList<>(data.size());
    for (T row : data) {
      pageIds.add(row == null ? null : idOf.apply(row));
    }
    if (pageIds.equals(previousIds) && pageIds.stream().anyMatch(Objects::nonNull)) {
      return Refusal.lie("page " + asked + " repeats page " + (asked - 1) + " (same row ids)");
    }
    for (String id : pageIds) {
      if (id != null && !ids.add(id)) {
        return Refusal.torn(
            "row id " + Excerpt.of(id) + " appears twice (again on page " + asked + ")");
      }
    }
    previousIds = pageIds;
    rows.addAll(data);
    return null;
  }
}
