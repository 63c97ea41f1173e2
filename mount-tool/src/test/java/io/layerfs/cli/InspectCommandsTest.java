package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.layerfs.testkit.LayerFixture;

/**
 * {@code explain}, {@code whiteouts}, {@code lint} and {@code convert} through {@link Main#run}, on
 * layers built here (no mount):
 * <pre>
 *   l/base/  etc/motd "base" etc/hosts  var/cache/x  os-release
 *   l/top/   etc/motd "top"  etc/.wh.hosts  var/cache/ (trusted.overlay.opaque=y)   (mixed encodings)
 *   l/kern/  etc/motd "top"  etc/hosts (char 0/0)  var/cache/ (trusted.overlay.opaque=y)
 *   upper/   os-release (char 0/0)  etc/motd "top" (an identical copy)
 * </pre>
 */
class InspectCommandsTest {
    @TempDir
    Path dir;

    private final FakeHost host = new FakeHost();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void layers() throws Exception {
        dir = dir.toRealPath();
        LayerFixture.in(dir.resolve("l"))
                .layer("base").file("etc/motd", "base").file("etc/hosts", "h").file("var/cache/x", "x")
                .file("os-release", "1")
                .layer("top").file("etc/motd", "top").whiteoutOci("etc/hosts").opaque("var/cache")
                .layer("kern").file("etc/motd", "top").whiteout("etc/hosts").opaque("var/cache");
        LayerFixture.in(dir).layer("upper").whiteout("os-release").file("etc/motd", "top");
    }

    private int run(String... args) {
        return Main.run(args, host, dir, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private List<String> outLines() {
        return out.toString().lines().toList();
    }

    private int explain(String path, String... more) {
        String[] base = {"explain", path, "--lower", "l/top", "--lower", "l/base", "--upper", "upper"};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return run(all);
    }

    @Test
    void explain_hiddenPath_namesTheMarkerAndTheVersionItHides() {
        assertEquals(0, explain("/etc/hosts"), err.toString());
        assertEquals("/etc/hosts is hidden: whited out in lower 1 by " + dir.resolve("l/top/etc/.wh.hosts")
                + " (.wh.NAME file)", outLines().get(0));
        assertTrue(out.toString().contains("lower 2  file 0644 0:0, 1 byte  " + dir.resolve("l/base/etc/hosts")),
                out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void explain_visiblePath_namesTheSupplierAndWhatItShadows() {
        assertEquals(0, explain("etc/motd"));
        assertEquals("/etc/motd is visible: upper supplies it, shadowing what is below", outLines().get(0));
        assertTrue(out.toString().contains("hidden: shadowed by the regular file /etc/motd in upper"), out.toString());
    }

    @Test
    void explain_insideOpaqueDirectory_showsTheAncestor() {
        assertEquals(0, explain("/var/cache/x"));
        assertTrue(outLines().get(0).startsWith("/var/cache/x is hidden: inside /var/cache, opaque in lower 1 "
                + "(xattr trusted.overlay.opaque=y on " + dir.resolve("l/top/var/cache") + ")"), out.toString());
        assertTrue(out.toString().contains("Ancestors that matter:\n  /var/cache  directory from lower 1"),
                out.toString());
    }

    private JsonObject json() {
        return JsonParser.parseString(out.toString()).getAsJsonObject();
    }

    @Test
    void explain_json_isOneObjectWithTheCause() {
        assertEquals(0, explain("/os-release", "--json"));
        JsonObject j = json();
        assertEquals("/os-release", j.get("path").getAsString());
        assertEquals("layerfs", j.get("rules").getAsString());
        assertFalse(j.get("visible").getAsBoolean());
        JsonObject cause = j.getAsJsonObject("hiddenBy");
        assertEquals("whiteout", cause.get("kind").getAsString());
        assertEquals("upper", cause.get("layer").getAsString());
        assertEquals("char-device", cause.getAsJsonObject("marker").get("encoding").getAsString());
        assertEquals(2, j.getAsJsonArray("versions").size());
        assertEquals("hidden", j.getAsJsonArray("versions").get(1).getAsJsonObject().get("status").getAsString());
    }

    @Test
    void explain_kernelRules_showWhatTheKernelWouldShow() {
        assertEquals(0, explain("/etc/hosts", "--rules", "kernel"));
        assertEquals("/etc/hosts is visible: lower 2 supplies it", outLines().get(0));
        assertTrue(out.toString().contains("kernel overlayfs does not know this encoding (.wh.NAME file)"),
                out.toString());
    }

    @Test
    void explain_usageErrors() {
        assertEquals(ExitCode.USAGE.code, run("explain", "/x"));
        assertTrue(err.toString().startsWith("layerfs: no layers given\nhint: "), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(ExitCode.USAGE.code, run("explain", "/x", "--lower", "l/top", "--mount", "m"));
        assertEquals("layerfs: name one source of layers", err.toString().lines().findFirst().get());
        err.getBuffer().setLength(0);
        assertEquals(ExitCode.USAGE.code, run("explain", "/x", "--lower", "l/top", "--rules", "bsd"));
        assertTrue(err.toString().startsWith("layerfs: unknown rules bsd"), err.toString());
        err.getBuffer().setLength(0);
        String root = dir.resolve("store").toString();
        assertEquals(ExitCode.NOT_FOUND.code, run("explain", "/x", "--container", "c", "--root", root));
        assertTrue(err.toString().startsWith("layerfs: no such container"), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(ExitCode.NOT_FOUND.code, run("explain", "/x", "--image", "img", "--root", root));
        assertTrue(err.toString().startsWith("layerfs: no such image: img"), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(ExitCode.USAGE.code, run("explain", "/x", "--image", "img", "--container", "c"));
    }

    @Test
    void explain_missingLayer_isBadLayer() {
        assertEquals(ExitCode.BAD_LAYER.code, run("explain", "/x", "--lower", "nope"));
        assertEquals(List.of("layerfs: layer " + dir.resolve("nope") + " does not exist"), err.toString().lines().toList());
    }

    @Test
    void explain_mountNotMounted_isNotMounted() throws Exception {
        Files.createDirectory(dir.resolve("m"));
        assertEquals(ExitCode.NOT_MOUNTED.code, run("explain", "/x", "--mount", "m"));
        assertTrue(err.toString().startsWith("layerfs: " + dir.resolve("m") + " is not a mount point"), err.toString());
    }

    @Test
    void whiteouts_listsEveryMarker() {
        assertEquals(0, run("whiteouts", "l/top"));
        assertEquals(List.of(
                "whiteout  /etc/hosts  oci-whiteout                etc/.wh.hosts",
                "opaque    /var/cache  trusted.overlay.opaque      var/cache",
                "1 whiteout, 1 opaque directory"), outLines());
    }

    @Test
    void whiteouts_json() {
        assertEquals(0, run("whiteouts", "upper", "--json"));
        JsonObject j = json();
        assertEquals(dir.resolve("upper").toString(), j.get("source").getAsString());
        assertEquals("directory", j.get("format").getAsString());
        JsonObject m = j.getAsJsonArray("markers").get(0).getAsJsonObject();
        assertEquals("whiteout", m.get("kind").getAsString());
        assertEquals("char-device", m.get("encoding").getAsString());
        assertEquals("/os-release", m.get("path").getAsString());
    }

    @Test
    void whiteouts_missingSource_isBadLayer() {
        assertEquals(ExitCode.BAD_LAYER.code, run("whiteouts", "nope"));
        assertEquals(List.of("layerfs: " + dir.resolve("nope") + " does not exist"), err.toString().lines().toList());
    }

    @Test
    void lint_findings_exitOne_withExplanations() {
        assertEquals(ExitCode.FINDINGS.code, run("lint", "l/top", "l/base", "--upper", "upper"));
        String text = out.toString();
        assertTrue(text.startsWith("upper  " + dir.resolve("upper") + "\n  /etc/motd: identical-copy: "), text);
        assertTrue(text.contains("lower 1  " + dir.resolve("l/top") + "\n  /: mixed-encodings: uses oci-whiteout x1, "
                + "trusted.overlay.opaque x1; kernel overlayfs would ignore oci-whiteout"), text);
        assertTrue(text.contains("Why these matter:\n  identical-copy: "), text);
        assertTrue(text.endsWith("2 findings; 3 bytes wasted\n"), text);
    }

    @Test
    void lint_clean_exitZero() {
        assertEquals(0, run("lint", "l/kern", "l/base"));
        assertEquals(List.of("no problems found in 2 layers"), outLines());
    }

    @Test
    void lint_json_listsFindingsAndChecks() {
        assertEquals(1, run("lint", "--lower", "l/top", "--lower", "l/base", "--upper", "upper", "--json"));
        JsonObject j = json();
        JsonObject first = j.getAsJsonArray("findings").get(0).getAsJsonObject();
        assertEquals("identical-copy", first.get("check").getAsString());
        assertEquals("upper", first.get("layer").getAsString());
        assertEquals(3, j.get("bytesWasted").getAsLong());
        assertTrue(j.getAsJsonObject("checks").has("mixed-encodings"));
    }

    @Test
    void lint_layerTars_highestFirst_findingsPerTar() throws Exception {
        Path base = OciLayout.tar().dir("etc").file("etc/hosts", "h").write(dir.resolve("base.tar"));
        Path top = OciLayout.tar().dir("etc").file("etc/.wh.hosts", "").file("etc/.wh.gone", "").file(".wh.", "")
                .write(dir.resolve("top.tar"));
        assertEquals(ExitCode.FINDINGS.code, run("lint", "top.tar", "base.tar"), err.toString());
        assertEquals(List.of(
                "lower 1  " + top,
                "  /.wh.: reserved-wh-name: a bare .wh. entry, which whites out no name",
                "  /etc/gone: whiteout-hides-nothing: the whiteout etc/.wh.gone (.wh.NAME file) hides "
                        + "/etc/gone, which no layer below shows"),
                outLines().subList(0, 3));
        assertTrue(out.toString().endsWith("2 findings\n"), out.toString());
        out.getBuffer().setLength(0);
        assertEquals(0, run("lint", "base.tar"));
        assertEquals(List.of("no problems found in 1 layer (checks that need the layers below were skipped)"),
                outLines());
    }

    @Test
    void lint_tarsAndDirectories_orTarsWithStackOptions_areUsage() throws Exception {
        OciLayout.tar().file("a", "a").write(dir.resolve("a.tar"));
        assertEquals(ExitCode.USAGE.code, run("lint", "a.tar", "l/base"));
        assertTrue(err.toString().startsWith("layerfs: give layer tars or layer directories, not both"),
                err.toString());
        assertEquals(ExitCode.USAGE.code, run("lint", "a.tar", "--upper", "upper"));
        assertEquals(ExitCode.USAGE.code, run("lint", "a.tar", "--rules", "kernel"));
    }

    @Test
    void lint_workdir_leftovers() throws Exception {
        Files.createDirectories(dir.resolve("work/work"));
        Files.writeString(dir.resolve("work/work/#1"), "abc");
        assertEquals(1, run("lint", "l/top", "l/base", "--work", "work"));
        assertTrue(out.toString().contains("workdir  " + dir.resolve("work") + "\n  work/#1: workdir-leftovers: "),
                out.toString());
    }

    @Test
    void convert_toKernel_thenWhiteoutsShowsTheNewForm() {
        assertEquals(0, run("convert", "--to", "kernel", "l/top", "top-kernel"), err.toString());
        assertEquals("converted " + dir.resolve("l/top") + " to " + dir.resolve("top-kernel")
                + " (kernel form): 4 objects, 1 whiteouts, 1 opaque directories", outLines().get(0));
        out.getBuffer().setLength(0);
        assertEquals(0, run("whiteouts", "top-kernel"));
        assertEquals("whiteout  /etc/hosts  char-device                 etc/hosts", outLines().get(0));
    }

    @Test
    void convert_existingTarget_andBadForm_areUsage() throws Exception {
        Files.createDirectory(dir.resolve("there"));
        assertEquals(ExitCode.USAGE.code, run("convert", "--to", "oci", "l/top", "there"));
        assertEquals("layerfs: " + dir.resolve("there") + " already exists", err.toString().lines().findFirst().get());
        assertEquals(ExitCode.USAGE.code, run("convert", "--to", "aufs", "l/top", "x"));
        assertFalse(Files.exists(dir.resolve("x")));
        assertEquals(ExitCode.USAGE.code, run("convert", "l/top", "x"));
    }
}
