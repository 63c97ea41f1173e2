package io.layerfs.cli;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.layerfs.inspect.LayerStack;
import io.layerfs.inspect.Rules;
import picocli.CommandLine.Option;

/**
 * How {@code explain} and {@code lint} are told which layers to read: named one by one
 * ({@code --lower ... --upper}), or taken from a live mount ({@code --mount MERGED}). The rules
 * are the mount's reader's, unless {@code --rules} says otherwise; layerfs's for named layers.
 */
final class StackOptions {
    @Option(names = "--lower", paramLabel = "DIR",
            description = "A lower layer directory; repeat it, highest layer first (the order of lowerdir=).")
    List<String> lowers = new ArrayList<>();

    @Option(names = "--upper", paramLabel = "DIR", description = "The upper (container) layer directory.")
    String upper;

    @Option(names = "--mount", paramLabel = "MERGED",
            description = "Read the layers of the layerfs, fuse-overlayfs or kernel overlayfs mount at MERGED.")
    String mount;

    @Option(names = "--container", paramLabel = "NAME",
            description = "Read the layers of a container of the store: its image's layers and its upper.")
    String container;

    @Option(names = "--image", paramLabel = "IMAGE", description = "Read the layers of an image of the store.")
    String image;

    @picocli.CommandLine.Mixin
    StoreOptions store;

    @Option(names = "--rules", paramLabel = "READER",
            description = "Whose rules decide what a marker means: layerfs (every encoding), kernel "
                    + "(trusted.overlay.* and 0/0 devices) or userxattr (kernel with -o userxattr). "
                    + "Default: the mount's reader with --mount, else layerfs.")
    String rules;

    /**
     * What the options name, once resolved.
     *
     * @param labels per layer, top first (upper, then lowers), what else is known of it (the store's
     *               layer ID and the history step that made it), "" if nothing; empty if none is known
     */
    record Resolved(List<Path> lowers, Path upper, Path work, Rules rules, String source, List<String> notes,
                    List<String> labels) {
        Resolved(List<Path> lowers, Path upper, Path work, Rules rules, String source, List<String> notes) {
            this(lowers, upper, work, rules, source, notes, List.of());
        }

        /** The label of the layer at index (top first), or "". */
        String label(int index) {
            return index < labels.size() ? labels.get(index) : "";
        }

        LayerStack open() throws CliException {
            try {
                return LayerStack.of(lowers, upper, rules);
            } catch (NoSuchFileException e) {
                throw new CliException(ExitCode.BAD_LAYER, "layer " + e.getFile() + " does not exist");
            } catch (NotDirectoryException e) {
                throw new CliException(ExitCode.BAD_LAYER, "layer " + e.getFile() + " is not a directory");
            } catch (IOException e) {
                throw new CliException(ExitCode.BAD_LAYER, "cannot read the layers: " + Preflight.reason(e));
            }
        }
    }

    /**
     * @param extraLowers more lower layers named positionally (lint's SOURCE...), after --lower ones
     */
    Resolved resolve(Host host, Path cwd, List<String> extraLowers) throws CliException {
        List<String> named = new ArrayList<>(lowers);
        named.addAll(extraLowers);
        Rules chosen = rules == null ? null : rules(rules);
        int sources = (mount != null ? 1 : 0) + (container != null ? 1 : 0) + (image != null ? 1 : 0)
                + (named.isEmpty() && upper == null ? 0 : 1);
        if (sources > 1) {
            throw new CliException(ExitCode.USAGE, "name one source of layers",
                    "use --lower/--upper, --mount MERGED, --container NAME or --image IMAGE, one of them");
        }
        if (container != null || image != null) {
            try {
                io.layerfs.store.LayerStore s = store.open(cwd);
                List<StoreLayers.Layer> layers = container != null ? StoreLayers.ofContainer(s, container)
                        : StoreLayers.ofImage(s, image);
                List<Path> lowerDirs = new ArrayList<>();
                List<String> labels = new ArrayList<>();
                for (StoreLayers.Layer l : layers) {
                    if (!l.ref().upper()) {
                        lowerDirs.add(l.ref().root());
                    }
                    labels.add(l.label());
                }
                if (container != null) {
                    io.layerfs.store.LayerStore.MountPlan plan = s.mountPlan(container);
                    return new Resolved(lowerDirs, plan.upper(), plan.work(), chosen != null ? chosen : Rules.LAYERFS,
                            "container " + container, List.of(), labels);
                }
                return new Resolved(lowerDirs, null, null, chosen != null ? chosen : Rules.LAYERFS,
                        "image " + image, List.of(), labels);
            } catch (IOException e) {
                throw StoreOptions.failure(e);
            }
        }
        if (mount != null) {
            if (!named.isEmpty() || upper != null) {
                throw new CliException(ExitCode.USAGE, "name the layers or a mount, not both",
                        "use --mount MERGED alone, or --lower/--upper");
            }
            MountedLayers.Layers l = MountedLayers.of(path(cwd, mount), host);
            return new Resolved(l.lowers(), l.upper(), l.work(), chosen != null ? chosen : l.rules(), l.source(),
                    l.notes());
        }
        if (named.isEmpty() && upper == null) {
            throw new CliException(ExitCode.USAGE, "no layers given",
                    "name them with --lower DIR (highest first) and --upper DIR, or use --mount MERGED,"
                            + " --container NAME or --image IMAGE");
        }
        List<Path> lowerPaths = new ArrayList<>();
        for (String l : named) {
            lowerPaths.add(path(cwd, l));
        }
        return new Resolved(lowerPaths, upper == null ? null : path(cwd, upper), null,
                chosen != null ? chosen : Rules.LAYERFS, "the command line", List.of());
    }

    static Rules rules(String id) throws CliException {
        try {
            return Rules.byId(id);
        } catch (IllegalArgumentException e) {
            throw new CliException(ExitCode.USAGE, e.getMessage());
        }
    }

    static Path path(Path cwd, String arg) throws CliException {
        if (arg.isEmpty()) {
            throw new CliException(ExitCode.USAGE, "an empty string is not a path");
        }
        try {
            return cwd.resolve(arg).normalize();
        } catch (InvalidPathException e) {
            throw new CliException(ExitCode.USAGE, "bad path " + arg + ": " + e.getMessage());
        }
    }
}
