package io.layerfs.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.layerfs.store.Digest;
import io.layerfs.store.LayerStore;

/**
 * One OS process of {@link StoreConcurrencyTest}: runs the real CLI ({@link Main#run}) in a loop on a
 * shared store, and after each import checks what must hold while its own tag pins the image (every
 * layer of it is stored). Prints the first failure on stderr and exits 1; exits 0 when all went well.
 *
 * <p>Arguments: ROOT ID ITERATIONS CHURN_IMAGE IMAGE... — iteration i imports IMAGE[(ID + i) % n] as
 * {@code wID-i} (kept), creates container {@code cID-i} from it (removed again when i is odd), imports
 * CHURN_IMAGE as {@code tID-i}, removes that name again and runs gc, so the churn image's layers are
 * stored and collected over and over while other workers import them.
 */
final class StoreWorker {
    private StoreWorker() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        int id = Integer.parseInt(args[1]);
        int iterations = Integer.parseInt(args[2]);
        String churn = args[3];
        List<String> images = List.of(args).subList(4, args.length);
        Path cwd = Path.of("").toAbsolutePath();
        try {
            for (int i = 0; i < iterations; i++) {
                String tag = "w" + id + "-" + i;
                String churnTag = "t" + id + "-" + i;
                cli(cwd, "image", "import", "--root", root.toString(), images.get((id + i) % images.size()), "--tag", tag);
                cli(cwd, "image", "import", "--root", root.toString(), churn, "--tag", churnTag);
                requireLayers(root, tag);
                requireLayers(root, churnTag);
                cli(cwd, "create", "--root", root.toString(), tag, "--name", "c" + id + "-" + i);
                if (i % 2 == 1) {
                    cli(cwd, "rm", "--root", root.toString(), "c" + id + "-" + i);
                }
                cli(cwd, "image", "rm", "--root", root.toString(), churnTag);
                cli(cwd, "gc", "--root", root.toString());
            }
        } catch (IllegalStateException e) {
            System.err.println("worker " + id + ": " + e.getMessage());
            System.exit(1);
        }
        System.exit(0);
    }

    private static void cli(Path cwd, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(args, LinuxHost.INSTANCE, cwd, new PrintWriter(out, true), new PrintWriter(err, true));
        if (rc != 0) {
            throw new IllegalStateException(String.join(" ", args) + " exited " + rc + ": " + err.toString().trim());
        }
    }

    /** While tag names the image, each of its layers must be stored, with its record and diff directory. */
    private static void requireLayers(Path root, String tag) throws Exception {
        LayerStore store = LayerStore.open(root);
        Digest image = store.resolveImage(tag);
        List<Digest> missing = new ArrayList<>();
        boolean listed = false;
        for (LayerStore.ImageInfo info : store.images()) {
            if (info.id().equals(image)) {
                listed = true;
                for (Digest layer : info.layers()) {
                    if (!Files.isDirectory(store.layout().layerDiff(layer))
                            || !Files.isRegularFile(store.layout().layerRecord(layer))) {
                        missing.add(layer);
                    }
                }
            }
        }
        if (!listed) {
            throw new IllegalStateException("tag " + tag + " names image " + image.shortHex() + ", which is not stored");
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("image " + tag + " lacks layers " + missing);
        }
    }
}
