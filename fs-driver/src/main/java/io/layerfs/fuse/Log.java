package io.layerfs.fuse;

import java.util.logging.Logger;

/**
 * The FUSE bindings' logger, made when something is first logged: making a Logger starts
 * java.util.logging (its LogManager, configuration and security properties), which took 24 ms of a
 * mount's start when the binding's classes made it on loading.
 */
final class Log {
    private Log() {
    }

    private static final class Holder {
        static final Logger LOG = Logger.getLogger("io.layerfs.fuse");
    }

    static Logger get() {
        return Holder.LOG;
    }
}
