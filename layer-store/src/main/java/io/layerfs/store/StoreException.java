package io.layerfs.store;

import java.io.IOException;

/**
 * A request the store refuses, with a message meant for the user. {@link Kind} lets a command pick its
 * exit status without parsing the message.
 */
public class StoreException extends IOException {
    /** Why the store said no. */
    public enum Kind {
        /** No image, layer or container of that name. */
        NOT_FOUND,
        /** A name is taken already (container name). */
        EXISTS,
        /** An image or layer is malformed, hostile, or does not match its digest. */
        BAD_CONTENT,
        /** A name or argument is not acceptable. */
        INVALID,
        /** In use: a container still uses the image, a mount is active. */
        BUSY
    }

    private final Kind kind;

    public StoreException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public StoreException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
