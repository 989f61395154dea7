/*
 * vsr_chunk_fit_choose over a grid of budgets and per-frame costs, checked against what the
 * rule promises rather than against a copy of it: the chunk fits and is the longest that
 * does, an asked overlap is kept, a narrowed one is never narrower than it had to be and
 * still keeps 2/3 of the computed frames, and a bigger budget never narrows the overlap.
 */
#include <stdint.h>

#include "check.h"
#include "chunk_fit.h"
#include "plan.h"

static int64_t cost(int64_t per_computed, int64_t per_kept, int chunk, int overlap)
{
    return per_computed * (chunk + 2 * (int64_t)overlap) + per_kept * chunk;
}

/* Checks one choice; returns its overlap. */
static int check_one(int64_t room, int64_t pc, int64_t pk, int overlap, int asked)
{
    int chunk = -1, o = -1;
    int fits = vsr_chunk_fit_choose(room, pc, pk, overlap, asked, &chunk, &o);
    const int floor = overlap < VSR_CHUNK_FIT_MIN_OVERLAP ? overlap : VSR_CHUNK_FIT_MIN_OVERLAP;
    CHECK(chunk >= 1 && chunk <= VSR_PLAN_DEFAULT_CHUNK, "chunk %d in range", chunk);
    if (asked)
        CHECK(o == overlap, "asked overlap %d kept, got %d", overlap, o);
    else
        CHECK(o >= floor && o <= overlap, "overlap %d in [%d, %d]", o, floor, overlap);
    CHECK(fits == (cost(pc, pk, 1, o) <= room), "fits %d (room %lld, pc %lld, overlap %d)", fits,
          (long long)room, (long long)pc, o);
    if (!fits) {
        CHECK(chunk == 1, "no fit: chunk 1, got %d", chunk);
        CHECK(o == (asked ? overlap : floor), "no fit: overlap %d", o);
        return o;
    }
    CHECK(cost(pc, pk, chunk, o) <= room, "chunk %d overlap %d fits %lld", chunk, o,
          (long long)room);
    CHECK(chunk == VSR_PLAN_DEFAULT_CHUNK || cost(pc, pk, chunk + 1, o) > room,
          "chunk %d is the longest (room %lld, pc %lld, pk %lld, overlap %d)", chunk,
          (long long)room, (long long)pc, (long long)pk, o);
    if (!asked && o < overlap) {
        /* Narrowed: one more frame of context would have left a chunk under 4 overlaps. */
        int64_t wider = (room - 2 * (int64_t)(o + 1) * pc) / (pc + pk);
        CHECK(room < 2 * (int64_t)(o + 1) * pc ||
                  wider < VSR_CHUNK_FIT_OVERLAPS_PER_CHUNK * (int64_t)(o + 1),
              "overlap %d narrower than needed (room %lld, pc %lld)", o, (long long)room,
              (long long)pc);
    }
    /* Kept or narrowed to a chunk of 4 overlaps at least, unless the cap on chunks is shorter. */
    const int capped = chunk == VSR_PLAN_DEFAULT_CHUNK;
    if (!asked && o > floor && !capped)
        CHECK(chunk >= VSR_CHUNK_FIT_OVERLAPS_PER_CHUNK * o, "chunk %d >= 4 x overlap %d", chunk,
              o);
    double e = vsr_chunk_efficiency(chunk, o);
    CHECK(e > 0 && e <= 1, "efficiency %f", e);
    if (!asked && o > floor && !capped)
        CHECK(e >= 2.0 / 3 - 1e-9, "efficiency %f with a narrowed overlap", e);
    return o;
}

int main(void)
{
    /* The case: a cost that left chunk 1 with overlap 10 (21 frames for 1 kept). */
    int chunk, overlap;
    CHECK(vsr_chunk_fit_choose(21 * 100, 100, 0, 10, 0, &chunk, &overlap) && chunk == 15 &&
              overlap == 3,
          "21 frames of room: chunk %d overlap %d", chunk, overlap);
    CHECK(vsr_chunk_fit_choose(21 * 100, 100, 0, 10, 1, &chunk, &overlap) && chunk == 1 &&
              overlap == 10,
          "asked overlap 10: chunk %d overlap %d", chunk, overlap);
    /* Plenty of room: the defaults. */
    CHECK(vsr_chunk_fit_choose(INT64_C(1) << 40, 100, 10, 10, 0, &chunk, &overlap) &&
              chunk == VSR_PLAN_DEFAULT_CHUNK && overlap == 10,
          "plenty: chunk %d overlap %d", chunk, overlap);
    CHECK(!vsr_chunk_fit_choose(3 * 100, 100, 0, 10, 0, &chunk, &overlap) && chunk == 1 &&
              overlap == 2,
          "3 frames of room: no fit, chunk %d overlap %d", chunk, overlap);
    CHECK(vsr_chunk_efficiency(40, 6) > 0.769 && vsr_chunk_efficiency(40, 6) < 0.77 &&
              vsr_chunk_efficiency(1, 10) < 0.048 && vsr_chunk_efficiency(5, 0) == 1,
          "efficiency");

    const int64_t per_computed[] = {1, 3, 100, 4096, 1 << 20, INT64_C(300) << 20};
    const int64_t kept_share[] = {0, 1, 3}; /* per_kept = per_computed * share / 2 */
    const int overlaps[] = {0, 1, 2, 3, 10, 30};
    for (size_t a = 0; a < sizeof(per_computed) / sizeof(*per_computed); a++)
        for (size_t b = 0; b < sizeof(kept_share) / sizeof(*kept_share); b++)
            for (size_t c = 0; c < sizeof(overlaps) / sizeof(*overlaps); c++)
                for (int asked = 0; asked < 2; asked++) {
                    const int64_t pc = per_computed[a], pk = pc * kept_share[b] / 2;
                    int last = 0;
                    /* Rooms from nothing to more than the longest chunk needs, in steps of a
                     * third of a frame so that remainders are covered. */
                    for (int64_t thirds = 0; thirds <= 3 * 260; thirds++) {
                        int64_t room = pc * thirds / 3;
                        int o = check_one(room, pc, pk, overlaps[c], asked);
                        CHECK(o >= last, "overlap narrowed from %d to %d as the room grew to %lld",
                              last, o, (long long)room);
                        last = o;
                    }
                }
    return check_summary();
}
