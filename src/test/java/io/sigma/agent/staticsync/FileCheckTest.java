package io.sigma.agent.staticsync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCheckTest {
  private final EnvoyStaticConfigParser parser = new EnvoyStaticConfigParser();
  @TempDir Path dir;

  @Test
  void aParsedFileCarriesItsHashAndTheSameBytesAreNotParsedAgain() throws Exception {
    Path file = dir.resolve("e.yaml");
    Files.writeString(file, "static_resources: {listeners: []}\n");
    FileCheck.Parsed parsed =
        assertInstanceOf(FileCheck.Parsed.class, FileCheck.of(file, null, parser));
    assertEquals(64, parsed.hash().length());
    assertEquals(new FileCheck.Unchanged(parsed.hash()), FileCheck.of(file, parsed.hash(), parser));
    Files.writeString(file, "static_resources: {listeners: [], clusters: []}\n");
    assertInstanceOf(FileCheck.Parsed.class, FileCheck.of(file, parsed.hash(), parser));
  }

  @Test
  void aBrokenFileIsAProblemWithItsHashSoItIsNotReportedAgain() throws Exception {
    Path file = dir.resolve("e.yaml");
    Files.writeString(file, "[unclosed\n");
    FileCheck.Problem problem =
        assertInstanceOf(FileCheck.Problem.class, FileCheck.of(file, null, parser));
    assertTrue(problem.problem().startsWith("is not valid YAML"), problem.problem());
    assertEquals(
        new FileCheck.Unchanged(problem.hash()), FileCheck.of(file, problem.hash(), parser));
  }

  @Test
  void unreadableFilesAreProblemsWithoutAHashSoTheyAreReadAgain() throws Exception {
    assertEquals(
        new FileCheck.Problem(null, "does not exist"),
        FileCheck.of(dir.resolve("missing.yaml"), null, parser));
    assertEquals(
        new FileCheck.Problem(null, "is a directory, not a regular file"),
        FileCheck.of(dir, null, parser));
    Path big = dir.resolve("big.yaml");
    Files.write(big, new byte[FileCheck.MAX_FILE_BYTES + 1]);
    FileCheck.Problem tooBig =
        assertInstanceOf(FileCheck.Problem.class, FileCheck.of(big, null, parser));
    assertEquals(null, tooBig.hash());
    assertTrue(tooBig.problem().contains("larger than"), tooBig.problem());
  }

  @Test
  void aFifoIsRefusedWithoutBlocking() throws Exception {
    Path fifo = dir.resolve("fifo.yaml");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertEquals(0, mkfifo.waitFor());
    FileCheck.Problem problem =
        assertInstanceOf(FileCheck.Problem.class, FileCheck.of(fifo, null, parser));
    assertTrue(problem.problem().contains("FIFO"), problem.problem());
  }

  @Test
  void bytesThatAreNotUtf8AreAProblem() throws Exception {
    Path file = dir.resolve("latin1.yaml");
    Files.write(file, new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});
    FileCheck.Problem problem =
        assertInstanceOf(FileCheck.Problem.class, FileCheck.of(file, null, parser));
    assertEquals("is not UTF-8 text", problem.problem());
  }
}
