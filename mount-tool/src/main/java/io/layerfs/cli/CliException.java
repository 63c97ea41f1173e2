package io.layerfs.cli;

/**
 * A problem the user can fix, reported as one {@code layerfs: <problem>} line, an optional
 * {@code hint:} line, and {@link #exitCode}. Only {@link Main} prints it.
 */
final class CliException extends Exception {
    final ExitCode exitCode;
    /** What to try next, or null. */
    final String hint;

    CliException(ExitCode exitCode, String problem) {
        this(exitCode, problem, null);
    }

    CliException(ExitCode exitCode, String problem, String hint) {
        super(problem, null, false, false);
        this.exitCode = exitCode;
        this.hint = hint;
    }
}
