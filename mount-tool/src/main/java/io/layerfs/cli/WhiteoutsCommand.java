package io.layerfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.layerfs.inspect.LayerRef;
import io.layerfs.inspect.Marker;
import io.layerfs.inspect.Whiteouts;
import io.layerfs.store.LayerStore;
import io.layerfs.union.Markers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code layerfs whiteouts SOURCE | --image IMAGE | --container NAME}: every marker ({@link Whiteouts})
 * of one layer directory or layer tar, or of each layer of an image or container of the store.
 */
@Command(name = "whiteouts", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {
            "Lists every whiteout, opaque directory and redirect in SOURCE, a layer directory, an upper "
                    + "directory, or a layer tar (plain, gzip, bzip2 or zstd), with its encoding; or in each "
                    + "layer of an image (--image) or a container (--container) of the store, highest layer "
                    + "first, named as explain names them (upper, lower 1 = the image's top layer), with the "
                    + "image history step that made the layer. Markers that layerfs ignores are listed too, "
                    + "marked 'ignored', with the reason.",
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
            "  layerfs whiteouts layer.tar.zst --json",
            "  layerfs whiteouts --image alpine",
            "  layerfs whiteouts --container web --root /srv/layerfs",
            "",
        })
final class WhiteoutsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--image", paramLabel = "IMAGE", description = "List the markers of each layer of an image of "
            + "the store.")
    String image;

    @Option(names = "--container", paramLabel = "NAME", description = "List the markers of a container of the "
            + "store: its upper, then its image's layers.")
    String container;

    @Mixin
    StoreOptions store;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Parameters(paramLabel = "SOURCE", arity = "0..1", description = "A layer directory or a layer tar file.")
    String source;

    private final Path cwd;

    WhiteoutsCommand(Path cwd) {
        this.cwd = cwd;
    }

    @Override
    public Integer call() throws CliException {
        int given = (source != null ? 1 : 0) + (image != null ? 1 : 0) + (container != null ? 1 : 0);
        if (given != 1) {
            throw new CliException(ExitCode.USAGE, given == 0 ? "nothing to list" : "name one source of layers",
                    "give a layer directory or tar, --image IMAGE or --container NAME, one of them");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (source != null) {
            one(out, StackOptions.path(cwd, source));
        } else {
            stack(out);
        }
        out.flush();
        return ExitCode.OK.code;
    }

    private void one(PrintWriter out, Path src) throws CliException {
        List<Marker> markers;
        try {
            markers = Whiteouts.of(src);
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCode.BAD_LAYER, src + " does not exist");
        } catch (IOException e) {
            throw new CliException(ExitCode.BAD_LAYER, "cannot read " + src + ": " + Preflight.reason(e));
        }
        boolean tar = Whiteouts.isTar(src);
        if (json) {
            Map<String, Object> m = InspectJson.object();
            m.put("source", src.toString());
            m.put("format", tar ? "tar" : "directory");
            m.put("markers", InspectJson.markers(markers, tar ? null : new LayerRef(0, "layer", src, false)));
            ImageCommand.printJson(out, m);
            return;
        }
        int width = width(markers);
        for (Marker m : markers) {
            out.println(line(m, width));
        }
        out.println(summary(markers));
    }

    private void stack(PrintWriter out) throws CliException {
        List<StoreLayers.Layer> layers;
        try {
            LayerStore s = store.open(cwd);
            layers = image != null ? StoreLayers.ofImage(s, image) : StoreLayers.ofContainer(s, container);
        } catch (IOException e) {
            throw StoreOptions.failure(e);
        }
        List<List<Marker>> markers = new ArrayList<>();
        List<Marker> all = new ArrayList<>();
        for (StoreLayers.Layer l : layers) {
            try {
                List<Marker> m = Whiteouts.of(l.ref().root());
                markers.add(m);
                all.addAll(m);
            } catch (IOException e) {
                throw new CliException(ExitCode.BAD_LAYER, "cannot read " + l.ref() + ": " + Preflight.reason(e));
            }
        }
        if (json) {
            Map<String, Object> m = InspectJson.object();
            m.put("source", image != null ? "image " + image : "container " + container);
            m.put("format", image != null ? "image" : "container");
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                StoreLayers.Layer l = layers.get(i);
                Map<String, Object> lm = InspectJson.layer(l.ref());
                lm.put("layer", l.chainId() == null ? null : l.chainId().toString());
                lm.put("createdBy", l.createdBy());
                lm.put("markers", InspectJson.markers(markers.get(i), l.ref()));
                list.add(lm);
            }
            m.put("layers", list);
            ImageCommand.printJson(out, m);
            return;
        }
        int width = width(all);
        for (int i = 0; i < layers.size(); i++) {
            StoreLayers.Layer l = layers.get(i);
            out.println((l.ref().name() + "  " + l.ref().root() + "  " + l.label()).stripTrailing());
            if (markers.get(i).isEmpty()) {
                out.println("  (no markers)");
            }
            for (Marker m : markers.get(i)) {
                out.println("  " + line(m, width));
            }
        }
        out.println(layers.size() + (layers.size() == 1 ? " layer: " : " layers: ") + summary(all));
    }

    private static int width(List<Marker> markers) {
        int width = 0;
        for (Marker m : markers) {
            width = Math.max(width, m.path().length());
        }
        return width;
    }

    private static String line(Marker m, int width) {
        String kind = m.kind().name().toLowerCase();
        StringBuilder b = new StringBuilder(String.format("%-8s  %-" + width + "s  %-26s  %s", kind, m.path(),
                m.encoding().id(), m.markerPath()));
        if (!m.effective()) {
            b.append("  (ignored: ").append(m.note()).append(')');
        }
        return b.toString().stripTrailing();
    }

    private static String summary(List<Marker> markers) {
        int whiteouts = 0;
        int opaque = 0;
        int ignored = 0;
        for (Marker m : markers) {
            if (!m.effective()) {
                ignored++;
            } else if (m.kind() == Markers.Kind.WHITEOUT) {
                whiteouts++;
            } else if (m.kind() == Markers.Kind.OPAQUE) {
                opaque++;
            }
        }
        return whiteouts + (whiteouts == 1 ? " whiteout, " : " whiteouts, ") + opaque
                + (opaque == 1 ? " opaque directory" : " opaque directories")
                + (ignored > 0 ? ", " + ignored + " ignored" : "");
    }
}
