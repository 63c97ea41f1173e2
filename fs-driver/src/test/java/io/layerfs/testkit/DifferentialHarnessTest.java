package io.layerfs.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiPredicate;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Errno;

/**
 * Tests of the differential harness itself, kernel against kernel: it must pass on identical
 * unions, and it must fail, with a useful report, on unions that differ in any way it claims to
 * check. A harness that cannot fail proves nothing about layerfs.
 */
class DifferentialHarnessTest {
    private static final UnionMounter KERNEL = KernelOverlay.mounter(KernelOverlay.REFERENCE_OPTIONS);

    @TempDir
    Path tmp;

    @BeforeEach
    void root() {
        MountTests.requireMountPrivileges();
    }

    @Test
    void identicalUnions_agree_andSequencesDoRealWork() throws Exception {
        Differential d = new Differential(tmp, "a", KERNEL, "b", KERNEL);
        int applied = 0;
        int succeeded = 0;
        Set<Op.Kind> kindsSucceeded = EnumSet.noneOf(Op.Kind.class);
        Set<String> errnos = new TreeSet<>();
        for (long seed = 1; seed <= 12; seed++) {
            Differential.Outcome o = d.run(seed);
            assertTrue(o.passed(), o.report());
            List<Integer> results = o.resultsA();
            for (int i = 0; i < results.size(); i++) {
                applied++;
                if (results.get(i) == 0) {
                    succeeded++;
                    kindsSucceeded.add(o.ops().get(i).kind());
                } else {
                    errnos.add(Differential.errnoName(results.get(i)));
                }
            }
        }
        assertEquals(EnumSet.allOf(Op.Kind.class), kindsSucceeded, "every kind of op succeeds somewhere");
        assertTrue(succeeded * 100 / applied >= 40, "too few ops succeed: " + succeeded + " of " + applied);
        assertTrue(errnos.containsAll(List.of("ENOENT", "EEXIST", "ENOTEMPTY", "EXDEV", "ENOTDIR")),
                "errors the sequences should provoke; seen " + errnos);
        assertTrue(Mounts.mountPoints().stream().noneMatch(p -> p.startsWith(tmp)), "nothing left mounted");
        try (var left = Files.list(tmp)) {
            assertEquals(0, left.count(), "run directories are removed after a pass");
        }
    }

    @Test
    void operationSkippedOnOneSide_isCaught_andReported() throws Exception {
        for (long seed = 1; seed <= 6; seed++) {
            Differential d = new Differential(tmp, "a", KERNEL, "b", KERNEL).skipOnB(firstCreation());
            Differential.Outcome o = d.run(seed);
            assertFalse(o.passed(), "seed " + seed + ": a skipped create/mkdir went unnoticed\n" + o.report());
            String report = o.report();
            assertTrue(report.contains("differential run seed-" + seed), report);
            assertTrue(report.contains("(skipped on b)"), report);
            assertTrue(report.contains("<--"), "the failing op is marked\n" + report);
            assertTrue(report.contains("lowers (highest first):"), report);
        }
    }

    /** Skips the first CREATE or MKDIR: on the reference it either made a name or failed, so B must differ. */
    private static BiPredicate<Integer, Op> firstCreation() {
        return new BiPredicate<>() {
            private boolean done;

            @Override
            public boolean test(Integer index, Op op) {
                if (!done && (op.kind() == Op.Kind.CREATE || op.kind() == Op.Kind.MKDIR)) {
                    done = true;
                    return true;
                }
                return false;
            }
        };
    }

    @Test
    void extraEntryInOneUnion_isCaught() throws Exception {
        UnionMounter intruding = (lowers, upper, work, mnt) -> {
            AutoCloseable m = KERNEL.mount(lowers, upper, work, mnt);
            Files.writeString(mnt.resolve("zz-intruder"), "x");
            return m;
        };
        Differential.Outcome o = new Differential(tmp, "a", KERNEL, "b", intruding).run(3);
        assertFalse(o.passed());
        assertTrue(o.problems().stream().anyMatch(p -> p.contains("only in b: zz-intruder reg")), o.report());
    }

    @Test
    void unionThatWritesIntoALower_isCaught() throws Exception {
        UnionMounter leaking = (lowers, upper, work, mnt) -> {
            AutoCloseable m = KERNEL.mount(lowers, upper, work, mnt);
            Files.writeString(lowers.get(lowers.size() - 1).resolve("leaked"), "x");
            return m;
        };
        Differential.Outcome o = new Differential(tmp, "a", KERNEL, "b", leaking).run(5);
        assertFalse(o.passed());
        assertTrue(o.problems().stream().anyMatch(p -> p.startsWith("b changed its lower lower0")
                && p.contains("only in after: leaked")), o.report());
    }

    @Test
    void differentErrno_isCaught() throws Exception {
        // B's lowers lack one directory: the first op on it gets ENOENT on one side only
        Differential.Outcome o = new Differential(tmp, "a", KERNEL, "b", (lowers, upper, work, mnt) -> {
            Ops.removeTree(lowers.get(0).resolve("d").toString());
            return KERNEL.mount(lowers, upper, work, mnt);
        }).run("missing-dir",
                base -> LayerFixture.in(base).layer("l").file("d/f", "f").layers(),
                lowers -> List.of(Op.chmod("d/f", 0600)));
        assertFalse(o.passed());
        assertTrue(o.problems().get(0).equals("op 0 (chmod d/f 0600): a says 0, b says ENOENT"), o.report());
        assertEquals(0, o.failedAt());
    }

    /*
     *   lower:  d/ (0750, user.k="v") f "data" 1000:1000, sub/g;   full/ x;   empty/;   e/ h
     *   a: kernel, redirect_dir=nofollow: renaming d, e gives EXDEV, done as mv instead
     *   b: kernel, redirect_dir=on: renames them in place (redirect xattr)
     */
    @Test
    void kernelExdevOnDirectoryRename_isComparedAsMv() throws Exception {
        UnionMounter redirecting = KernelOverlay.mounter("index=on,redirect_dir=on,metacopy=off");
        Differential.Outcome o = new Differential(tmp, "a", KERNEL, "b", redirecting).checkEvery(1).run("dir-rename",
                base -> LayerFixture.in(base).layer("l")
                        .dir("d", 0750).xattr("d", "user.k", "v").file("d/f", "data", 0640).chown("d/f", 1000, 1000)
                        .file("d/sub/g", "g").file("full/x", "x").dir("empty").file("e/h", "h")
                        .mtime("d/f", 1_234_000_000L, 9).mtime("d/sub", 1_234_000_000L, 10)
                        .mtime("d", 1_234_000_000L, 11)
                        .layers(),
                lowers -> List.of(
                        Op.rename("d", "d2"),            // EXDEV vs 0
                        Op.rename("d2", "full"),         // ENOTEMPTY both
                        Op.append("d2/f", 10, 1),
                        Op.rename("e", "empty"),         // EXDEV vs 0, over an empty lower directory
                        Op.rename("d2", "d2/in")));      // EINVAL both
        assertTrue(o.passed(), o.report());
        assertEquals(2, o.moveFallbacks(), o.report());
        assertEquals(List.of(0, Errno.ENOTEMPTY, 0, 0, Errno.EINVAL), o.resultsA(), o.report());
        assertTrue(o.report().contains("EXDEV, as mv: 0"), o.report());
    }

    @Test
    void kernelWithRedirects_matchesMvOnRandomSequences() throws Exception {
        UnionMounter redirecting = KernelOverlay.mounter("index=on,redirect_dir=on,metacopy=off");
        Differential d = new Differential(tmp, "a", KERNEL, "b", redirecting);
        int fallbacks = 0;
        for (long seed = 1; seed <= 12; seed++) {
            Differential.Outcome o = d.run(seed);
            assertTrue(o.passed(), o.report());
            fallbacks += o.moveFallbacks();
        }
        assertTrue(fallbacks > 0, "some directory renames should have needed the mv fallback");
    }
}
