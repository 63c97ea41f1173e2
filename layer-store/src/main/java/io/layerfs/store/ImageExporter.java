package io.layerfs.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/**
 * Writes an image out of the store: an OCI image layout directory or archive (image-spec
 * image-layout.md, manifest.md) or a {@code docker save} archive (manifest.json, CONFIGHEX.json,
 * LAYERHEX/layer.tar). The config and the layer blobs are the stored bytes, so the image keeps its ID and
 * every digest, and importing the export gives the same image. The result appears by one rename.
 */
public final class ImageExporter {
    /** OCI layout directory, OCI archive (a tar of one), docker save archive. */
    public enum Format { OCI_DIR, OCI_ARCHIVE, DOCKER_ARCHIVE }

    private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    private static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private ImageExporter() {
    }

    /** The format a target's name implies: a name ending in .tar is a docker save archive. */
    public static Format formatFor(Path target, String requested) throws StoreException {
        boolean tar = target.getFileName() != null && target.getFileName().toString().endsWith(".tar");
        if (requested == null) {
            return tar ? Format.DOCKER_ARCHIVE : Format.OCI_DIR;
        }
        switch (requested) {
            case "oci":
                return tar ? Format.OCI_ARCHIVE : Format.OCI_DIR;
            case "docker":
                if (!tar) {
                    throw new StoreException(StoreException.Kind.INVALID, "--format docker writes an archive: name it FILE.tar");
                }
                return Format.DOCKER_ARCHIVE;
            default:
                throw new StoreException(StoreException.Kind.INVALID, "unknown format '" + requested + "': use oci or docker");
        }
    }

    static void export(byte[] config, List<LayerStore.LayerBlobInfo> layers, String name, Path target, Format format)
            throws IOException {
        target = target.toAbsolutePath().normalize();
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new StoreException(StoreException.Kind.EXISTS, target + " exists");
        }
        Path temp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            if (format == Format.DOCKER_ARCHIVE) {
                try (OutputStream out = Files.newOutputStream(temp)) {
                    writeDocker(config, layers, name, out);
                }
            } else {
                Path dir = format == Format.OCI_DIR ? temp : Files.createTempDirectory(target.getParent(), ".oci-");
                try {
                    writeOciDir(config, layers, name, dir);
                    if (format == Format.OCI_ARCHIVE) {
                        try (OutputStream out = Files.newOutputStream(temp)) {
                            tarDirectory(dir, out);
                        }
                    }
                } finally {
                    if (format == Format.OCI_ARCHIVE) {
                        AtomicFiles.deleteTree(dir);
                    }
                }
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.isDirectory(temp)) {
                AtomicFiles.deleteTree(temp);
            } else {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static void writeOciDir(byte[] config, List<LayerStore.LayerBlobInfo> layers, String name, Path dir)
            throws IOException {
        Path blobs = Files.createDirectories(dir.resolve("blobs").resolve("sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Digest configDigest = Digest.sha256(config);
        Files.write(blobs.resolve(configDigest.hex()), config);
        List<Object> layerDescs = new ArrayList<>();
        for (LayerStore.LayerBlobInfo l : layers) {
            Path to = blobs.resolve(l.digest().hex());
            if (!Files.exists(to)) {
                Files.copy(l.file(), to);
            }
            layerDescs.add(descriptor(l.mediaType(), l.digest(), l.size()));
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MANIFEST_TYPE);
        manifest.put("config", descriptor(CONFIG_TYPE, configDigest, config.length));
        manifest.put("layers", layerDescs);
        byte[] manifestBytes = GSON.toJson(manifest).getBytes(StandardCharsets.UTF_8);
        Digest manifestDigest = Digest.sha256(manifestBytes);
        Files.write(blobs.resolve(manifestDigest.hex()), manifestBytes);
        Map<String, Object> desc = descriptor(MANIFEST_TYPE, manifestDigest, manifestBytes.length);
        if (name != null) {
            desc.put("annotations", Map.of("org.opencontainers.image.ref.name", name));
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        index.put("manifests", List.of(desc));
        Files.writeString(dir.resolve("index.json"), GSON.toJson(index));
    }

    private static Map<String, Object> descriptor(String type, Digest d, long size) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mediaType", type);
        m.put("digest", d.toString());
        m.put("size", size);
        return m;
    }

    private static void writeDocker(byte[] config, List<LayerStore.LayerBlobInfo> layers, String name,
                                    OutputStream raw) throws IOException {
        TarArchiveOutputStream tar = newTar(raw);
        String configName = Digest.sha256(config).hex() + ".json";
        List<String> layerNames = new ArrayList<>();
        for (LayerStore.LayerBlobInfo l : layers) {
            String n = l.digest().hex() + "/layer.tar";
            if (!layerNames.contains(n)) {
                addDir(tar, l.digest().hex() + "/");
                addFile(tar, n, l.file());
            }
            layerNames.add(n);
        }
        addBytes(tar, configName, config);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("Config", configName);
        m.put("RepoTags", name == null ? List.of() : List.of(dockerName(name)));
        m.put("Layers", layerNames);
        addBytes(tar, "manifest.json", GSON.toJson(List.of(m)).getBytes(StandardCharsets.UTF_8));
        tar.finish();
        tar.close(); // closes the buffer under it too
    }

    /** docker's RepoTags hold NAME:TAG; a name without a tag gets :latest, as docker and podman add it. */
    static String dockerName(String name) {
        int slash = name.lastIndexOf('/');
        return name.indexOf(':', slash + 1) >= 0 || name.contains("@") ? name : name + ":latest";
    }

    private static void tarDirectory(Path dir, OutputStream raw) throws IOException {
        TarArchiveOutputStream tar = newTar(raw);
        List<Path> files;
        try (var s = Files.walk(dir)) {
            files = s.filter(p -> !p.equals(dir)).sorted().toList();
        }
        for (Path p : files) {
            String rel = dir.relativize(p).toString();
            if (Files.isDirectory(p)) {
                addDir(tar, rel + "/");
            } else {
                addFile(tar, rel, p);
            }
        }
        tar.finish();
        tar.close(); // closes the buffer under it too
    }

    private static TarArchiveOutputStream newTar(OutputStream raw) {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(new java.io.BufferedOutputStream(raw, 1 << 16),
                StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        return tar;
    }

    private static TarArchiveEntry entry(String name, long size, int mode) {
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setUserName("");
        e.setGroupName("");
        e.setIds(0, 0);
        e.setMode(mode);
        e.setModTime(0);
        e.setSize(size);
        return e;
    }

    private static void addDir(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, org.apache.commons.compress.archivers.tar.TarConstants.LF_DIR, true);
        e.setUserName("");
        e.setGroupName("");
        e.setIds(0, 0);
        e.setMode(0755);
        e.setModTime(0);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private static void addFile(TarArchiveOutputStream tar, String name, Path file) throws IOException {
        tar.putArchiveEntry(entry(name, Files.size(file), 0644));
        Files.copy(file, tar);
        tar.closeArchiveEntry();
    }

    private static void addBytes(TarArchiveOutputStream tar, String name, byte[] data) throws IOException {
        tar.putArchiveEntry(entry(name, data.length, 0644));
        tar.write(data);
        tar.closeArchiveEntry();
    }
}
