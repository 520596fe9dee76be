package io.sigma.agent.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's settings table names every flag and its environment variable. */
class ReadmeSettingsTest {
  @Test
  void everySettingIsDocumented() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    for (Setting s : Setting.values()) {
      assertTrue(
          readme.contains("`" + s.flag() + "`") || readme.contains("`" + s.flag() + " "),
          s.flag() + " is missing from README.md");
      assertTrue(readme.contains("`" + s.env() + "`"), s.env() + " is missing from README.md");
    }
  }
}
