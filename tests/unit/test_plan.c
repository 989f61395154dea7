/*
 * The chunk plan against its invariants, checked frame by frame from an independent
 * per-frame scene map: every clip length 1..60, chunk 1..12, overlap 0..8, several cut sets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "plan.h"

#define MAX_FRAMES 60
#define MAX_CHUNKS (MAX_FRAMES + 1)

/* A small fixed PRNG so the cut sets are the same on every run. */
static uint32_t rng_state = 0x2545F491u;
static uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Per-frame scene borders, derived directly from the set of cut frames. */
typedef struct scene_map {
    int64_t begin[MAX_FRAMES], end[MAX_FRAMES];
} scene_map;

static void scene_map_fill(scene_map *m, int frames, const int *is_cut)
{
    int b = 0;
    for (int f = 0; f < frames; f++) {
        if (f > 0 && is_cut[f])
            b = f;
        m->begin[f] = b;
    }
    int e = frames;
    for (int f = frames - 1; f >= 0; f--) {
        m->end[f] = e;
        if (is_cut[f])
            e = f;
    }
}

static int chunks_equal(vsr_chunk a, vsr_chunk b)
{
    return a.context_begin == b.context_begin && a.keep_begin == b.keep_begin &&
           a.keep_end == b.keep_end && a.context_end == b.context_end;
}

/* One plan against every invariant of docs/CHUNKS.md. */
static void check_plan(int frames, const int *is_cut, int T, int O)
{
    int64_t cuts[MAX_FRAMES];
    size_t ncuts = 0;
    for (int f = 1; f < frames; f++)
        if (is_cut[f])
            cuts[ncuts++] = f;
    scene_map m;
    scene_map_fill(&m, frames, is_cut);

    vsr_chunk plan[MAX_CHUNKS + 1];
    const vsr_chunk sentinel = {-7, -7, -7, -7};
    for (int i = 0; i <= MAX_CHUNKS; i++)
        plan[i] = sentinel;
    size_t n = vsr_plan_build(frames, cuts, ncuts, T, O, plan, MAX_CHUNKS);
    size_t n_count = vsr_plan_build(frames, cuts, ncuts, T, O, NULL, 0);
    CHECK(n == n_count, "count without output %zu != %zu", n_count, n);
    CHECK(n >= 1 && n <= MAX_CHUNKS, "frames=%d T=%d: %zu chunks", frames, T, n);
    if (n < 1 || n > MAX_CHUNKS)
        return;
    CHECK(chunks_equal(plan[n], sentinel), "wrote past the plan's end");

    /* Expected count: ceil(scene length / T) per scene. */
    size_t expect_n = 0;
    for (int f = 0; f < frames; f = (int)m.end[f])
        expect_n += (size_t)((m.end[f] - f + T - 1) / T);
    CHECK(n == expect_n, "frames=%d T=%d: %zu chunks, expected %zu", frames, T, n, expect_n);

    int kept[MAX_FRAMES] = {0};
    int64_t next_keep = 0;
    int failures_before = check_failed;
    for (size_t i = 0; i < n && check_failed == failures_before; i++) {
        vsr_chunk c = plan[i];
        CHECK(c.keep_begin == next_keep, "chunk %zu keeps from %lld, expected %lld", i,
              (long long)c.keep_begin, (long long)next_keep);
        CHECK(c.keep_begin < c.keep_end && c.keep_end - c.keep_begin <= T,
              "chunk %zu keep [%lld,%lld) T=%d", i, (long long)c.keep_begin, (long long)c.keep_end,
              T);
        CHECK(c.context_begin <= c.keep_begin && c.keep_end <= c.context_end,
              "chunk %zu context does not contain keep", i);
        if (c.keep_begin < 0 || c.keep_begin >= frames || c.keep_end > frames ||
            c.context_begin < 0 || c.context_end > frames) {
            CHECK(0, "chunk %zu outside the clip", i);
            break;
        }
        next_keep = c.keep_end;
        for (int64_t f = c.keep_begin; f < c.keep_end; f++)
            kept[f]++;

        int64_t sb = m.begin[c.keep_begin], se = m.end[c.keep_begin];
        /* Context stays inside the keep's scene. */
        CHECK(c.context_begin >= sb && c.context_end <= se,
              "chunk %zu context [%lld,%lld) leaves scene [%lld,%lld)", i,
              (long long)c.context_begin, (long long)c.context_end, (long long)sb, (long long)se);
        /* Chunks start at the scene's first frame and step by T; only a scene's last chunk
         * is short. */
        CHECK((c.keep_begin - sb) % T == 0, "chunk %zu starts off the T grid", i);
        CHECK(c.keep_end - c.keep_begin == T || c.keep_end == se, "chunk %zu short mid-scene", i);
        /* The overlap is cut only by scene borders. */
        int64_t want_cb = c.keep_begin - O < sb ? sb : c.keep_begin - O;
        int64_t want_ce = c.keep_end + O > se ? se : c.keep_end + O;
        CHECK(c.context_begin == want_cb && c.context_end == want_ce,
              "chunk %zu context [%lld,%lld), expected [%lld,%lld) (O=%d)", i,
              (long long)c.context_begin, (long long)c.context_end, (long long)want_cb,
              (long long)want_ce, O);
        /* Overlap covering the clip: every chunk sees its whole scene. */
        if (O >= frames)
            CHECK(c.context_begin == sb && c.context_end == se, "chunk %zu not whole scene", i);

        /* The single-chunk function agrees with the plan, and so does its streaming form
         * whenever the scene really reaches the streamed context end. */
        vsr_chunk one = vsr_plan_chunk(sb, se, c.keep_begin, T, O);
        CHECK(chunks_equal(one, c), "vsr_plan_chunk differs from the plan at chunk %zu", i);
        vsr_chunk streamed = vsr_plan_chunk(sb, VSR_SCENE_END_UNKNOWN, c.keep_begin, T, O);
        if (se >= streamed.context_end)
            CHECK(chunks_equal(streamed, c), "streamed chunk %zu differs", i);
        else
            CHECK(streamed.context_end > se && streamed.keep_begin == c.keep_begin,
                  "streamed chunk %zu should need frames past the scene", i);
    }
    CHECK(next_keep == frames, "plan keeps up to %lld of %d", (long long)next_keep, frames);
    for (int f = 0; f < frames; f++)
        CHECK(kept[f] == 1, "frame %d kept %d times (frames=%d T=%d O=%d)", f, kept[f], frames, T,
              O);

    /* A short output buffer gets exactly its first `cap` chunks. */
    if (n > 1) {
        vsr_chunk part[MAX_CHUNKS + 1];
        for (int i = 0; i <= MAX_CHUNKS; i++)
            part[i] = sentinel;
        size_t cap = n / 2;
        CHECK(vsr_plan_build(frames, cuts, ncuts, T, O, part, cap) == n, "count with small cap");
        CHECK(memcmp(part, plan, cap * sizeof(*part)) == 0, "first chunks differ with small cap");
        CHECK(chunks_equal(part[cap], sentinel), "wrote past cap");
    }
}

static void test_exhaustive(void)
{
    int is_cut[MAX_FRAMES];
    for (int frames = 1; frames <= MAX_FRAMES; frames++) {
        for (int T = 1; T <= 12; T++) {
            for (int O = 0; O <= 8; O++) {
                /* no cuts, a cut at every frame, then random sets of rising density */
                for (int set = 0; set < 6; set++) {
                    for (int f = 0; f < frames; f++) {
                        uint32_t r = rng_next() % 16;
                        is_cut[f] = set == 1 || (set >= 2 && r < (uint32_t)(set - 1) * 2);
                    }
                    is_cut[0] = 0;
                    check_plan(frames, is_cut, T, O);
                }
            }
        }
    }
}

/* One hand-worked example, written out in full. */
static void test_example(void)
{
    /* 14 frames, cut at 6, T=4, O=2: scenes [0,6) and [6,14). */
    const int64_t cuts[] = {6};
    const vsr_chunk want[] = {{0, 0, 4, 6}, {2, 4, 6, 6}, {6, 6, 10, 12}, {8, 10, 14, 14}};
    vsr_chunk got[8];
    size_t n = vsr_plan_build(14, cuts, 1, 4, 2, got, 8);
    CHECK(n == 4, "example: %zu chunks", n);
    for (size_t i = 0; i < 4 && i < n; i++)
        CHECK(chunks_equal(got[i], want[i]), "example chunk %zu: [%lld %lld %lld %lld]", i,
              (long long)got[i].context_begin, (long long)got[i].keep_begin,
              (long long)got[i].keep_end, (long long)got[i].context_end);
}

/* Cut lists with 0, repeats, disorder and out-of-range entries plan like the clean list. */
static void test_sloppy_cuts(void)
{
    const int64_t clean[] = {5, 9};
    const int64_t sloppy[] = {0, -3, 5, 5, 2, 9, 9, 40, 7};
    vsr_chunk a[16], b[16];
    size_t na = vsr_plan_build(20, clean, 2, 3, 1, a, 16);
    size_t nb = vsr_plan_build(20, sloppy, sizeof(sloppy) / sizeof(*sloppy), 3, 1, b, 16);
    CHECK(na == nb && memcmp(a, b, na * sizeof(*a)) == 0, "sloppy cuts plan differently");
    CHECK(vsr_plan_build(20, NULL, 3, 3, 1, b, 16) == vsr_plan_build(20, NULL, 0, 3, 1, a, 16),
          "NULL cuts with a count");
}

static void test_bad_values(void)
{
    vsr_chunk out[4];
    CHECK(vsr_plan_build(0, NULL, 0, 4, 2, out, 4) == 0, "zero frames");
    CHECK(vsr_plan_build(-5, NULL, 0, 4, 2, out, 4) == 0, "negative frames");
    CHECK(vsr_plan_build(10, NULL, 0, 0, 2, out, 4) == 0, "chunk 0");
    CHECK(vsr_plan_build(10, NULL, 0, -1, 2, out, 4) == 0, "negative chunk");
    CHECK(vsr_plan_build(10, NULL, 0, 4, -1, out, 4) == 0, "negative overlap");
    CHECK(vsr_plan_build(1000, NULL, 0, VSR_PLAN_DEFAULT_CHUNK, VSR_PLAN_DEFAULT_OVERLAP, NULL,
                         0) == (1000 + VSR_PLAN_DEFAULT_CHUNK - 1) / VSR_PLAN_DEFAULT_CHUNK,
          "the defaults make a plan");

    const vsr_chunk bad[] = {
        vsr_plan_chunk(0, 10, 3, 0, 2),  vsr_plan_chunk(0, 10, 3, 4, -1),
        vsr_plan_chunk(0, 10, 10, 4, 2), vsr_plan_chunk(5, 10, 4, 4, 2),
        vsr_plan_chunk(5, 5, 5, 4, 2),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        CHECK(bad[i].keep_begin == bad[i].keep_end && bad[i].context_begin == bad[i].keep_begin &&
                  bad[i].context_end == bad[i].keep_end,
              "bad call %zu gives a non-empty chunk", i);
}

/* Huge frame numbers and the streaming end must not overflow. */
static void test_large_numbers(void)
{
    const int64_t big = INT64_MAX - 10;
    vsr_chunk c = vsr_plan_chunk(big - 100, VSR_SCENE_END_UNKNOWN, big - 3, 1000, 1000);
    CHECK(c.keep_end == VSR_SCENE_END_UNKNOWN && c.context_end == VSR_SCENE_END_UNKNOWN &&
              c.context_begin == big - 100,
          "saturating at the streaming end");
    c = vsr_plan_chunk(0, VSR_SCENE_END_UNKNOWN, 1000000000000LL, 100, 20);
    CHECK(c.context_begin == 1000000000000LL - 20 && c.keep_end == 1000000000100LL &&
              c.context_end == 1000000000120LL,
          "long film, streaming");
    CHECK(vsr_plan_chunk(0, 50, 0, 100, INT32_MAX).context_end == 50, "overlap INT_MAX");
}

/*
 * Segments of a clip, each read with `overlap` context frames on both sides (clipped at
 * the clip's ends) and planned from its first kept frame with vsr_plan_chunk_in_range,
 * run exactly the chunks of the whole clip's plan when they start on chunk borders: the
 * joined segments equal one run. A range ending inside a chunk cuts only that chunk.
 */
static void test_segments(void)
{
    int is_cut[MAX_FRAMES];
    vsr_chunk whole[MAX_CHUNKS];
    for (int frames = 1; frames <= 40; frames++) {
        for (int T = 1; T <= 8; T++) {
            for (int O = 0; O <= 6; O++) {
                for (int set = 0; set < 3; set++) {
                    int64_t cuts[MAX_FRAMES];
                    size_t ncuts = 0;
                    for (int f = 0; f < frames; f++)
                        is_cut[f] = f > 0 && set > 0 && rng_next() % 8 < (uint32_t)set;
                    for (int f = 1; f < frames; f++)
                        if (is_cut[f])
                            cuts[ncuts++] = f;
                    scene_map m;
                    scene_map_fill(&m, frames, is_cut);
                    size_t n = vsr_plan_build(frames, cuts, ncuts, T, O, whole, MAX_CHUNKS);
                    /* every range [S, L) the plan's own chunk borders allow */
                    for (size_t a = 0; a < n; a++) {
                        for (size_t b = a; b < n; b++) {
                            const int64_t S = whole[a].keep_begin, L = whole[b].keep_end;
                            const int64_t first = S - O > 0 ? S - O : 0;
                            const int64_t last = L + O < frames ? L + O : frames;
                            size_t i = a;
                            int64_t keep = S;
                            while (keep < L) {
                                /* the scene as the segment sees it: cuts among its frames */
                                int64_t sb = m.begin[keep] > first ? m.begin[keep] : first;
                                int64_t se = m.end[keep] < last ? m.end[keep] : last;
                                vsr_chunk c = vsr_plan_chunk_in_range(sb, se, L, keep, T, O);
                                CHECK(i <= b && chunks_equal(c, whole[i]),
                                      "frames %d T %d O %d range [%lld, %lld): chunk at %lld "
                                      "is not the whole plan's",
                                      frames, T, O, (long long)S, (long long)L, (long long)keep);
                                keep = c.keep_end > keep ? c.keep_end : L;
                                i++;
                            }
                        }
                    }
                }
            }
        }
    }
    /* 20 frames, T 8, O 3, range [0, 5): the kept part stops at 5, context runs to 8 */
    vsr_chunk c = vsr_plan_chunk_in_range(0, 20, 5, 0, 8, 3);
    CHECK(chunks_equal(c, (vsr_chunk){0, 0, 5, 8}), "range cut inside a chunk");
    c = vsr_plan_chunk_in_range(0, 20, 5, 5, 8, 3);
    CHECK(c.keep_begin == c.keep_end && c.context_end == 5, "nothing to keep past the range");
}

int main(void)
{
    test_example();
    test_exhaustive();
    test_sloppy_cuts();
    test_bad_values();
    test_large_numbers();
    test_segments();
    return check_summary();
}
