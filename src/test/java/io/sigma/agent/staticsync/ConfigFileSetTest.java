package io.sigma.agent.staticsync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileSetTest {
  @TempDir Path dir;

  private Path touch(String relative) throws Exception {
    Path file = dir.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.writeString(file, "static_resources: {}\n");
    return file;
  }

  @Test
  void aPlainPathIsInTheSetEvenWhenMissingSoItsAbsenceIsReported() {
    Path missing = dir.resolve("nope.yaml");
    assertEquals(
        new ConfigFileSet.Listing(List.of(missing), 0),
        new ConfigFileSet(List.of(missing.toString()), List.of()).files());
  }

  @Test
  void aGlobTakesTheRegularFilesThatMatchNowSortedWithoutDuplicates() throws Exception {
    Path a = touch("a.yaml");
    Path b = touch("b.yaml");
    touch("c.yml");
    touch("sub/d.yaml");
    Files.createDirectories(dir.resolve("dir.yaml"));
    ConfigFileSet set = new ConfigFileSet(List.of(dir + "/*.yaml", a.toString()), List.of());
    assertEquals(new ConfigFileSet.Listing(List.of(a, b), 0), set.files());
  }

  @Test
  void doubleStarCrossesDirectoriesAndExcludesMatchNamesOrPaths() throws Exception {
    Path a = touch("a.yaml");
    touch("a.bak.yaml");
    Path d = touch("sub/d.yaml");
    touch("old/e.yaml");
    ConfigFileSet set =
        new ConfigFileSet(List.of(dir + "/**.yaml"), List.of("*.bak.yaml", dir + "/old/*"));
    assertEquals(new ConfigFileSet.Listing(List.of(a, d), 0), set.files());
  }

  @Test
  void relativePatternsAreResolvedAgainstTheWorkingDirectory() {
    Path example = Path.of("examples/envoy/envoy.yaml").toAbsolutePath();
    assertEquals(
        List.of(example),
        new ConfigFileSet(List.of("examples/envoy/*.yaml"), List.of()).files().files());
  }

  @Test
  void aGlobOverAMissingDirectoryMatchesNothing() {
    assertEquals(
        new ConfigFileSet.Listing(List.of(), 0),
        new ConfigFileSet(List.of(dir + "/none/*.yaml"), List.of()).files());
  }

  @Test
  void atMostMaxFilesAreTakenAndTheRestCounted() throws Exception {
    for (int i = 0; i < ConfigFileSet.MAX_FILES + 3; i++) {
      touch(String.format("f%03d.yaml", i));
    }
    ConfigFileSet.Listing listing = new ConfigFileSet(List.of(dir + "/*.yaml"), List.of()).files();
    assertEquals(ConfigFileSet.MAX_FILES, listing.files().size());
    assertEquals(3, listing.leftOut());
    assertEquals(dir.resolve("f000.yaml"), listing.files().get(0));
  }

  @Test
  void theBaseOfAGlobIsItsLongestPlainPrefix() {
    assertEquals(Path.of("/etc/envoy"), ConfigFileSet.base("/etc/envoy/*.yaml"));
    assertEquals(Path.of("/etc"), ConfigFileSet.base("/etc/env?y/x.yaml"));
    assertEquals(Path.of("/"), ConfigFileSet.base("/*/x.yaml"));
  }

  @Test
  void nodeIdsNameTheDefaultFileAfterTheHostAndOthersAfterTheirStem() {
    assertEquals("static-relay-1", NodeIds.of(Path.of("/etc/envoy/envoy.yaml"), "relay-1"));
    assertEquals("static-relay-1-envoy", NodeIds.of(Path.of("/srv/envoy/envoy.yaml"), "relay-1"));
    assertEquals("static-relay-1-edge", NodeIds.of(Path.of("/etc/envoy/edge.yaml"), "relay-1"));
    assertEquals(
        "static-relay-1-edge.v2", NodeIds.of(Path.of("/etc/envoy/edge.v2.json"), "relay-1"));
    assertEquals("static-relay-1-.hidden", NodeIds.of(Path.of("/etc/.hidden"), "relay-1"));
    assertEquals("static-relay-1-noext", NodeIds.of(Path.of("/etc/noext"), "relay-1"));
  }
}
