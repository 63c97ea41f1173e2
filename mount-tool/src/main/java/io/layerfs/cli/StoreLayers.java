package io.layerfs.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.layerfs.inspect.LayerRef;
import io.layerfs.store.Digest;
import io.layerfs.store.LayerStore;

/**
 * The layers of an image or a container of the store, highest first and named as a mount of them
 * would name them ("upper", then "lower 1" for the image's top layer), each with the store's layer
 * ID and the image history step that made it ({@code created_by}), so a marker can be traced back
 * to the RUN line that wrote it.
 */
final class StoreLayers {
    /**
     * @param ref       the layer, as {@link io.layerfs.inspect.LayerStack} names layers
     * @param chainId   the store's layer ID; null for a container's upper
     * @param createdBy the history step that made the layer, or null if the image does not say
     */
    record Layer(LayerRef ref, Digest chainId, String createdBy) {
        /** "layer ID  STEP" (the step on one line, at most 100 characters), or "" for an upper. */
        String label() {
            if (chainId == null) {
                return "";
            }
            return "layer " + chainId.shortHex() + (createdBy == null ? "" : "  " + oneLine(createdBy));
        }
    }

    /** A history step, shortened to one line of at most 100 characters. */
    static String oneLine(String createdBy) {
        String s = createdBy.replaceAll("\\s+", " ").strip();
        return s.length() <= 100 ? s : s.substring(0, 97) + "...";
    }

    private StoreLayers() {
    }

    static List<Layer> ofImage(LayerStore store, String image) throws IOException {
        Digest id = store.resolveImage(image);
        return lowers(store, id, layersOf(store, id), 0);
    }

    static List<Layer> ofContainer(LayerStore store, String name) throws IOException {
        LayerStore.ContainerInfo c = store.container(name);
        LayerStore.MountPlan plan = store.mountPlan(name);
        List<Layer> out = new ArrayList<>();
        out.add(new Layer(new LayerRef(0, "upper", plan.upper(), true), null, null));
        out.addAll(lowers(store, c.image(), highestFirst(c.layers()), 1));
        return out;
    }

    private static List<Digest> layersOf(LayerStore store, Digest image) throws IOException {
        for (LayerStore.ImageInfo i : store.images()) {
            if (i.id().equals(image)) {
                return highestFirst(i.layers());
            }
        }
        throw new IOException("image " + image.shortHex() + " has no record");
    }

    private static List<Digest> highestFirst(List<Digest> baseFirst) {
        List<Digest> out = new ArrayList<>(baseFirst);
        java.util.Collections.reverse(out);
        return out;
    }

    private static List<Layer> lowers(LayerStore store, Digest image, List<Digest> layers, int firstIndex)
            throws IOException {
        Map<Digest, String> createdBy = new HashMap<>();
        for (LayerStore.HistoryEntry h : store.history(image.toString())) {
            if (h.layer() != null && h.createdBy() != null) {
                createdBy.put(h.layer(), h.createdBy());
            }
        }
        List<Layer> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Digest d = layers.get(i);
            Path dir = store.layout().layerDiff(d);
            out.add(new Layer(new LayerRef(firstIndex + i, "lower " + (i + 1), dir, false), d, createdBy.get(d)));
        }
        return out;
    }
}
