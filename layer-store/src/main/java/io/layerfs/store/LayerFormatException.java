package io.layerfs.store;

/** A layer tar that is refused: hostile names, forged markers, bad digest, broken compression, too big. */
public final class LayerFormatException extends StoreException {
    public LayerFormatException(String message) {
        super(Kind.BAD_CONTENT, message);
    }

    public LayerFormatException(String message, Throwable cause) {
        super(Kind.BAD_CONTENT, message, cause);
    }
}
