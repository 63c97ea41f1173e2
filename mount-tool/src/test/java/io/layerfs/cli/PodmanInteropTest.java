package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.Mounts;
import io.layerfs.testkit.MountTests;

/**
 * layerfs as podman's and buildah's {@code overlay.mount_program}: a multi-stage build whose RUN
 * steps delete, recreate, rename, chmod and append to files of earlier layers, then a container
 * of the image, must show exactly the tree that the same build shows on kernel overlayfs.
 * Each run has its own --root and --runroot; podman uses runc and cgroupfs (see DEVELOPERS.md).
 */
class PodmanInteropTest {
    private static final String CONTAINERFILE = String.join("\n",
            "FROM scratch AS tools",
            "COPY busybox /bin/busybox",
            "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]",
            "RUN mkdir /built && echo from-tools > /built/artifact",
            "",
            "FROM tools AS app",
            "RUN mkdir -p /data/sub/deep /gone /opaque /etc && echo one > /data/a && echo two > /data/sub/b"
                    + " && echo three > /data/sub/deep/c && echo keep > /etc/keep && echo x > /gone/x"
                    + " && echo y > /opaque/y && ln /data/sub/b /data/b-link && chmod 4755 /data/sub/deep/c",
            "RUN rm /data/a && mv /data/sub /data/sub2 && chmod 600 /data/sub2/b && echo more >> /etc/keep"
                    + " && rm -rf /gone",
            "RUN rm -rf /opaque && mkdir /opaque && echo new > /opaque/new && echo recreated > /data/a"
                    + " && mkdir /gone && touch /gone/again",
            "RUN mv /data/sub2/deep /deep-moved && chmod 700 /deep-moved && echo appended >> /deep-moved/c"
                    + " && ln -s /etc/keep /link && mkfifo /fifo && mv /data/a /data/a-renamed",
            "COPY --from=tools /built/artifact /data/artifact",
            "RUN echo final >> /etc/keep && chmod 640 /etc/keep && rm /bin/vi",
            "");


    @TempDir
    Path tmp;

    @Test
    void buildAndRun_withLayerfsAsMountProgram_sameTreeAsKernelOverlay() throws Exception {
        MountTests.requireFuse();
        Path context = Files.createDirectories(tmp.resolve("context"));
        Files.copy(Path.of("/bin/busybox"), context.resolve("busybox"));
        Files.writeString(context.resolve("Containerfile"), CONTAINERFILE);
        Path conf = tmp.resolve("containers.conf");
        Files.writeString(conf, "[containers]\ndefault_ulimits = []\n");

        List<String> kernel = buildAndList("kernel", context, conf, null);
        List<String> layerfs = buildAndList("layerfs", context, conf, launcher());

        assertTrue(kernel.size() > 250, "the image has busybox and its links: " + kernel.size());
        assertTrue(kernel.contains("./etc/keep|regular file|640|0|0|16|" + ContainerTools.md5("keep\nmore\nfinal\n")),
                "kernel overlay, /etc/keep: " + kernel.stream().filter(l -> l.startsWith("./etc/")).toList());
        assertEquals(String.join("\n", kernel), String.join("\n", layerfs));
    }

    /** A mount_program for podman: this test's class path, so it needs no packaged jar. */
    private Path launcher() throws IOException {
        Path script = tmp.resolve("layerfs-under-test");
        String java = ProcessHandle.current().info().command().orElse("java");
        Files.writeString(script, "#!/bin/sh\nexec '" + java + "' -Dfile.encoding=UTF-8 -Dsun.jnu.encoding=UTF-8"
                + " -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp '" + System.getProperty("java.class.path")
                + "' io.layerfs.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private List<String> buildAndList(String name, Path context, Path conf, Path mountProgram) throws Exception {
        List<String> storage = new ArrayList<>(List.of("--root", tmp.resolve(name + "-root").toString(),
                "--runroot", tmp.resolve(name + "-runroot").toString(), "--storage-driver", "overlay"));
        if (mountProgram != null) {
            storage.add("--storage-opt");
            storage.add("overlay.mount_program=" + mountProgram);
        }
        List<String> build = new ArrayList<>(List.of("buildah"));
        build.addAll(storage);
        build.addAll(List.of("bud", "--isolation", "chroot", "-t", "interop-" + name, context.toString()));
        ContainerTools.run(build, conf);

        List<String> podman = new ArrayList<>(List.of("podman"));
        podman.addAll(storage);
        podman.addAll(List.of("run", "--rm", "--network", "none", "--runtime", "/usr/sbin/runc",
                "--cgroup-manager", "cgroupfs", "interop-" + name, "sh", "-c", ContainerTools.LIST));
        List<String> lines = ContainerTools.run(podman, conf);

        List<String> cleanup = new ArrayList<>(List.of("podman"));
        cleanup.addAll(storage);
        cleanup.addAll(List.of("rmi", "-a", "-f"));
        ContainerTools.run(cleanup, conf);
        assertTrue(!Mounts.anyMountUnder(tmp), name + ": podman left mounts behind");
        return lines;
    }
}
