package io.layerfs.store;

/**
 * What an import reports while it reads (for a progress bar): a sequence of steps — unpacking an
 * archive, then each layer that is not stored yet — each with its total bytes and the bytes done so
 * far. Called on the importing thread, often (every read of a buffer), so an implementation throttles
 * its own output. A step always ends with {@link #finish}, also when the import fails.
 */
public interface ImportProgress {
    /** Reports nothing. */
    ImportProgress NONE = new ImportProgress() {
    };

    /**
     * A step begins. what: a short label ("layer 2/5 3f2a1b2c4d5e", "unpack image.tar"); totalBytes:
     * the bytes it reads (of the compressed blob, for a layer), or -1 when unknown.
     */
    default void start(String what, long totalBytes) {
    }

    /** doneBytes of the current step have been read. */
    default void advance(long doneBytes) {
    }

    /** The current step is over. */
    default void finish() {
    }
}
