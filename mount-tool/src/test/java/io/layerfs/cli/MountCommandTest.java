package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

/**
 * Parse-only: the command lines podman and people use for {@code layerfs mount}, down to the
 * {@link MountRequest} they ask for. Nothing is checked against the filesystem or mounted.
 */
class MountCommandTest {
    private static final Path CWD = Path.of("/storage");

    private final StringWriter warnings = new StringWriter();

    private MountRequest request(String... args) throws CliException {
        CommandLine cli = Main.commandLine(new FakeHost(), CWD);
        cli.parseArgs(args);
        MountCommand mount = cli.getSubcommands().get("mount").getCommand();
        return mount.request(new PrintWriter(warnings, true));
    }

    @Test
    void podmanForm_optionsThenMountpoint() throws CliException {
        MountRequest r = request("mount", "-o", "lowerdir=l/A:l/B,upperdir=c/diff,workdir=c/work", "c/merged");

        assertEquals(List.of(CWD.resolve("l/A"), CWD.resolve("l/B")), r.lowers());
        assertEquals(CWD.resolve("c/diff"), r.upper());
        assertEquals(CWD.resolve("c/work"), r.work());
        assertEquals(CWD.resolve("c/merged"), r.mountpoint());
        assertEquals("", warnings.toString());
    }

    @Test
    void podmanForm_mountpointFirst() throws CliException {
        MountRequest r = request("mount", "/m", "-o", "lowerdir=/a,upperdir=/u,workdir=/w");

        assertEquals(Path.of("/m"), r.mountpoint());
        assertEquals(List.of(Path.of("/a")), r.lowers());
    }

    @Test
    void dashO_repeated_andAttached() throws CliException {
        MountRequest r = request("mount", "-olowerdir=/a:/b", "-o", "upperdir=/u,workdir=/w", "-o", "ro,,volatile", "/m");

        assertEquals(List.of(Path.of("/a"), Path.of("/b")), r.lowers());
        assertEquals(Path.of("/u"), r.upper());
        assertEquals(List.of("ro"), r.fuseOptions());
    }

    @Test
    void volatileOrFsync0_copyUpWithoutSync_traceFileResolved() throws CliException {
        assertTrue(request("mount", "-o", "lowerdir=/a,upperdir=/u,workdir=/w,volatile", "/m").tuning().isVolatile());
        assertTrue(request("mount", "-o", "lowerdir=/a,upperdir=/u,workdir=/w,fsync=0", "/m").tuning().isVolatile());
        MountRequest r = request("mount", "--lower", "/a", "--trace", "t.jsonl", "--trace-lookups", "/m");
        assertFalse(r.tuning().isVolatile());
        assertEquals(CWD.resolve("t.jsonl"), r.tuning().trace());
        assertTrue(r.tuning().traceLookups());
        assertEquals("", warnings.toString());
    }

    @Test
    void traceLookups_withoutTrace_isAUsageError() {
        CliException e = assertThrows(CliException.class, () -> request("mount", "--lower", "/a", "--trace-lookups", "/m"));
        assertEquals(ExitCode.USAGE, e.exitCode);
    }

    @Test
    void unknownOption_warnsOnStderrInFuseOverlayfsWords() throws CliException {
        request("mount", "-o", "lowerdir=/a,bogus", "/m");

        assertEquals("layerfs: warning: ignoring unknown option bogus" + System.lineSeparator(), warnings.toString());
    }

    @Test
    void badValueOfAnOptionTheServerTakes_isAUsageErrorNamingIt() {
        CliException e = assertThrows(CliException.class,
                () -> request("mount", "-o", "lowerdir=/a,upperdir=/u,workdir=/w,open_files=abc", "/m"));
        assertEquals(ExitCode.USAGE, e.exitCode);
        assertEquals("option open_files=abc: not a number of files (1 or more)", e.getMessage());
        e = assertThrows(CliException.class, () -> request("mount", "--lower", "/a", "-o", "attr_timeout=soon", "/m"));
        assertEquals("option attr_timeout=soon: not a number of seconds", e.getMessage());
        assertEquals(ExitCode.USAGE, e.exitCode);
    }

    @Test
    void daemonChild_doesNotRepeatWarnings() throws CliException {
        request("mount", "--daemon-child", "-o", "lowerdir=/a,bogus", "/m");

        assertEquals("", warnings.toString());
    }

    @Test
    void longForm_lowersInOrder_andBothSeparators() throws CliException {
        MountRequest r = request("mount", "--lower", "top", "--lower=/bottom", "--upper=u", "--work", "w", "m");

        assertEquals(List.of(CWD.resolve("top"), Path.of("/bottom")), r.lowers());
        assertEquals(CWD.resolve("u"), r.upper());
        assertEquals(CWD.resolve("w"), r.work());
        assertEquals(CWD.resolve("m"), r.mountpoint());
    }

    @Test
    void longForm_readOnly_hasNoUpper() throws CliException {
        MountRequest r = request("mount", "--lower", "/img", "/m");

        assertNull(r.upper());
        assertNull(r.work());
    }

    @Test
    void longForm_withFuseOptions() throws CliException {
        MountRequest r = request("mount", "--lower", "/img", "-o", "ro,allow_other", "/m");

        assertEquals(List.of("ro", "allow_other"), r.fuseOptions());
    }

    @Test
    void bothForms_isAUsageError() {
        CliException e = assertThrows(CliException.class,
                () -> request("mount", "--lower", "/a", "-o", "lowerdir=/b", "/m"));

        assertEquals(ExitCode.USAGE, e.exitCode);
    }

    @Test
    void doubleDash_allowsAMountpointStartingWithDash() throws CliException {
        MountRequest r = request("mount", "--lower", "/a", "--", "-m");

        assertEquals(CWD.resolve("-m"), r.mountpoint());
    }

    @Test
    void atSign_isAPath_notAnArgumentFile() throws CliException {
        MountRequest r = request("mount", "--lower", "/a", "@merged");

        assertEquals(CWD.resolve("@merged"), r.mountpoint());
    }

    @Test
    void flags_foregroundAndDebug() {
        CommandLine cli = Main.commandLine(new FakeHost(), CWD);
        cli.parseArgs("mount", "-f", "-d", "--lower", "/a", "/m");
        MountCommand mount = cli.getSubcommands().get("mount").getCommand();

        assertTrue(mount.foreground);
        assertTrue(mount.debug);
        assertFalse(mount.daemonChild);
    }
}
