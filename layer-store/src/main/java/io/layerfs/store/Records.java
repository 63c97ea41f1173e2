package io.layerfs.store;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;

/** The store's metadata files, as JSON (digests in their {@code sha256:} string form). */
final class Records {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private Records() {
    }

    /**
     * layers/CHAINHEX/layer.json. parent is null for a bottom layer. blobDigest, blobSize and mediaType
     * describe layers/CHAINHEX/blob, the layer tar exactly as imported or committed (kept so that an
     * export reproduces the image's digests); null/0 for a layer stored before blobs were kept.
     */
    record Layer(String chainId, String diffId, String parent, long size, String created, String mediaType,
                 String blobDigest, long blobSize) {
    }

    /** images/IMAGEHEX/image.json. layers: chain IDs, bottom first. */
    record Image(String id, List<String> layers, List<String> diffIds, String created, String source) {
    }

    /** containers/NAME/container.json. layers: chain IDs, bottom first. */
    record Container(String name, String image, List<String> layers, String created) {
    }

    static byte[] toJson(Object record) {
        return (GSON.toJson(record) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    static <T> T fromJson(byte[] json, Class<T> type, String what) throws StoreException {
        try {
            T t = GSON.fromJson(new String(json, StandardCharsets.UTF_8), type);
            if (t == null) {
                throw new JsonParseException("empty");
            }
            return t;
        } catch (JsonParseException e) {
            throw new StoreException(StoreException.Kind.BAD_CONTENT, "corrupt " + what + ": " + e.getMessage(), e);
        }
    }

    static Gson gson() {
        return GSON;
    }
}
