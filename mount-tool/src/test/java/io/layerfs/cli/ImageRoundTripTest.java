package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.layerfs.testkit.MountTests;

/**
 * Images between buildah/podman and layerfs, both ways, compared by the tree a container shows
 * (path|type|mode|uid|gid|size|md5, as {@link PodmanInteropTest} lists it):
 * buildah build --layers → buildah push oci:DIR and docker-archive:FILE → layerfs image import →
 * create → mount --container → chroot listing equals podman run's listing and the listing of
 * {@code umoci unpack}'s rootfs for the same OCI layout (path, type, mode, uid, gid, size, md5, link
 * target); then layerfs commit →
 * image export → podman load → podman run shows the committed tree; and export → re-import keeps the ID,
 * also after skopeo copy of the export.
 * podman's own additions at run time (/etc/mtab, the root directory's mode, mount points) are left out.
 */
class ImageRoundTripTest {
    private static final String CONTAINERFILE = String.join("\n",
            "FROM scratch",
            "COPY busybox /bin/busybox",
            "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]",
            "RUN mkdir -p /etc /data/sub /gone && echo one > /data/a && echo two > /data/sub/b && echo x > /gone/x"
                    + " && echo keep > /etc/keep",
            "RUN rm /data/a && rm -rf /gone && chmod 600 /data/sub/b && echo more >> /etc/keep",
            "RUN rm -rf /data/sub && mkdir /data/sub && echo new > /data/sub/new && mkdir /gone && ln -s /etc/keep /link",
            "");


    @TempDir
    Path tmp;
    Path conf;

    @Test
    void buildahImage_importMountCommitExport_sameTreesAsPodman() throws Exception {
        MountTests.requireFuse();
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/buildah")) && Files.isExecutable(Path.of("/usr/bin/podman")),
                "needs buildah and podman");
        tmp = tmp.toRealPath();
        Path context = Files.createDirectories(tmp.resolve("context"));
        Files.copy(Path.of("/bin/busybox"), context.resolve("busybox"));
        Files.writeString(context.resolve("Containerfile"), CONTAINERFILE);
        conf = tmp.resolve("containers.conf");
        Files.writeString(conf, "[containers]\ndefault_ulimits = []\n");
        List<String> storage = List.of("--root", tmp.resolve("c-root").toString(), "--runroot",
                tmp.resolve("c-runroot").toString(), "--storage-driver", "vfs");

        run(cat(List.of("buildah"), storage, List.of("bud", "--isolation", "chroot", "--layers", "-t", "rt",
                context.toString())));
        run(cat(List.of("buildah"), storage, List.of("push", "rt", "oci:" + tmp.resolve("oci") + ":rt")));
        run(cat(List.of("buildah"), storage, List.of("push", "rt", "docker-archive:" + tmp.resolve("rt.tar") + ":rt:latest")));
        List<String> podmanTree = run(cat(List.of("podman"), storage, List.of("run", "--rm", "--network", "none",
                "--runtime", "/usr/sbin/runc", "--cgroup-manager", "cgroupfs", "rt", "sh", "-c", ContainerTools.LIST)));
        assertTrue(podmanTree.contains("./etc/keep|regular file|644|0|0|10|" + ContainerTools.md5("keep\nmore\n")), podmanTree.toString());
        // umoci, a second independent unpacker of the same OCI layout, listed by the same script
        Path bundle = tmp.resolve("bundle");
        run(List.of("umoci", "unpack", "--image", tmp.resolve("oci") + ":rt", bundle.toString()));
        List<String> umociTree = run(List.of("chroot", bundle.resolve("rootfs").toString(), "/bin/sh", "-c",
                ContainerTools.LIST));
        assertEquals(podmanTree, umociTree, "umoci unpack and podman run show the same tree");

        String root = tmp.resolve("store").toString();
        assertEquals(0, cli("image", "import", "--root", root, tmp.resolve("oci").toString(), "--tag", "from-oci"));
        assertEquals(0, cli("image", "import", "--root", root, tmp.resolve("rt.tar").toString(), "--tag", "from-docker"));
        String layers = out("layer", "ls", "--root", root);
        assertTrue(layers.split("\n").length >= 5, "multi-layer: " + layers);
        for (String image : List.of("from-oci", "from-docker")) {
            String name = "c-" + image;
            assertEquals(0, cli("create", "--root", root, image, "--name", name));
            List<String> mounted = listMounted(root, name, null);
            assertEquals(umociTree, mounted, image + ": layerfs mount vs umoci unpack");
            assertEquals(podmanTree, mounted, image + ": layerfs mount vs podman run");
        }

        // change the container, commit, export, podman load, compare
        List<String> changed = listMounted(root, "c-from-oci",
                "rm -rf /data && echo committed > /etc/keep && mkdir /added && echo a > /added/f && rm /bin/vi");
        String diff = out("diff", "--root", root, "c-from-oci");
        assertTrue(diff.contains("D /data") && diff.contains("A /added/f") && diff.contains("C /etc/keep")
                && diff.contains("D /bin/vi"), diff);
        assertEquals(0, cli("commit", "--root", root, "c-from-oci", "--tag", "localhost/committed:latest"));
        Path archive = tmp.resolve("committed.tar");
        assertEquals(0, cli("image", "export", "--root", root, "localhost/committed:latest", archive.toString()));
        run(cat(List.of("podman"), storage, List.of("load", "-i", archive.toString())));
        List<String> loaded = run(cat(List.of("podman"), storage, List.of("run", "--rm", "--network", "none",
                "--runtime", "/usr/sbin/runc", "--cgroup-manager", "cgroupfs", "localhost/committed:latest",
                "sh", "-c", ContainerTools.LIST)));
        assertEquals(changed, loaded);

        // export → re-import keeps the image ID; skopeo reads the OCI export
        Path ociOut = tmp.resolve("committed-oci");
        assertEquals(0, cli("image", "export", "--root", root, "localhost/committed:latest", ociOut.toString()));
        run(List.of("skopeo", "inspect", "oci:" + ociOut));
        String before = out("image", "ls", "--root", root, "--json");
        String fresh = tmp.resolve("store2").toString();
        String imported = out("image", "import", "--root", fresh, ociOut.toString());
        String id = imported.split(" ")[0];
        assertTrue(before.contains(id), id + " in " + before);
        // skopeo copies the export (as an OCI archive); layerfs imports the copy as the same image
        Path copied = tmp.resolve("copied.tar");
        run(List.of("skopeo", "--insecure-policy", "copy", "oci:" + ociOut, "oci-archive:" + copied));
        String reimported = out("image", "import", "--root", tmp.resolve("store3").toString(), copied.toString());
        assertEquals(id, reimported.split(" ")[0], "skopeo copy keeps the image ID");
        run(cat(List.of("podman"), storage, List.of("rmi", "-a", "-f")));
    }

    /** Mounts the container, optionally changes it through the mount, and lists it by chroot. */
    private List<String> listMounted(String root, String name, String change) throws Exception {
        Path mnt = Files.createDirectories(tmp.resolve("mnt-" + name));
        assertEquals(0, cli("mount", "--root", root, "--container", name, mnt.toString()));
        try {
            if (change != null) {
                run(List.of("chroot", mnt.toString(), "/bin/sh", "-c", change));
            }
            return run(List.of("chroot", mnt.toString(), "/bin/sh", "-c", ContainerTools.LIST));
        } finally {
            assertEquals(0, cli("umount", mnt.toString()));
        }
    }

    private final StringWriter outBuf = new StringWriter();
    private final StringWriter errBuf = new StringWriter();

    private int cli(String... args) {
        outBuf.getBuffer().setLength(0);
        errBuf.getBuffer().setLength(0);
        int rc = Main.run(args, LinuxHost.INSTANCE, tmp, new PrintWriter(outBuf, true), new PrintWriter(errBuf, true));
        if (rc != 0) {
            System.err.println(String.join(" ", args) + ": " + errBuf);
        }
        return rc;
    }

    private String out(String... args) {
        assertEquals(0, cli(args), String.join(" ", args) + ": " + errBuf);
        return outBuf.toString();
    }

    @SafeVarargs
    private static List<String> cat(List<String>... parts) {
        List<String> out = new ArrayList<>();
        for (List<String> p : parts) {
            out.addAll(p);
        }
        return out;
    }

    private List<String> run(List<String> cmd) throws IOException, InterruptedException {
        // the root directory's mode is the runtime's choice (podman shows 555), not the image's
        return ContainerTools.run(cmd, conf).stream().filter(l -> !l.startsWith(".|")).toList();
    }
}
