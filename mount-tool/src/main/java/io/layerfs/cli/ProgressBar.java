package io.layerfs.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

import io.layerfs.store.ImportProgress;

/**
 * The import progress bar on a terminal: one line per step, redrawn in place (carriage return, then
 * "erase to end of line") at most every {@link #REDRAW_NANOS}, and finished with a newline and the
 * step's average rate. Steps smaller than {@link #MIN_BYTES} are not drawn at all: a small import
 * prints only its result. What a line looks like is {@link #line}, a pure function, so tests check
 * the formatting without a terminal or a clock.
 */
final class ProgressBar implements ImportProgress {
    static final long MIN_BYTES = 8L << 20;
    static final long REDRAW_NANOS = 200_000_000L;
    private static final int BAR_WIDTH = 24;

    private final PrintWriter out;
    private final LongSupplier nanoClock;
    private String what;
    private long total;
    private long done;
    private long startNanos;
    private long lastDrawNanos;
    private boolean drawn;

    ProgressBar(PrintWriter out, LongSupplier nanoClock) {
        this.out = out;
        this.nanoClock = nanoClock;
    }

    @Override
    public void start(String what, long totalBytes) {
        this.what = what;
        this.total = totalBytes;
        this.done = 0;
        this.startNanos = nanoClock.getAsLong();
        this.lastDrawNanos = startNanos;
        this.drawn = false;
    }

    @Override
    public void advance(long doneBytes) {
        done = doneBytes;
        if (total >= 0 && total < MIN_BYTES) {
            return;
        }
        long now = nanoClock.getAsLong();
        if (now - lastDrawNanos >= REDRAW_NANOS) {
            lastDrawNanos = now;
            out.print("\r" + line(what, done, total, now - startNanos) + "\u001b[K");
            out.flush();
            drawn = true;
        }
    }

    @Override
    public void finish() {
        if (drawn) {
            out.print("\r" + line(what, done, total, nanoClock.getAsLong() - startNanos) + "\u001b[K\n");
            out.flush();
        }
        drawn = false;
    }

    /**
     * One line: {@code layer 2/5 3f2a1b2c4d5e [=========>            ]  40%  400.0 MiB / 1.0 GiB  85.3 MiB/s}.
     * With an unknown total (-1) the bar and percentage are left out. The rate is done over elapsed
     * time; before any time has passed it reads "-".
     */
    static String line(String what, long done, long total, long elapsedNanos) {
        StringBuilder sb = new StringBuilder(what);
        if (total > 0) {
            double fraction = Math.min(1.0, (double) done / total);
            int filled = (int) Math.floor(fraction * BAR_WIDTH);
            sb.append(" [");
            for (int i = 0; i < BAR_WIDTH; i++) {
                sb.append(i < filled - 1 || (i == filled - 1 && filled == BAR_WIDTH) ? '='
                        : i == filled - 1 ? '>' : ' ');
            }
            sb.append(String.format(Locale.ROOT, "] %3d%%  %s / %s", (int) Math.floor(fraction * 100), bytes(done),
                    bytes(total)));
        } else {
            sb.append("  ").append(bytes(done));
        }
        sb.append("  ").append(elapsedNanos <= 0 ? "-" : bytes((long) (done * 1e9 / elapsedNanos)) + "/s");
        return sb.toString();
    }

    /** Binary units with one decimal: 512 B, 1.5 KiB, 400.0 MiB, 1.0 GiB. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
