package io.sigma.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The pagination rules against scripted servers: each lie ends the listing with its reason. */
class PaginationTest {
  private static final ListingLimits LIMITS = new ListingLimits(1_000, 10_000);
  private final List<Integer> asked = new ArrayList<>();

  /** Rows "r<from>".."r<from+n-1>". */
  private static List<String> rows(int from, int n) {
    return IntStream.range(from, from + n).mapToObj(i -> "r" + i).toList();
  }

  private IntFunction<java.util.concurrent.CompletionStage<FetchedPage<String>>> server(
      IntFunction<Page<String>> pages, long bytesPerPage) {
    return page -> {
      asked.add(page);
      return CompletableFuture.completedFuture(new FetchedPage<>(pages.apply(page), bytesPerPage));
    };
  }

  private List<String> list(IntFunction<Page<String>> pages, long bytesPerPage) throws Exception {
    return Pagination.collectAll(
            "routes of Envoy node n1", LIMITS, 10, s -> s, server(pages, bytesPerPage))
        .toCompletableFuture()
        .get();
  }

  private String refusal(IntFunction<Page<String>> pages, long bytesPerPage) {
    return refused(pages, bytesPerPage).getMessage();
  }

  private SigmaApiException refused(IntFunction<Page<String>> pages, long bytesPerPage) {
    try {
      List<String> rows = list(pages, bytesPerPage);
      return fail("expected a refused listing, got " + rows.size() + " rows");
    } catch (ExecutionException e) {
      SigmaApiException s =
          SigmaApiException.of(e).orElseGet(() -> fail("not a SigmaApiException", e));
      assertEquals(SigmaApiException.Kind.BAD_RESPONSE, s.kind(), s.getMessage());
      assertTrue(s.getMessage().contains("routes of Envoy node n1: "), s.getMessage());
      assertTrue(!s.getMessage().contains("\n"), "one line: " + s.getMessage());
      return s;
    } catch (Exception e) {
      return fail(e);
    }
  }

  @Test
  void anHonestListingIsReadPageByPageUntilTotal() throws Exception {
    List<String> all = list(p -> new Page<>(rows((p - 1) * 10, p < 3 ? 10 : 5), 25, p, 10), 100);
    assertEquals(rows(0, 25), all);
    assertEquals(List.of(1, 2, 3), asked);
  }

  @Test
  void anEmptyListingIsOnePage() throws Exception {
    assertEquals(List.of(), list(p -> new Page<>(List.of(), 0, p, 10), 20));
    assertEquals(List.of(1), asked);
  }

  @Test
  void aTotalThatGrowsWithEveryPageIsAListingThatChanged() {
    String m = refusal(p -> new Page<>(rows((p - 1) * 10, 10), 100L * p, p, 10), 100);
    assertTrue(m.contains(Pagination.CHANGED + " (total 100 on page 1, 200 on page 2)"), m);
    assertEquals(List.of(1, 2), asked);
  }

  @Test
  void aTotalBeyondTheRowLimitIsRefusedOnTheFirstPage() {
    String m = refusal(p -> new Page<>(rows((p - 1) * 10, 10), 1_001, p, 10), 100);
    assertTrue(m.contains("total 1001 is more than the 1000 rows"), m);
    assertEquals(List.of(1), asked);
  }

  @Test
  void theSamePageTwiceIsRefused() {
    String m = refusal(p -> new Page<>(rows(0, 10), 30, p, 10), 100);
    assertTrue(m.contains("page 2 repeats page 1"), m);
    assertEquals(List.of(1, 2), asked);
  }

  @Test
  void aRowSeenOnAnEarlierPageIsRefused() {
    String m =
        refusal(p -> new Page<>(p == 3 ? rows(5, 10) : rows((p - 1) * 10, 10), 30, p, 10), 100);
    assertTrue(m.contains("row id r5 appears twice (again on page 3)"), m);
  }

  @Test
  void moreRowsThanPerPageAskedIsRefused() {
    String m = refusal(p -> new Page<>(rows(0, 11), 30, p, 10), 100);
    assertTrue(m.contains("page 1 has 11 rows, more than the per_page=10 asked"), m);
  }

  @Test
  void theWrongPageNumberIsRefused() {
    String m = refusal(p -> new Page<>(rows((p - 1) * 10, 10), 30, 1, 10), 100);
    assertTrue(m.contains("asked for page 2, got page 1"), m);
  }

  @Test
  void anEmptyPageBeforeTotalIsRefused() {
    String m = refusal(p -> new Page<>(p == 1 ? rows(0, 10) : List.of(), 30, p, 10), 100);
    assertTrue(m.contains("page 2 is empty after 10 of 30 rows"), m);
  }

  @Test
  void moreRowsThanTotalIsRefused() {
    String m = refusal(p -> new Page<>(rows((p - 1) * 10, 10), 15, p, 10), 100);
    assertTrue(m.contains("page 2 brings 20 rows, more than its total 15"), m);
  }

  @Test
  void theByteBudgetEndsAListingOfBigPages() {
    String m = refusal(p -> new Page<>(rows((p - 1) * 10, 10), 1_000, p, 10), 3_000);
    assertTrue(m.contains("more than 10000 bytes after 4 page(s)"), m);
    assertEquals(List.of(1, 2, 3, 4), asked);
  }

  @Test
  void idsFromTheApiAreMaskedInTheMessage() {
    String evil = "r\nFORGED LOG LINE " + "x".repeat(10_000);
    String m = refusal(p -> new Page<>(List.of(evil, evil), 2, p, 10), 10);
    assertTrue(m.contains("row id r?FORGED LOG LINE"), m);
    assertTrue(m.length() < 300, m.length() + " chars");
  }

  @Test
  void pagesThatRowsAddedOrRemovedMeanwhileExplainAreATornReadOthersALie() {
    assertTrue(
        refused(p -> new Page<>(rows((p - 1) * 10, 10), 100L * p, p, 10), 100).isListingChanged(),
        "a changed total");
    assertTrue(
        refused(p -> new Page<>(p == 3 ? rows(5, 10) : rows((p - 1) * 10, 10), 30, p, 10), 100)
            .isListingChanged(),
        "a row seen twice");
    assertTrue(
        refused(p -> new Page<>(p == 1 ? rows(0, 10) : List.of(), 30, p, 10), 100)
            .isListingChanged(),
        "a short listing");
    assertFalse(
        refused(p -> new Page<>(rows(0, 10), 30, p, 10), 100).isListingChanged(),
        "the same page twice");
    assertFalse(
        refused(p -> new Page<>(rows(0, 11), 30, p, 10), 100).isListingChanged(),
        "per_page ignored");
    assertFalse(
        refused(p -> new Page<>(rows((p - 1) * 10, 10), 30, 1, 10), 100).isListingChanged(),
        "the wrong page");
  }
}
