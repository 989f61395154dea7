/*
 * Planar float R'G'B' -> encoder planes, exactly as documented in colour.h. The engine
 * shim implements the same definition in torch; keep the two in step.
 *
 * Rows are processed in blocks of BLOCK samples: floats are computed into small stack
 * buffers with straight-line loops the compiler vectorises, then rounded and stored as
 * bytes or uint16 by one function.
 */
#include "colour.h"

enum { BLOCK = 256 };

/* Precomputed constants of one layout. */
typedef struct quantiser {
    int rgb, bits, chroma_w_shift;
    float kr, kg, kb;
    float cb_scale, cr_scale; /* 1 / (2 (1 - kb)), 1 / (2 (1 - kr)) */
    float y_mul, y_add;       /* code = Y' * y_mul + y_add */
    float c_mul, c_add;       /* code = C * c_mul + c_add */
    float max_code;
} quantiser;

static quantiser quantiser_init(const vsr_pixel_layout *l)
{
    quantiser q = {.rgb = l->rgb, .bits = l->bits, .chroma_w_shift = l->chroma_w_shift};
    double max_code = (double)((1 << l->bits) - 1);
    double unit = (double)(1 << (l->bits - 8));
    q.kr = (float)l->kr;
    q.kb = (float)l->kb;
    q.kg = (float)(1.0 - l->kr - l->kb);
    q.cb_scale = (float)(1.0 / (2.0 * (1.0 - l->kb)));
    q.cr_scale = (float)(1.0 / (2.0 * (1.0 - l->kr)));
    if (l->full_range) {
        q.y_mul = q.c_mul = (float)max_code;
        q.y_add = 0.0f;
        q.c_add = (float)(1 << (l->bits - 1));
    } else {
        q.y_mul = (float)(219.0 * unit);
        q.y_add = (float)(16.0 * unit);
        q.c_mul = (float)(224.0 * unit);
        q.c_add = (float)(128.0 * unit);
    }
    q.max_code = (float)max_code;
    return q;
}

/* Maps NaN to 0 as well: comparisons with NaN are false. */
static inline float clamp01(float v)
{
    v = v > 0.0f ? v : 0.0f;
    return v < 1.0f ? v : 1.0f;
}

static inline float luma_of(const quantiser *q, float r, float g, float b)
{
    return q->kr * r + q->kg * g + q->kb * b;
}

/* floor(v + 0.5) clipped to [0, max_code], as bytes (bits == 8) or native uint16. */
static void store_codes(const float *v, int n, const quantiser *q, uint8_t *dst)
{
    const float max_code = q->max_code;
    if (q->bits > 8) {
        uint16_t *d = (uint16_t *)dst;
        for (int i = 0; i < n; i++) {
            float t = v[i] + 0.5f;
            t = t > 0.0f ? t : 0.0f;
            d[i] = (uint16_t)(t < max_code ? t : max_code);
        }
    } else {
        for (int i = 0; i < n; i++) {
            float t = v[i] + 0.5f;
            t = t > 0.0f ? t : 0.0f;
            dst[i] = (uint8_t)(t < max_code ? t : max_code);
        }
    }
}

static uint8_t *sample_at(const vsr_planes *out, int plane, int y, int x, int bits)
{
    return out->data[plane] + (size_t)y * out->linesize[plane] + (size_t)x * (bits > 8 ? 2 : 1);
}

static void quantise_rgb_row(const float *const src[3], int w, int y, const quantiser *q,
                             const vsr_planes *out)
{
    static const int plane_of[3] = {2, 0, 1}; /* R, G, B go to gbrp planes 2, 0, 1 */
    float codes[BLOCK];
    for (int c = 0; c < 3; c++) {
        for (int x0 = 0; x0 < w; x0 += BLOCK) {
            int n = w - x0 < BLOCK ? w - x0 : BLOCK;
            const float *s = src[c] + x0;
            for (int i = 0; i < n; i++)
                codes[i] = clamp01(s[i]) * q->max_code;
            store_codes(codes, n, q, sample_at(out, plane_of[c], y, x0, q->bits));
        }
    }
}

/* Y' codes of n samples. */
static void quantise_luma(const float *r, const float *g, const float *b, int n, const quantiser *q,
                          float *yc)
{
    for (int i = 0; i < n; i++)
        yc[i] = luma_of(q, clamp01(r[i]), clamp01(g[i]), clamp01(b[i])) * q->y_mul + q->y_add;
}

/* Y', Cb and Cr codes of n samples (4:4:4). */
static void quantise_444(const float *r, const float *g, const float *b, int n, const quantiser *q,
                         float *yc, float *cb, float *cr)
{
    for (int i = 0; i < n; i++) {
        float rr = clamp01(r[i]), gg = clamp01(g[i]), bb = clamp01(b[i]);
        float l = luma_of(q, rr, gg, bb);
        yc[i] = l * q->y_mul + q->y_add;
        cb[i] = (bb - l) * q->cb_scale * q->c_mul + q->c_add;
        cr[i] = (rr - l) * q->cr_scale * q->c_mul + q->c_add;
    }
}

/* Chroma samples cx0 .. cx0+n-1 of 4:2:2, co-sited with luma 2cx and filtered [1 2 1]/4.
 * Cb and Cr are linear in R'G'B', so filtering the clamped R'G'B' first is the same. */
static void quantise_chroma_422(const float *r, const float *g, const float *b, int w, int cx0,
                                int n, const quantiser *q, float *cb, float *cr)
{
    for (int i = 0; i < n; i++) {
        int x = 2 * (cx0 + i);
        int xl = x > 0 ? x - 1 : 0, xr = x + 1 < w ? x + 1 : w - 1;
        float rr = 0.25f * (clamp01(r[xl]) + 2.0f * clamp01(r[x]) + clamp01(r[xr]));
        float gg = 0.25f * (clamp01(g[xl]) + 2.0f * clamp01(g[x]) + clamp01(g[xr]));
        float bb = 0.25f * (clamp01(b[xl]) + 2.0f * clamp01(b[x]) + clamp01(b[xr]));
        float l = luma_of(q, rr, gg, bb);
        cb[i] = (bb - l) * q->cb_scale * q->c_mul + q->c_add;
        cr[i] = (rr - l) * q->cr_scale * q->c_mul + q->c_add;
    }
}

static void quantise_yuv_row(const float *const src[3], int w, int y, const quantiser *q,
                             const vsr_planes *out)
{
    float yc[BLOCK], cb[BLOCK], cr[BLOCK];
    for (int x0 = 0; x0 < w; x0 += BLOCK) {
        int n = w - x0 < BLOCK ? w - x0 : BLOCK;
        const float *r = src[0] + x0, *g = src[1] + x0, *b = src[2] + x0;
        if (!q->chroma_w_shift) {
            quantise_444(r, g, b, n, q, yc, cb, cr);
            store_codes(yc, n, q, sample_at(out, 0, y, x0, q->bits));
            store_codes(cb, n, q, sample_at(out, 1, y, x0, q->bits));
            store_codes(cr, n, q, sample_at(out, 2, y, x0, q->bits));
        } else {
            /* BLOCK is even, so each block owns chroma samples x0/2 .. (x0+n+1)/2 - 1. */
            int cx0 = x0 / 2, cn = (n + 1) / 2;
            quantise_luma(r, g, b, n, q, yc);
            store_codes(yc, n, q, sample_at(out, 0, y, x0, q->bits));
            quantise_chroma_422(src[0], src[1], src[2], w, cx0, cn, q, cb, cr);
            store_codes(cb, cn, q, sample_at(out, 1, y, cx0, q->bits));
            store_codes(cr, cn, q, sample_at(out, 2, y, cx0, q->bits));
        }
    }
}

void vsr_colour_quantise_rows(const float *rgb, int w, int h, const vsr_pixel_layout *layout,
                              const vsr_planes *out, int y_begin, int y_end)
{
    quantiser q = quantiser_init(layout);
    size_t n = (size_t)w * h;
    for (int y = y_begin; y < y_end; y++) {
        const float *row = rgb + (size_t)y * w;
        const float *const src[3] = {row, row + n, row + 2 * n};
        if (q.rgb)
            quantise_rgb_row(src, w, y, &q, out);
        else
            quantise_yuv_row(src, w, y, &q, out);
    }
}

void vsr_colour_quantise(const float *rgb, int w, int h, const vsr_pixel_layout *layout,
                         const vsr_planes *out)
{
    vsr_colour_quantise_rows(rgb, w, h, layout, out, 0, h);
}
