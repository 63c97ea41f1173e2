package io.layerfs.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * An OCI image layout (image-spec image-layout.md) written by a test: layers are plain tars built
 * entry by entry, base first, each with the history step that "made" it, for {@code image import}.
 * <pre>
 *   new OciLayout().layer("RUN base", tar().dir("etc").file("etc/motd", "hi"))
 *                  .layer("RUN rm", tar().file("etc/.wh.motd", "")).write(dir, "img");
 * </pre>
 */
final class OciLayout {
    private final List<byte[]> layers = new ArrayList<>();
    private final List<String> createdBy = new ArrayList<>();

    /** A layer tar, built entry by entry. */
    static final class Tar {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream out = new TarArchiveOutputStream(bytes);

        Tar() {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        }

        Tar dir(String name) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
            e.setMode(040755);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        Tar file(String name, String content) throws IOException {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(0100644);
            e.setSize(data.length);
            out.putArchiveEntry(e);
            out.write(data);
            out.closeArchiveEntry();
            return this;
        }

        byte[] bytes() throws IOException {
            out.close();
            return bytes.toByteArray();
        }

        /** Writes the tar to file and returns it. */
        Path write(Path file) throws IOException {
            Files.write(file, bytes());
            return file;
        }
    }

    static Tar tar() {
        return new Tar();
    }

    OciLayout layer(String step, Tar tar) throws IOException {
        layers.add(tar.bytes());
        createdBy.add(step);
        return this;
    }

    /** Writes the layout into dir, its one manifest named ref. */
    void write(Path dir, String ref) throws IOException {
        Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
        StringBuilder diffIds = new StringBuilder();
        StringBuilder history = new StringBuilder();
        StringBuilder descs = new StringBuilder();
        for (int i = 0; i < layers.size(); i++) {
            String sep = i == 0 ? "" : ",";
            String d = blob(blobs, layers.get(i));
            diffIds.append(sep).append('"').append(d).append('"');
            history.append(sep).append("{\"created_by\":\"").append(createdBy.get(i)).append("\"}");
            descs.append(sep).append(desc("application/vnd.oci.image.layer.v1.tar", d, layers.get(i).length));
        }
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
                + diffIds + "]},\"history\":[" + history + "]}").getBytes(StandardCharsets.UTF_8);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":" + desc("application/vnd.oci.image.config.v1+json", blob(blobs, config), config.length)
                + ",\"layers\":[" + descs + "]}").getBytes(StandardCharsets.UTF_8);
        String manifestD = blob(blobs, manifest);
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestD + "\",\"size\":"
                + manifest.length + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + ref + "\"}}]}");
    }

    private static String desc(String type, String digest, long size) {
        return "{\"mediaType\":\"" + type + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
    }

    private static String blob(Path blobs, byte[] data) throws IOException {
        try {
            String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
            Files.write(blobs.resolve(hex), data);
            return "sha256:" + hex;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
