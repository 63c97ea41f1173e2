package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.layerfs.testkit.LayerFixture;
import io.layerfs.testkit.MountTests;

/**
 * {@code whiteouts} and {@code explain} with {@code --image} and {@code --container} on a store filled by {@code image import} of an
 * OCI layout built here (the import writes whiteouts as 0/0 devices, so it needs root):
 * <pre>
 *   layer 1 "RUN base":  etc/motd  etc/hosts  var/cache/x
 *   layer 2 "RUN rm":    etc/.wh.hosts  var/cache/.wh..wh..opq  var/cache/new
 *   container c's upper: etc/.wh.motd (an OCI whiteout, as fuse-overlayfs without privileges writes)
 * </pre>
 */
class InspectStoreTest {
    @TempDir
    Path dir;

    private final FakeHost host = new FakeHost();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private String root;

    @BeforeEach
    void store() throws Exception {
        MountTests.requireMountPrivileges();
        dir = dir.toRealPath();
        root = dir.resolve("store").toString();
        new OciLayout()
                .layer("RUN base", OciLayout.tar().dir("etc").file("etc/motd", "m").file("etc/hosts", "h")
                        .dir("var/cache").file("var/cache/x", "x"))
                .layer("RUN rm", OciLayout.tar().dir("etc").file("etc/.wh.hosts", "").dir("var/cache")
                        .file("var/cache/.wh..wh..opq", "").file("var/cache/new", "n"))
                .write(dir.resolve("oci"), "img");
        assertEquals(0, run("image", "import", "--root", root, dir.resolve("oci").toString(), "--tag", "img"),
                err.toString());
        assertEquals(0, run("create", "--root", root, "img", "--name", "c"), err.toString());
        Path upper = dir.resolve("store/containers/c/upper");
        Files.delete(upper);
        Path made = LayerFixture.in(dir.resolve("fx")).layer("upper").whiteoutOci("etc/motd").path();
        Files.move(made, upper);
        out.getBuffer().setLength(0);
    }

    private int run(String... args) {
        return Main.run(args, host, dir, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void image_listsEachLayerHighestFirst_withItsHistoryStep() {
        assertEquals(0, run("whiteouts", "--image", "img", "--root", root), err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(6, lines.size(), out.toString());
        assertTrue(lines.get(0).matches("lower 1  " + root + "/layers/[0-9a-f]+/diff  layer [0-9a-f]{12}  RUN rm"),
                lines.get(0));
        assertEquals("  whiteout  /etc/hosts  char-device                 etc/hosts", lines.get(1));
        assertEquals("  opaque    /var/cache  trusted.overlay.opaque      var/cache", lines.get(2));
        assertTrue(lines.get(3).matches("lower 2  .*  RUN base"), lines.get(3));
        assertEquals("  (no markers)", lines.get(4));
        assertEquals("2 layers: 1 whiteout, 1 opaque directory", lines.get(5));
    }

    @Test
    void container_listsTheUpperFirst() {
        assertEquals(0, run("whiteouts", "--container", "c", "--root", root), err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals("upper  " + root + "/containers/c/upper", lines.get(0));
        assertEquals("  whiteout  /etc/motd   oci-whiteout                etc/.wh.motd", lines.get(1));
        assertTrue(lines.get(2).startsWith("lower 1  "), lines.get(2));
        assertEquals("3 layers: 2 whiteouts, 1 opaque directory", lines.get(lines.size() - 1));
    }

    @Test
    void container_json_hasLayersWithTheirMarkers() {
        assertEquals(0, run("whiteouts", "--container", "c", "--root", root, "--json"), err.toString());
        JsonObject j = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertEquals("container", j.get("format").getAsString());
        JsonArray layers = j.getAsJsonArray("layers");
        assertEquals(3, layers.size());
        JsonObject upper = layers.get(0).getAsJsonObject();
        assertEquals("upper", upper.get("name").getAsString());
        assertTrue(upper.get("upper").getAsBoolean());
        JsonObject m = upper.getAsJsonArray("markers").get(0).getAsJsonObject();
        assertEquals("oci-whiteout", m.get("encoding").getAsString());
        assertEquals(root + "/containers/c/upper/etc/.wh.motd", m.get("hostPath").getAsString());
        JsonObject top = layers.get(1).getAsJsonObject();
        assertEquals("RUN rm", top.get("createdBy").getAsString());
        assertTrue(top.get("layer").getAsString().startsWith("sha256:"));
        assertEquals(2, top.getAsJsonArray("markers").size());
    }

    @Test
    void explainImage_hiddenPath_layersShowTheirHistoryStep() {
        assertEquals(0, run("explain", "/etc/hosts", "--image", "img", "--root", root), err.toString());
        List<String> lines = out.toString().lines().toList();
        assertTrue(lines.get(0).matches("/etc/hosts is hidden: whited out in lower 1 by " + root
                + "/layers/[0-9a-f]+/diff/etc/hosts \\(character device 0/0\\)"), lines.get(0));
        int at = lines.indexOf("Layers (layerfs rules; from image img):");
        assertTrue(lines.get(at + 1).matches("  lower 1  .*/diff  layer [0-9a-f]{12}  RUN rm"), lines.get(at + 1));
        assertTrue(lines.get(at + 2).matches("  lower 2  .*/diff  layer [0-9a-f]{12}  RUN base"), lines.get(at + 2));
    }

    @Test
    void explainContainer_json_upperHasNoLabel_lowersDo() {
        assertEquals(0, run("explain", "/etc/motd", "--container", "c", "--root", root, "--json"), err.toString());
        JsonObject j = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertEquals(false, j.get("visible").getAsBoolean());
        JsonArray layers = j.getAsJsonArray("layers");
        assertEquals(false, layers.get(0).getAsJsonObject().has("label"));
        assertTrue(layers.get(1).getAsJsonObject().get("label").getAsString().endsWith("  RUN rm"));
    }

    @Test
    void sources_noneOrTwo_areUsage_unknownImage_isNotFound() {
        assertEquals(ExitCode.USAGE.code, run("whiteouts"));
        assertEquals(ExitCode.USAGE.code, run("whiteouts", "x", "--image", "img", "--root", root));
        assertTrue(err.toString().contains("name one source of layers"), err.toString());
        assertEquals(ExitCode.NOT_FOUND.code, run("whiteouts", "--image", "nope", "--root", root));
        assertTrue(err.toString().contains("no such image: nope"), err.toString());
    }

    @Test
    void tarSource_isStillOneLayer() throws Exception {
        Path tar = OciLayout.tar().file("a/.wh.b", "").write(dir.resolve("l.tar"));
        assertEquals(0, run("whiteouts", tar.toString()), err.toString());
        assertEquals(List.of("whiteout  /a/b  oci-whiteout                a/.wh.b", "1 whiteout, 0 opaque directories"),
                out.toString().lines().toList());
    }
}
