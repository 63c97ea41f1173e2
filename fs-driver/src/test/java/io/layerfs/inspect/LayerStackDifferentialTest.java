package io.layerfs.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.sys.Errno;
import io.layerfs.sys.Stat;
import io.layerfs.sys.Sys;
import io.layerfs.sys.SysException;
import io.layerfs.testkit.KernelOverlay;
import io.layerfs.testkit.LayerFixture;
import io.layerfs.testkit.MountTests;
import io.layerfs.testkit.Mounts;
import io.layerfs.union.UnionConfig;
import io.layerfs.union.UnionFs;

/**
 * {@link LayerStack} against the readers it claims to model: for every path that appears in any
 * layer (and every name a whiteout names), visibility, type, mode and size must match the engine
 * (rules LAYERFS, in-process) and a real kernel overlayfs mount (rules KERNEL and KERNEL_USERXATTR).
 * Stacks: {@link EncodingStack} and random lowers of the testkit.
 */
class LayerStackDifferentialTest {
    private static final Sys SYS = Sys.get();

    @TempDir
    Path tmp;

    /** What a reader shows at a path: null if nothing. */
    @FunctionalInterface
    interface View {
        Stat stat(String path) throws Exception;
    }

    @Test
    void layerfsRules_matchTheEngine_onEveryEncoding() throws Exception {
        EncodingStack fx = EncodingStack.in(tmp.resolve("fx"));
        try (UnionFs fs = UnionFs.open(new UnionConfig(fx.lowers, fx.upper, fx.work))) {
            compare(fx.stack(Rules.LAYERFS), engine(fs), layers(fx.lowers, fx.upper));
        }
    }

    @Test
    void layerfsRules_matchTheEngine_onRandomLowers() throws Exception {
        for (long seed = 1; seed <= 3; seed++) {
            List<Path> lowers = LayerFixture.in(tmp.resolve("r" + seed)).randomLowers(seed, 4);
            try (UnionFs fs = UnionFs.open(new UnionConfig(lowers, null, null))) {
                compare(LayerStack.of(lowers, null, Rules.LAYERFS), engine(fs), layers(lowers, null));
            }
        }
    }

    @Test
    void kernelRules_matchKernelOverlayfs() throws Exception {
        MountTests.requireMountPrivileges();
        EncodingStack fx = EncodingStack.in(tmp.resolve("fx"));
        List<Path> random = LayerFixture.in(tmp.resolve("r")).randomLowers(7, 3);
        Path mnt = Files.createDirectory(tmp.resolve("mnt"));
        try (KernelOverlay o = KernelOverlay.mount(fx.lowers, fx.upper, fx.work, mnt, "")) {
            compare(fx.stack(Rules.KERNEL), mounted(mnt), layers(fx.lowers, fx.upper));
        }
        try (KernelOverlay o = KernelOverlay.mount(fx.lowers, fx.upper, fx.work, mnt, "userxattr")) {
            compare(fx.stack(Rules.KERNEL_USERXATTR), mounted(mnt), layers(fx.lowers, fx.upper));
        }
        try (KernelOverlay o = KernelOverlay.mountReadOnly(random, mnt)) {
            compare(LayerStack.of(random, null, Rules.KERNEL), mounted(mnt), layers(random, null));
        } finally {
            Mounts.unmount(mnt);
        }
    }

    private static View engine(UnionFs fs) {
        return path -> {
            try {
                return fs.getattr(path);
            } catch (SysException e) {
                if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR) {
                    return null;
                }
                throw e;
            }
        };
    }

    private static View mounted(Path mnt) {
        return path -> SYS.lstatOrNull(Sys.AT_FDCWD, mnt + path);
    }

    private static List<Path> layers(List<Path> lowers, Path upper) {
        List<Path> all = new ArrayList<>();
        if (upper != null) {
            all.add(upper);
        }
        all.addAll(lowers);
        return all;
    }

    private static void compare(LayerStack stack, View view, List<Path> layers) throws Exception {
        TreeSet<String> paths = new TreeSet<>();
        for (Path l : layers) {
            collect(l, "", paths);
        }
        List<String> differences = new ArrayList<>();
        for (String p : paths) {
            Step s = stack.lookup(p);
            Stat st = view.stat(p);
            String expected = st == null ? "absent" : describe(st);
            String actual = s.visible() ? describe(s.shown().object()) : "absent";
            if (!expected.equals(actual)) {
                differences.add(p + ": reader " + expected + ", explain " + actual);
            }
        }
        assertEquals(List.of(), differences, stack.rules() + " over " + layers);
    }

    private static void collect(Path layer, String rel, TreeSet<String> out) throws Exception {
        for (String name : new LayerDir(new LayerRef(0, "x", layer, false)).list(rel.isEmpty() ? "." : rel)) {
            String child = rel.isEmpty() ? name : rel + "/" + name;
            out.add("/" + child);
            if (name.startsWith(".wh.") && name.length() > 4) {
                out.add("/" + (rel.isEmpty() ? "" : rel + "/") + name.substring(4));
            }
            Stat st = SYS.lstat(Sys.AT_FDCWD, layer.resolve(child).toString());
            if (st.isDirectory()) {
                collect(layer, child, out);
            } else {
                out.add("/" + child + "/below");
            }
        }
    }

    private static String describe(Stat st) {
        return ObjectInfo.typeName(st.type()) + " " + Integer.toOctalString(st.permissions())
                + (st.isRegular() ? " " + st.size : "");
    }

    private static String describe(ObjectInfo o) {
        return o.type() + " " + Integer.toOctalString(o.mode()) + (o.isFile() ? " " + o.size() : "");
    }
}
