package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fixture, under a temp dir:
 * <pre>
 *   top/            lower
 *   base/           lower
 *   base/nested/    a directory inside a lower
 *   link -> top     symlink to a lower
 *   upper/          upper
 *   work/           workdir
 *   merged/         mount point
 *   file            a regular file
 * </pre>
 * The machine (mount table, /dev/fuse, libfuse2, filesystems) is a {@link FakeHost}.
 */
class PreflightTest {
    @TempDir
    Path dir;

    private final FakeHost host = new FakeHost();
    private Path top;
    private Path base;
    private Path upper;
    private Path work;
    private Path merged;

    @BeforeEach
    void fixture() throws IOException {
        dir = dir.toRealPath();
        top = Files.createDirectory(dir.resolve("top"));
        base = Files.createDirectory(dir.resolve("base"));
        Files.createDirectory(base.resolve("nested"));
        Files.createSymbolicLink(dir.resolve("link"), Path.of("top"));
        upper = Files.createDirectory(dir.resolve("upper"));
        work = Files.createDirectory(dir.resolve("work"));
        merged = Files.createDirectory(dir.resolve("merged"));
        Files.writeString(dir.resolve("file"), "x");
    }

    private MountRequest check(List<Path> lowers, Path upper, Path work, Path mountpoint) throws CliException {
        return new Preflight(host).check(new MountRequest(lowers, upper, work, mountpoint, List.of("ro")));
    }

    private CliException failure(List<Path> lowers, Path upper, Path work, Path mountpoint) {
        return assertThrows(CliException.class, () -> check(lowers, upper, work, mountpoint));
    }

    @Test
    void check_validRequest_returnsRealPaths() throws CliException {
        MountRequest r = check(List.of(dir.resolve("link"), base), upper, work, dir.resolve("top/../merged"));

        assertEquals(List.of(top, base), r.lowers());
        assertEquals(upper, r.upper());
        assertEquals(work, r.work());
        assertEquals(merged, r.mountpoint());
        assertEquals(List.of("ro"), r.fuseOptions());
    }

    @Test
    void check_readOnlyUnion_needsNoUpper() throws CliException {
        MountRequest r = check(List.of(base), null, null, merged);

        assertNull(r.upper());
        assertNull(r.work());
    }

    @Test
    void check_nothingToMount_isUsage() {
        assertEquals(ExitCode.USAGE, failure(List.of(), null, null, merged).exitCode);
    }

    @Test
    void check_upperWithoutWork_isUsage() {
        CliException e = failure(List.of(base), upper, null, merged);

        assertEquals(ExitCode.USAGE, e.exitCode);
        assertTrue(e.hint.contains("workdir"), e.hint);
    }

    @Test
    void check_missingLower_namesIt() {
        CliException e = failure(List.of(top, dir.resolve("gone")), upper, work, merged);

        assertEquals(ExitCode.BAD_LAYER, e.exitCode);
        assertEquals("lowerdir " + dir.resolve("gone") + " does not exist", e.getMessage());
    }

    @Test
    void check_danglingSymlinkLower_doesNotExist() throws IOException {
        Files.createSymbolicLink(dir.resolve("dangling"), Path.of("nowhere"));

        CliException e = failure(List.of(dir.resolve("dangling")), null, null, merged);

        assertEquals(ExitCode.BAD_LAYER, e.exitCode);
        assertTrue(e.getMessage().endsWith("does not exist"), e.getMessage());
    }

    @Test
    void check_lowerIsAFile_isNotADirectory() {
        CliException e = failure(List.of(dir.resolve("file")), null, null, merged);

        assertEquals(ExitCode.BAD_LAYER, e.exitCode);
        assertEquals("lowerdir " + dir.resolve("file") + " is not a directory", e.getMessage());
    }

    @Test
    void check_missingUpperOrWork_isBadLayer() {
        assertEquals("upperdir " + dir.resolve("nope") + " does not exist",
                failure(List.of(base), dir.resolve("nope"), work, merged).getMessage());
        assertEquals("workdir " + dir.resolve("nope") + " does not exist",
                failure(List.of(base), upper, dir.resolve("nope"), merged).getMessage());
    }

    @Test
    void check_upperInsideLower_isRefused() {
        CliException e = failure(List.of(top, base), base.resolve("nested"), work, merged);

        assertEquals(ExitCode.BAD_LAYER, e.exitCode);
        assertEquals("upperdir " + base.resolve("nested") + " is inside lowerdir " + base, e.getMessage());
    }

    @Test
    void check_lowerInsideUpper_isRefused() {
        CliException e = failure(List.of(base.resolve("nested")), base, work, merged);

        assertEquals("lowerdir " + base.resolve("nested") + " is inside upperdir " + base, e.getMessage());
    }

    @Test
    void check_upperIsAlsoALower_throughASymlink_isRefused() {
        CliException e = failure(List.of(dir.resolve("link")), top, work, merged);

        assertEquals(ExitCode.BAD_LAYER, e.exitCode);
        assertEquals("upperdir and lowerdir are the same directory " + top, e.getMessage());
    }

    @Test
    void check_workInsideUpper_isRefused() throws IOException {
        Path inner = Files.createDirectory(upper.resolve("work"));

        CliException e = failure(List.of(base), upper, inner, merged);

        assertEquals("workdir " + inner + " is inside upperdir " + upper, e.getMessage());
    }

    @Test
    void check_workInsideLower_isRefused() {
        CliException e = failure(List.of(base), upper, base.resolve("nested"), merged);

        assertEquals("workdir " + base.resolve("nested") + " is inside lowerdir " + base, e.getMessage());
    }

    @Test
    void check_lowersMayNest() throws CliException {
        assertEquals(2, check(List.of(base.resolve("nested"), base), upper, work, merged).lowers().size());
    }

    @Test
    void check_workOnAnotherFilesystem_isRefused() {
        host.fileSystems.put(work, "another-filesystem");

        CliException e = failure(List.of(base), upper, work, merged);

        assertEquals(ExitCode.BAD_LAYER, e.exitCode);
        assertEquals("workdir " + work + " is on another filesystem than upperdir " + upper, e.getMessage());
    }

    @Test
    void check_missingMountpoint_isReported_andNotCreated() {
        Path missing = dir.resolve("merged2");

        CliException e = failure(List.of(base), upper, work, missing);

        assertEquals(ExitCode.BAD_MOUNTPOINT, e.exitCode);
        assertEquals("mountpoint " + missing + " does not exist", e.getMessage());
        assertFalse(Files.exists(missing));
    }

    @Test
    void check_mountpointIsAFile() {
        assertEquals(ExitCode.BAD_MOUNTPOINT, failure(List.of(base), null, null, dir.resolve("file")).exitCode);
    }

    @Test
    void check_mountpointAlreadyMounted_isBusy() {
        host.mounted(merged, "fuse.layerfs");

        CliException e = failure(List.of(base), upper, work, merged);

        assertEquals(ExitCode.BAD_MOUNTPOINT, e.exitCode);
        assertTrue(e.getMessage().contains("is busy"), e.getMessage());
        assertEquals("unmount it first: layerfs umount " + merged, e.hint);
    }

    @Test
    void check_mountedMountpoint_isBusy_beforeItsTypeIsLookedAt() {
        // A dead FUSE server's mount point cannot be stat'ed; the mount table still names it.
        host.mounted(dir.resolve("file"), "fuse.layerfs");

        CliException e = failure(List.of(base), null, null, dir.resolve("file"));

        assertEquals(ExitCode.BAD_MOUNTPOINT, e.exitCode);
        assertTrue(e.getMessage().contains("is busy"), e.getMessage());
    }

    @Test
    void check_noFuseDevice() {
        host.fuseDevice = false;

        CliException e = failure(List.of(base), upper, work, merged);

        assertEquals(ExitCode.NO_FUSE, e.exitCode);
        assertEquals("/dev/fuse is missing", e.getMessage());
    }

    @Test
    void check_noLibfuse2_libfuse2Binding() {
        host.libfuse2 = false;
        host.libfuse2Binding = true;

        CliException e = failure(List.of(base), upper, work, merged);

        assertEquals(ExitCode.NO_FUSE, e.exitCode);
        assertTrue(e.hint.contains("apt-get install libfuse2"), e.hint);
    }

    @Test
    void check_noLibfuse2_devFuseBinding_needsNone() throws Exception {
        host.libfuse2 = false;

        MountRequest r = check(List.of(base), upper, work, merged);

        assertEquals(merged, r.mountpoint());
    }

    @Test
    void check_layerProblems_comeBeforeMachineProblems() {
        host.fuseDevice = false;

        assertEquals(ExitCode.BAD_LAYER, failure(List.of(dir.resolve("gone")), null, null, merged).exitCode);
    }

    @Test
    void check_failure_changesNothing() throws IOException {
        List<Path> before = listing();

        failure(List.of(base), upper, work, dir.resolve("no/such/mountpoint"));
        failure(List.of(dir.resolve("gone")), dir.resolve("new-upper"), dir.resolve("new-work"), merged);

        assertEquals(before, listing());
    }

    private List<Path> listing() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.sorted().toList();
        }
    }
}
