package io.layerfs.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** fuse-overlayfs (Debian's package) as a {@link UnionMounter}: the other FUSE implementation of the format. */
public final class FuseOverlayfs {
    private FuseOverlayfs() {
    }

    public static UnionMounter mounter() {
        return (lowers, upper, work, mnt) -> {
            List<String> parts = new ArrayList<>();
            for (Path p : lowers) {
                parts.add(p.toAbsolutePath().toString());
            }
            String options = "lowerdir=" + String.join(":", parts) + ",upperdir=" + upper.toAbsolutePath()
                    + ",workdir=" + work.toAbsolutePath();
            List<String> out = new ArrayList<>();
            if (Mounts.run(List.of("fuse-overlayfs", "-o", options, mnt.toString()), out) != 0
                    || !Mounts.isMounted(mnt)) {
                throw new IOException("fuse-overlayfs -o " + options + " " + mnt + " failed: " + String.join("; ", out));
            }
            return () -> Mounts.unmount(mnt);
        };
    }
}
