package io.layerfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;

/** The progress bar's lines and when it draws them, with a hand-moved clock (no timing). */
class ProgressBarTest {
    private static final long MIB = 1L << 20;
    private static final long SECOND = 1_000_000_000L;

    @Test
    void line_partWayThrough_barPercentBytesAndRate() {
        assertEquals("layer 2/5 3f2a1b2c4d5e [========>               ]  39%  400.0 MiB / 1.0 GiB  80.0 MiB/s",
                ProgressBar.line("layer 2/5 3f2a1b2c4d5e", 400 * MIB, 1024 * MIB, 5 * SECOND));
    }

    @Test
    void line_done_fullBar() {
        assertEquals("x [========================] 100%  10.0 MiB / 10.0 MiB  5.0 MiB/s",
                ProgressBar.line("x", 10 * MIB, 10 * MIB, 2 * SECOND));
    }

    @Test
    void line_nothingYet_emptyBarAndNoRate() {
        assertEquals("x [                        ]   0%  0 B / 10.0 MiB  -", ProgressBar.line("x", 0, 10 * MIB, 0));
    }

    @Test
    void line_unknownTotal_bytesAndRateOnly() {
        assertEquals("unpack a.tar  1.5 KiB  1.5 KiB/s", ProgressBar.line("unpack a.tar", 1536, -1, SECOND));
    }

    @Test
    void bytes_units_binaryWithOneDecimal() {
        assertEquals("1023 B", ProgressBar.bytes(1023));
        assertEquals("1.0 KiB", ProgressBar.bytes(1024));
        assertEquals("1.5 GiB", ProgressBar.bytes(3L << 29));
        assertEquals("2.0 TiB", ProgressBar.bytes(2L << 40));
    }

    @Test
    void advance_largeStep_redrawsInPlaceAtMostEveryInterval() {
        long[] now = {0};
        StringWriter out = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(out), () -> now[0]);
        bar.start("layer 1/1 abc", 100 * MIB);
        bar.advance(MIB);
        assertEquals("", out.toString(), "nothing before the first interval");
        now[0] = ProgressBar.REDRAW_NANOS;
        bar.advance(10 * MIB);
        now[0] += ProgressBar.REDRAW_NANOS / 2;
        bar.advance(20 * MIB);
        assertEquals("\r" + ProgressBar.line("layer 1/1 abc", 10 * MIB, 100 * MIB, ProgressBar.REDRAW_NANOS)
                + "\u001b[K", out.toString(), "one redraw within an interval");
        now[0] = SECOND;
        bar.advance(100 * MIB);
        bar.finish();
        assertTrue(out.toString().endsWith("\r" + ProgressBar.line("layer 1/1 abc", 100 * MIB, 100 * MIB, SECOND)
                + "\u001b[K\n"), out.toString());
    }

    @Test
    void advance_smallStep_drawsNothing() {
        long[] now = {0};
        StringWriter out = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(out), () -> now[0]);
        bar.start("layer 1/1 abc", MIB);
        now[0] = 10 * SECOND;
        bar.advance(MIB);
        bar.finish();
        assertFalse(out.toString().contains("abc"), out.toString());
    }
}
