/* The progress text: counts it trusts, estimates marked "~", no ETA past a wrong count. */
#include <string.h>

#include "check.h"
#include "progress.h"

static void expect(int64_t done, int64_t total, int exact, double elapsed, const char *busiest,
                   const char *want)
{
    char got[256];
    vsr_progress_format(got, sizeof(got), done, total, exact, elapsed, busiest);
    CHECK(strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got, want);
}

int main(void)
{
    expect(50, 250, 1, 10, "engine",
           "frame 50 of 250 (20%), 5.00 fps, ETA 0:00:40, busiest: engine");
    expect(50, 444, 0, 10, NULL, "frame 50 of ~444 (11%), 5.00 fps, ETA ~0:01:19");
    /* A header that said 444 for a file of more frames, or fewer: past the count, no count. */
    expect(500, 444, 0, 100, "read", "frame 500, 5.00 fps, busiest: read");
    expect(444, 444, 0, 100, NULL, "frame 444, 4.44 fps");
    expect(0, 250, 1, 0, NULL, "frame 0 of 250 (0%), 0.00 fps"); /* no rate yet: no ETA */
    expect(7, 0, 0, 2, NULL, "frame 7, 3.50 fps");
    expect(3600 * 5, 3600 * 10, 1, 3600, NULL, "frame 18000 of 36000 (50%), 5.00 fps, ETA 1:00:00");
    char small[8];
    vsr_progress_format(small, sizeof(small), 123456, 999999, 1, 1, "engine");
    CHECK(strlen(small) == 7, "truncated safely: \"%s\"", small);
    return check_summary();
}
