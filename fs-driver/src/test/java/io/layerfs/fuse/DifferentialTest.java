package io.layerfs.fuse;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.Differential;
import io.layerfs.testkit.KernelOverlay;
import io.layerfs.testkit.LayerfsMounter;
import io.layerfs.testkit.MountTests;
import io.layerfs.testkit.UnionMounter;

/**
 * layerfs against kernel overlayfs on random lowers and random operation sequences (see
 * {@link Differential} for what is compared and the one allowed difference). The kernel-vs-kernel
 * run proves the harness deterministic: if it fails, the harness is broken, not layerfs.
 *
 * <p>System properties: {@code layerfs.diff.seeds} (number of sequences against layerfs, default 200),
 * {@code layerfs.diff.kernelSeeds} (number of kernel-vs-kernel sequences, default 50),
 * {@code layerfs.diff.seed} (run this one seed only, to reproduce a failure),
 * {@code layerfs.diff.firstSeed} (default 1), {@code layerfs.diff.checkEvery} (default 10),
 * {@code layerfs.diff.kernelOptions} (default {@link KernelOverlay#REFERENCE_OPTIONS}),
 * {@code layerfs.diff.keep=true} (keep the directories of a failed run).
 */
class DifferentialTest {
    private static final int DEFAULT_SEEDS = 200;
    private static final int DEFAULT_KERNEL_SEEDS = 50;

    @TempDir
    Path tmp;

    /** Proves the harness deterministic; it needs fewer seeds than the real comparison. */
    @Test
    void kernelAgainstKernel_agreesOnEverySeed() throws Exception {
        MountTests.requireMountPrivileges();
        runSeeds("kernel", KernelOverlay.mounter(kernelOptions()), "kernelAgainstKernel*",
                seeds(Integer.getInteger("layerfs.diff.kernelSeeds", DEFAULT_KERNEL_SEEDS)));
    }

    @Test
    void layerfsAgainstKernel_agreesOnEverySeed() throws Exception {
        MountTests.requireFuse();
        runSeeds("layerfs", new LayerfsMounter(), "layerfsAgainstKernel*", seeds(Integer.getInteger("layerfs.diff.seeds", DEFAULT_SEEDS)));
    }

    private void runSeeds(String nameB, UnionMounter b, String method, List<Long> seeds) throws Exception {
        Differential d = new Differential(tmp, "kernel", KernelOverlay.mounter(kernelOptions()), nameB, b)
                .checkEvery(Integer.getInteger("layerfs.diff.checkEvery", 10))
                .keepFailedRuns(Boolean.getBoolean("layerfs.diff.keep"));
        long start = System.nanoTime();
        int fallbacks = 0;
        for (long seed : seeds) {
            Differential.Outcome o = d.run(seed);
            if (!o.passed()) {
                fail(o.report() + "\nreproduce with: mvn test -pl fs-driver -Dtest='DifferentialTest#" + method
                        + "' -Dlayerfs.diff.seed=" + seed);
            }
            fallbacks += o.moveFallbacks();
        }
        System.out.printf("differential kernel vs %s: %d seeds passed in %.1f s (%d directory renames compared as mv)%n",
                nameB, seeds.size(), (System.nanoTime() - start) / 1e9, fallbacks);
    }

    private static String kernelOptions() {
        return System.getProperty("layerfs.diff.kernelOptions", KernelOverlay.REFERENCE_OPTIONS);
    }

    private static List<Long> seeds(int count) {
        String one = System.getProperty("layerfs.diff.seed");
        if (one != null && !one.isEmpty()) {
            return List.of(Long.parseLong(one));
        }
        long first = Long.getLong("layerfs.diff.firstSeed", 1L);
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(first + i);
        }
        return out;
    }
}
