package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.LayerFixture;
import io.layerfs.testkit.MountTests;

/**
 * {@code explain --mount} on live mounts of the three kinds, each mounted from the test directory
 * with relative layer paths (as podman does), and changed through the mount first so that the
 * reader itself wrote the whiteout that explain then finds:
 * <pre>
 *   l/base/ etc/motd "base"  etc/hosts      l/top/ etc/hosts (char 0/0)  etc/issue "top"
 *   upper/ work/ merged/                     then: rm merged/etc/motd
 * </pre>
 */
class ExplainMountTest {
    @TempDir
    Path dir;

    private Path merged;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void layers() throws IOException {
        MountTests.requireFuse();
        dir = dir.toRealPath();
        LayerFixture.in(dir.resolve("l")).layer("base").file("etc/motd", "base").file("etc/hosts", "h")
                .layer("top").whiteout("etc/hosts").file("etc/issue", "top");
        Files.createDirectories(dir.resolve("upper"));
        Files.createDirectories(dir.resolve("work"));
        merged = Files.createDirectories(dir.resolve("merged"));
    }

    @AfterEach
    void unmount() throws Exception {
        if (LinuxHost.INSTANCE.mountTable().find(merged).isPresent()) {
            new ProcessBuilder("umount", "-l", merged.toString()).inheritIO().start().waitFor();
        }
    }

    private int run(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return Main.run(args, LinuxHost.INSTANCE, dir, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private void runTool(String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + text);
    }

    private void checkExplains(String reader) throws Exception {
        Files.delete(merged.resolve("etc/motd"));

        assertEquals(0, run("explain", "/etc/motd", "--mount", "merged"), err.toString());
        assertTrue(out.toString().startsWith("/etc/motd is hidden: whited out in upper by "
                + dir.resolve("upper/etc/motd") + " (character device 0/0)"), reader + ":\n" + out);

        assertEquals(0, run("explain", merged.resolve("etc/hosts").toString(), "--mount", merged.toString()));
        assertTrue(out.toString().startsWith("/etc/hosts is hidden: whited out in lower 1 by "
                + dir.resolve("l/top/etc/hosts") + " (character device 0/0)"), reader + ":\n" + out);

        assertEquals(0, run("explain", "/etc/issue", "--mount", "merged", "--json"));
        com.google.gson.JsonObject j = com.google.gson.JsonParser.parseString(out.toString()).getAsJsonObject();
        assertTrue(j.get("visible").getAsBoolean(), reader + ":\n" + out);
        assertEquals("lower 1", j.get("supplier").getAsString(), reader);
    }

    @Test
    void kernelOverlay_layersFromMountinfo() throws Exception {
        runTool("mount", "-t", "overlay", "overlay", "-o", "lowerdir=l/top:l/base,upperdir=upper,workdir=work",
                "merged");
        checkExplains("kernel");
        assertEquals(0, run("explain", "/etc/motd", "--mount", "merged"));
        assertTrue(out.toString().contains("Layers (kernel overlayfs rules; from kernel overlayfs mount options):"),
                out.toString());
    }

    @Test
    void fuseOverlayfs_layersFromItsCommandLine() throws Exception {
        runTool("fuse-overlayfs", "-o", "lowerdir=l/top:l/base,upperdir=upper,workdir=work", "merged");
        checkExplains("fuse-overlayfs");
    }

    @Test
    void layerfs_layersFromItsServersCommandLine() throws Exception {
        assertEquals(0, run("mount", "-o", "lowerdir=l/top:l/base,upperdir=upper,workdir=work", "merged"),
                err.toString());
        try {
            checkExplains("layerfs");
            assertEquals(0, run("lint", "--mount", "merged"), out.toString());
            assertEquals(List.of("no problems found in 3 layers"), out.toString().lines().toList());
        } finally {
            assertEquals(0, run("umount", "merged"), err.toString());
        }
    }
}
