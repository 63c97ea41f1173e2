package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** The parent/child protocol of background mode, with stand-in children instead of a mount. */
class BackgroundLauncherTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int await(String shellScript, Duration timeout) throws IOException, CliException {
        Process child = new ProcessBuilder("sh", "-c", shellScript).start();
        return BackgroundLauncher.awaitReady(child, timeout, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void childArguments_parseBackToTheSameRequest() throws CliException {
        MountRequest request = new MountRequest(List.of(Path.of("/l/top, with:odd chars"), Path.of("/l/base")),
                Path.of("/c/up"), Path.of("/c/work"), Path.of("/c/-merged"), List.of("ro", "fsname=a\\,b"));

        List<String> args = BackgroundLauncher.childArguments(request, true);
        CommandLine cli = Main.commandLine(new FakeHost(), Path.of("/elsewhere"));
        cli.parseArgs(args.toArray(String[]::new));
        MountCommand child = cli.getSubcommands().get("mount").getCommand();

        assertEquals(request, child.request(new PrintWriter(new StringWriter())));
        assertTrue(child.daemonChild);
        assertTrue(child.debug);
    }

    @Test
    void childArguments_readOnly_haveNoUpperOrWork() {
        List<String> args = BackgroundLauncher.childArguments(
                new MountRequest(List.of(Path.of("/l")), null, null, Path.of("/m"), List.of()), false);

        assertEquals(List.of("mount", "--daemon-child", "--lower", "/l", "--", "/m"), args);
    }

    @Test
    void childCommand_isSetsidJavaOptionsClassPathMain() {
        List<String> command = BackgroundLauncher.childCommand("/jdk/bin/java", List.of("-Xshare:auto"), "/a.jar:/b.jar",
                List.of("mount", "--daemon-child"));

        assertEquals(List.of("setsid", "/jdk/bin/java", "-Xshare:auto", "-cp", "/a.jar:/b.jar",
                "io.layerfs.cli.Main", "mount", "--daemon-child"), command);
    }

    @Test
    void serverOptions_addTheOptionsFile_unlessTheSameSettingIsGiven() {
        List<String> file = BackgroundLauncher.serverOptionLines();
        assertEquals(List.of("-Xmn8m", "-Dlayerfs.touchHeapMiB=16", "-XX:CompileThresholdScaling=0.05",
                "-XX:TieredStopAtLevel=1",
                "-XX:CICompilerCount=1", "-Xms16m", "-XX:MinHeapFreeRatio=20", "-XX:MaxHeapFreeRatio=40"), file,
                "comments and blank lines skipped");
        List<String> all = new java.util.ArrayList<>(List.of("-Xshare:auto"));
        all.addAll(file);
        assertEquals(all, BackgroundLauncher.serverOptions(List.of("-Xshare:auto")));
        assertEquals(List.of("-Xmn64m", "-XX:CompileThresholdScaling=1", "-XX:InitialHeapSize=64m",
                        "-Dlayerfs.touchHeapMiB=16", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:MinHeapFreeRatio=20",
                        "-XX:MaxHeapFreeRatio=40"),
                BackgroundLauncher.serverOptions(List.of("-Xmn64m", "-XX:CompileThresholdScaling=1",
                        "-XX:InitialHeapSize=64m")));
        assertEquals(List.of("-XX:NewSize=4m", "-Xms1g", "-Dlayerfs.touchHeapMiB=16", "-XX:CompileThresholdScaling=0.05",
                        "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:MinHeapFreeRatio=20",
                        "-XX:MaxHeapFreeRatio=40"),
                BackgroundLauncher.serverOptions(List.of("-XX:NewSize=4m", "-Xms1g")));
        // a system property counts as given whatever its value
        assertEquals(List.of("-Dlayerfs.touchHeapMiB=0", "-Xmn8m", "-XX:CompileThresholdScaling=0.05",
                        "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-Xms16m", "-XX:MinHeapFreeRatio=20",
                        "-XX:MaxHeapFreeRatio=40"),
                BackgroundLauncher.serverOptions(List.of("-Dlayerfs.touchHeapMiB=0")));
    }

    @Test
    void isServerOf_matchesTheChildOfThatMountpointOnly() {
        List<String> args = BackgroundLauncher.childArguments(
                new MountRequest(List.of(Path.of("/l")), null, null, Path.of("/m"), List.of()), false);

        assertTrue(BackgroundLauncher.isServerOf(args, Path.of("/m")));
        assertFalse(BackgroundLauncher.isServerOf(args, Path.of("/m2")));
        assertFalse(BackgroundLauncher.isServerOf(List.of("mount", "--lower", "/l", "--", "/m"), Path.of("/m")));
    }

    @Test
    void isDetachedServerOf_parsesTheCallersCommandLineFromItsDirectory(@TempDir Path dir) throws IOException {
        Path home = dir.toRealPath();
        Files.createDirectories(home.resolve("c/merged"));
        List<String> podman = List.of("-Xshare:auto", "-Dlayerfs.cwd=" + home, "-Dlayerfs.detached=true", "-cp", "a.jar",
                "io.layerfs.cli.Main", "mount", "-o", "lowerdir=l/top:l/base,upperdir=up,workdir=w", "c/merged");
        List<String> longForm = List.of("-Dlayerfs.cwd=" + home.resolve("c"), "-Dlayerfs.detached=true",
                "io.layerfs.cli.Main", "mount", "--lower", "x", "--", "merged");

        assertTrue(BackgroundLauncher.isDetachedServerOf(podman, home.resolve("c/merged")));
        assertTrue(BackgroundLauncher.isDetachedServerOf(longForm, home.resolve("c/merged")));
        assertFalse(BackgroundLauncher.isDetachedServerOf(podman, home.resolve("c")));
        assertFalse(BackgroundLauncher.isDetachedServerOf(
                podman.stream().filter(a -> !a.startsWith("-Dlayerfs.detached")).toList(), home.resolve("c/merged")));
        assertFalse(BackgroundLauncher.isDetachedServerOf(List.of("-Dlayerfs.cwd=" + home, "-Dlayerfs.detached=true",
                "io.layerfs.cli.Main", "mount", "--frob", "c/merged"), home.resolve("c/merged")));
    }

    @Test
    void awaitReady_ready_returnsOk_andRelaysEarlierOutput() throws Exception {
        int code = await("echo 'layerfs: warning: early' >&2; echo hello; echo READY; exec >&- 2>&-; sleep 5",
                Duration.ofSeconds(30));

        assertEquals(ExitCode.OK.code, code);
        assertEquals("hello" + System.lineSeparator(), out.toString());
        assertEquals("layerfs: warning: early" + System.lineSeparator(), err.toString());
    }

    @Test
    void awaitReady_childFails_relaysItsErrorAndExitCode() throws Exception {
        int code = await("echo 'layerfs: lowerdir /x does not exist' >&2; exit 3", Duration.ofSeconds(30));

        assertEquals(ExitCode.BAD_LAYER.code, code);
        assertEquals("layerfs: lowerdir /x does not exist" + System.lineSeparator(), err.toString());
    }

    @Test
    void awaitReady_childExitsZeroWithoutReady_isAFailure() {
        CliException e = assertThrows(CliException.class, () -> await("exit 0", Duration.ofSeconds(30)));

        assertEquals(ExitCode.FAILURE, e.exitCode);
    }

    @Test
    void awaitReady_childDiesOfASignal_isAFailure() {
        CliException e = assertThrows(CliException.class, () -> await("kill -KILL $$", Duration.ofSeconds(30)));

        assertEquals(ExitCode.FAILURE, e.exitCode);
        assertTrue(e.getMessage().contains("status 137"), e.getMessage());
    }

    @Test
    void awaitReady_timeout_stopsTheChild() throws Exception {
        Process child = new ProcessBuilder("sleep", "60").start();

        CliException e = assertThrows(CliException.class, () -> BackgroundLauncher.awaitReady(child,
                Duration.ofMillis(300), new PrintWriter(out, true), new PrintWriter(err, true)));

        assertEquals(ExitCode.FAILURE, e.exitCode);
        assertTrue(child.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "child still running");
    }

    @Test
    void utcTimestamp_anyMillisecond_sameAsJavaTime() {
        java.time.format.DateTimeFormatter iso = java.time.format.DateTimeFormatter
                .ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);
        long[] fixed = {0L, 1L, 951_782_400_000L /* 2000-02-29 */, 4_107_542_399_999L /* 2100-02-28 */,
            1_796_634_809_887L, 253_402_300_799_999L /* 9999-12-31 */, -1L, -86_400_000L};
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < fixed.length + 10_000; i++) {
            long millis = i < fixed.length ? fixed[i] : random.nextLong(0, 253_402_300_800_000L);
            assertEquals(iso.format(java.time.Instant.ofEpochMilli(millis)), BackgroundLauncher.utcTimestamp(millis),
                    "epoch millis " + millis);
        }
    }
}
