/*
 * Hard-cut detection, cheap and deterministic.
 *
 * Each frame is reduced to a small luma thumbnail (area average on a fixed grid) and a
 * coarse RGB histogram. Samples are quantised to 8 bits first and everything after that
 * is integer arithmetic, so the result does not depend on the compiler, the machine or
 * floating-point contraction; the few doubles at the end are single correctly rounded
 * operations on exact integers.
 *
 * The main distance between consecutive frames is structural: 1 - Pearson correlation of
 * the thumbnails, at the best of a few small global shifts so that pans match themselves.
 * It ignores gain and offset, so fades and flashes (mostly a change of
 * brightness) barely move it, and a thumbnail averages away small moving people and noise.
 * A cut needs it to be large in absolute terms and large against the recent typical
 * distance (adaptive threshold), so that steady fast camera motion does not fire.
 *
 * A flat frame (black leader, uniform colour) has no structure to correlate. Next to one
 * the colour distance decides instead: the fraction of pixels that changed histogram bin.
 * A fade passes through dim frames whose pixels all sit in the darkest bin, so it moves
 * little; a black frame followed by a picture moves most pixels.
 */
#include "scenecut.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define THUMB_W 64
#define THUMB_H 36
#define HIST_LEVELS 4 /* per channel: 4 x 4 x 4 bins */
#define HIST_BINS (HIST_LEVELS * HIST_LEVELS * HIST_LEVELS)
#define HISTORY 8 /* frames of recent structure distance for the adaptive threshold */
#define SHIFT_X 4 /* thumbnail cells of global motion searched, about 6 % of the width */
#define SHIFT_Y 2

/*
 * Thresholds, from the real clips of tests/ (see docs/CHUNKS.md): at Megamind.avi's cuts the
 * structure distance is 0.70-0.83, everywhere else in it and in vtest.avi at most 0.06.
 */
#define CUT_MIN_STRUCTURE 0.35 /* 1 - correlation */
#define CUT_RELATIVE 3.0       /* times the recent mean structure distance */
#define CUT_MIN_COLOUR 0.20    /* fraction of pixels changing histogram bin, next to a flat frame */
/* A thumbnail whose luma standard deviation (8-bit units) is below this is flat. */
#define FLAT_STDDEV 2.0

struct vsr_scenecut {
    int width, height;
    int thumb_w, thumb_h;
    int *cell_x;         /* thumbnail column of each frame column */
    int *cell_y;         /* thumbnail row of each frame row */
    int64_t *cell_sum;   /* luma sums of the frame being pushed */
    int64_t *cell_count; /* pixels per cell */
    int64_t *thumb[2];   /* luma means, 0..65280; [cur] is the newest frame */
    int64_t hist[2][HIST_BINS];
    int cur;
    int64_t frames;
    double history[HISTORY];
    int history_len, history_pos;
};

vsr_scenecut *vsr_scenecut_alloc(int width, int height)
{
    if (width < 1 || height < 1)
        return NULL;
    vsr_scenecut *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return NULL;
    sc->width = width;
    sc->height = height;
    sc->thumb_w = width < THUMB_W ? width : THUMB_W;
    sc->thumb_h = height < THUMB_H ? height : THUMB_H;
    size_t cells = (size_t)sc->thumb_w * sc->thumb_h;
    sc->cell_x = malloc(sizeof(*sc->cell_x) * width);
    sc->cell_y = malloc(sizeof(*sc->cell_y) * height);
    sc->cell_sum = calloc(cells, sizeof(*sc->cell_sum));
    sc->cell_count = calloc(cells, sizeof(*sc->cell_count));
    sc->thumb[0] = calloc(cells, sizeof(*sc->thumb[0]));
    sc->thumb[1] = calloc(cells, sizeof(*sc->thumb[1]));
    if (!sc->cell_x || !sc->cell_y || !sc->cell_sum || !sc->cell_count || !sc->thumb[0] ||
        !sc->thumb[1]) {
        vsr_scenecut_free(&sc);
        return NULL;
    }
    for (int x = 0; x < width; x++)
        sc->cell_x[x] = (int)((int64_t)x * sc->thumb_w / width);
    for (int y = 0; y < height; y++)
        sc->cell_y[y] = (int)((int64_t)y * sc->thumb_h / height);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            sc->cell_count[(size_t)sc->cell_y[y] * sc->thumb_w + sc->cell_x[x]]++;
    return sc;
}

void vsr_scenecut_free(vsr_scenecut **sc)
{
    if (!sc || !*sc)
        return;
    free((*sc)->cell_x);
    free((*sc)->cell_y);
    free((*sc)->cell_sum);
    free((*sc)->cell_count);
    free((*sc)->thumb[0]);
    free((*sc)->thumb[1]);
    free(*sc);
    *sc = NULL;
}

/*
 * [0, 1] to 0..255 by truncation: the product by 256 is exact, so no rounding mode or
 * contraction can change the result. NaN and out-of-range samples are clamped (NaN to 0).
 */
static int quantise(float v)
{
    if (!(v > 0.0f)) /* also NaN */
        return 0;
    return v < 1.0f ? (int)(v * 256.0f) : 255;
}

/* Fills thumb[cur] and hist[cur] from one frame. */
static void measure(vsr_scenecut *sc, const float *rgb)
{
    const size_t plane = (size_t)sc->width * sc->height;
    const size_t cells = (size_t)sc->thumb_w * sc->thumb_h;
    int64_t *hist = sc->hist[sc->cur];

    memset(sc->cell_sum, 0, cells * sizeof(*sc->cell_sum));
    memset(hist, 0, sizeof(sc->hist[0]));
    for (int y = 0; y < sc->height; y++) {
        const float *r = rgb + (size_t)y * sc->width;
        const float *g = r + plane, *b = g + plane;
        int64_t *row_sum = sc->cell_sum + (size_t)sc->cell_y[y] * sc->thumb_w;
        for (int x = 0; x < sc->width; x++) {
            int qr = quantise(r[x]), qg = quantise(g[x]), qb = quantise(b[x]);
            /* BT.709 luma weights in 1/256 units (54 + 183 + 19 = 256). */
            row_sum[sc->cell_x[x]] += 54 * qr + 183 * qg + 19 * qb;
            hist[((qr >> 6) * HIST_LEVELS + (qg >> 6)) * HIST_LEVELS + (qb >> 6)]++;
        }
    }
    for (size_t i = 0; i < cells; i++)
        sc->thumb[sc->cur][i] = sc->cell_sum[i] / sc->cell_count[i];
}

/*
 * 1 - correlation of the previous thumbnail at (x, y) with the newest at (x + dx, y + dy),
 * over the cells where both exist. Returns -1 when either side of the overlap is flat.
 */
static double shifted_distance(const vsr_scenecut *sc, int dx, int dy)
{
    const int64_t *a = sc->thumb[sc->cur ^ 1], *b = sc->thumb[sc->cur];
    const int w = sc->thumb_w, h = sc->thumb_h;
    const int x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? w - dx : w;
    const int y0 = dy < 0 ? -dy : 0, y1 = dy > 0 ? h - dy : h;
    if (x1 - x0 < 1 || y1 - y0 < 1)
        return -1.0;
    /* Exact integer moments: values < 2^16 and n <= 2304, so n * sum(a*b) < 2^60. */
    const int64_t n = (int64_t)(x1 - x0) * (y1 - y0);
    int64_t sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int y = y0; y < y1; y++) {
        const int64_t *ra = a + (size_t)y * w, *rb = b + (size_t)(y + dy) * w + dx;
        for (int x = x0; x < x1; x++) {
            sa += ra[x];
            sb += rb[x];
            saa += ra[x] * ra[x];
            sbb += rb[x] * rb[x];
            sab += ra[x] * rb[x];
        }
    }
    const int64_t var_a = n * saa - sa * sa, var_b = n * sbb - sb * sb, cov = n * sab - sa * sb;
    /* var = n^2 * stddev^2, stddev in luma units of 256 per 8-bit step. */
    const double flat = (double)n * n * (FLAT_STDDEV * 256.0) * (FLAT_STDDEV * 256.0);
    if ((double)var_a < flat || (double)var_b < flat)
        return -1.0;
    return 1.0 - (double)cov / sqrt((double)var_a * (double)var_b);
}

/*
 * The structure distance: the smallest shifted distance over small global shifts, so a
 * pan of up to SHIFT_X / SHIFT_Y thumbnail cells per frame still matches itself.
 * Returns -1 when the unshifted thumbnails are flat.
 */
static double structure_distance(const vsr_scenecut *sc)
{
    double best = shifted_distance(sc, 0, 0);
    if (best < 0.0)
        return -1.0;
    for (int dy = -SHIFT_Y; dy <= SHIFT_Y; dy++) {
        for (int dx = -SHIFT_X; dx <= SHIFT_X; dx++) {
            double d = shifted_distance(sc, dx, dy);
            if (d >= 0.0 && d < best)
                best = d;
        }
    }
    return best;
}

/* Half the L1 distance of the two histograms: the fraction of pixels that moved bin. */
static double colour_distance(const vsr_scenecut *sc)
{
    const int64_t *a = sc->hist[sc->cur ^ 1], *b = sc->hist[sc->cur];
    int64_t l1 = 0;
    for (int i = 0; i < HIST_BINS; i++)
        l1 += llabs(a[i] - b[i]);
    return (double)l1 / (2.0 * (double)sc->width * sc->height);
}

static double history_mean(const vsr_scenecut *sc)
{
    double sum = 0.0;
    for (int i = 0; i < sc->history_len; i++)
        sum += sc->history[i];
    return sc->history_len ? sum / sc->history_len : 0.0;
}

static void history_add(vsr_scenecut *sc, double d)
{
    sc->history[sc->history_pos] = d;
    sc->history_pos = (sc->history_pos + 1) % HISTORY;
    if (sc->history_len < HISTORY)
        sc->history_len++;
}

int vsr_scenecut_push(vsr_scenecut *sc, const float *rgb)
{
    if (!sc || !rgb)
        return 0;
    sc->cur ^= 1;
    measure(sc, rgb);
    if (sc->frames++ == 0)
        return 0;

    const double structure = structure_distance(sc);
    int cut;
    if (structure < 0.0)
        cut = colour_distance(sc) >= CUT_MIN_COLOUR;
    else
        cut = structure >= CUT_MIN_STRUCTURE && structure >= CUT_RELATIVE * history_mean(sc);
    /* Cuts go into the history too: a burst of large distances (a whip pan, strobing)
     * then raises the threshold after its first frame instead of firing on every one. */
    if (structure >= 0.0)
        history_add(sc, structure);
    return cut;
}
