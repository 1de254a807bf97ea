package io.meshegress.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the reloader's once-a-second look at the file notices, on real files. */
class ConfigReloaderTest {

    @Test
    void anUntouchedFileLooksTheSame(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("egress.yaml"), "http: null\n");
        assertThat(ConfigReloader.FileVersion.of(f)).isEqualTo(ConfigReloader.FileVersion.of(f));
    }

    @Test
    void aRewriteOfTheSameSizeIsNoticedByItsModificationTime(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("egress.yaml"), "http: null\n");
        Files.setLastModifiedTime(f, FileTime.from(Instant.parse("2026-01-01T00:00:00Z")));
        ConfigReloader.FileVersion before = ConfigReloader.FileVersion.of(f);
        Files.writeString(f, "sni:  null\n");
        assertThat(ConfigReloader.FileVersion.of(f)).isNotEqualTo(before);
    }

    @Test
    void aConfigMapSymlinkSwapIsNoticedThroughTheLink(@TempDir Path dir) throws Exception {
        // The kubelet's layout: egress.yaml -> ..data/egress.yaml, ..data -> ..<timestamp>; a swap renames ..data.
        Path first = Files.createDirectory(dir.resolve("..2026_11_25_19_00_00.1"));
        Path second = Files.createDirectory(dir.resolve("..2026_11_25_19_05_00.2"));
        FileTime sameTime = FileTime.from(Instant.parse("2026-01-01T00:00:00Z"));
        Files.setLastModifiedTime(Files.writeString(first.resolve("egress.yaml"), "http: null\n"), sameTime);
        Files.setLastModifiedTime(Files.writeString(second.resolve("egress.yaml"), "sni:  null\n"), sameTime);
        Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
        Path config = Files.createSymbolicLink(dir.resolve("egress.yaml"), Path.of("..data", "egress.yaml"));
        ConfigReloader.FileVersion before = ConfigReloader.FileVersion.of(config);

        Path next = Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
        Files.move(next, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

        // Same size, same time: only the file's identity (device and inode) tells them apart.
        assertThat(ConfigReloader.FileVersion.of(config)).isNotEqualTo(before);
    }

    @Test
    void aMissingFileIsAVersionOfItsOwn(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("egress.yaml");
        ConfigReloader.FileVersion missing = ConfigReloader.FileVersion.of(f);
        Files.writeString(f, "http: null\n");
        assertThat(ConfigReloader.FileVersion.of(f)).isNotEqualTo(missing);
    }
}
