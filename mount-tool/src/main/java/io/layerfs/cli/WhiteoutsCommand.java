package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.layerfs.inspect.LayerRef;
import io.layerfs.inspect.Marker;
import io.layerfs.inspect.Whiteouts;
import io.layerfs.union.Markers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code layerfs whiteouts SOURCE}: every marker of one layer directory or layer tar ({@link Whiteouts}). */
@Command(name = "whiteouts", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {
            "Lists every whiteout, opaque directory and redirect in SOURCE, a layer directory, an upper "
                    + "directory, or a layer tar (plain, gzip or bzip2), with its encoding. Markers that "
                    + "layerfs ignores are listed too, marked 'ignored', with the reason.",
            "",
            "Encodings: char-device (0/0), oci-whiteout (.wh.NAME), trusted.overlay.whiteout and "
                    + "user.overlay.whiteout (xattr whiteouts), trusted.overlay.opaque, user.overlay.opaque, "
                    + "user.fuseoverlayfs.opaque, oci-opaque (.wh..wh..opq), trusted.overlay.redirect, "
                    + "user.overlay.redirect.",
            "",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  layerfs whiteouts /var/lib/containers/storage/overlay/ID/diff",
            "  layerfs whiteouts layer.tar.gz --json",
            "",
        })
final class WhiteoutsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Parameters(paramLabel = "SOURCE", description = "A layer directory or a layer tar file.")
    String source;

    private final Path cwd;

    WhiteoutsCommand(Path cwd) {
        this.cwd = cwd;
    }

    @Override
    public Integer call() throws CliException {
        Path src = StackOptions.path(cwd, source);
        List<Marker> markers;
        try {
            markers = Whiteouts.of(src);
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCode.BAD_LAYER, src + " does not exist");
        } catch (IOException e) {
            throw new CliException(ExitCode.BAD_LAYER, "cannot read " + src + ": " + Preflight.reason(e));
        }
        boolean tar = Whiteouts.isTar(src);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = InspectJson.object();
            m.put("source", src.toString());
            m.put("format", tar ? "tar" : "directory");
            m.put("markers", InspectJson.markers(markers, tar ? null : new LayerRef(0, "layer", src, false)));
            ImageCommand.printJson(out, m);
        } else {
            text(out, markers);
        }
        out.flush();
        return ExitCode.OK.code;
    }

    private static void text(PrintWriter out, List<Marker> markers) {
        int width = 0;
        for (Marker m : markers) {
            width = Math.max(width, m.path().length());
        }
        int whiteouts = 0;
        int opaque = 0;
        int other = 0;
        for (Marker m : markers) {
            String kind = m.kind().name().toLowerCase();
            StringBuilder b = new StringBuilder(String.format("%-8s  %-" + width + "s  %-26s  %s", kind, m.path(),
                    m.encoding().id(), m.markerPath()));
            if (!m.effective()) {
                b.append("  (ignored: ").append(m.note()).append(')');
            } else if (m.kind() == Markers.Kind.WHITEOUT) {
                whiteouts++;
            } else if (m.kind() == Markers.Kind.OPAQUE) {
                opaque++;
            }
            if (!m.effective()) {
                other++;
            }
            out.println(b.toString().stripTrailing());
        }
        out.println(whiteouts + (whiteouts == 1 ? " whiteout, " : " whiteouts, ") + opaque
                + (opaque == 1 ? " opaque directory" : " opaque directories")
                + (other > 0 ? ", " + other + " ignored" : ""));
    }
}
