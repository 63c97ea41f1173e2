package io.layerfs.cli;

import java.io.IOException;
import java.nio.file.Path;

import io.layerfs.store.LayerStore;
import io.layerfs.store.StoreException;
import io.layerfs.store.StoreLayout;
import picocli.CommandLine.Option;

/** {@code --root} for every store command, and the one place store errors become {@link CliException}s. */
final class StoreOptions {
    @Option(names = "--root", paramLabel = "DIR",
            description = "The store's directory (default: $LAYERFS_ROOT, else /var/lib/layerfs).")
    String root;

    LayerStore open(Path cwd) throws CliException {
        Path dir = StoreLayout.chooseRoot(root, System.getenv(), cwd);
        try {
            return LayerStore.open(dir);
        } catch (IOException e) {
            throw failure(e);
        }
    }

    static CliException failure(IOException e) {
        if (e instanceof StoreException s) {
            switch (s.kind()) {
                case NOT_FOUND:
                    return new CliException(ExitCode.NOT_FOUND, s.getMessage());
                case BAD_CONTENT:
                    return new CliException(ExitCode.BAD_IMAGE, s.getMessage());
                case INVALID:
                case EXISTS:
                    return new CliException(ExitCode.USAGE, s.getMessage());
                default:
                    return new CliException(ExitCode.FAILURE, s.getMessage());
            }
        }
        return new CliException(ExitCode.FAILURE, String.valueOf(e.getMessage()));
    }
}
