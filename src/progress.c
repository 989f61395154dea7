#include "progress.h"

#include "clock.h"

#include <stdio.h>
#include <unistd.h>

void vsr_progress_init(vsr_progress *p, int64_t total, int wanted)
{
    *p = (vsr_progress){.enabled = wanted && isatty(STDERR_FILENO), .total = total};
    p->start = p->last_print = vsr_seconds();
}

void vsr_progress_update(vsr_progress *p, int64_t done, int final)
{
    if (!p->enabled)
        return;
    double now = vsr_seconds();
    if (!final && now - p->last_print < 0.25)
        return;
    if (final && !p->printed)
        return;
    p->last_print = now;
    p->printed = 1;
    double elapsed = now - p->start;
    double fps = elapsed > 0 ? done / elapsed : 0;
    fprintf(stderr, "\rframe %lld", (long long)done);
    if (p->total > 0)
        fprintf(stderr, "/%lld (%.0f%%)", (long long)p->total, 100.0 * done / p->total);
    fprintf(stderr, "  %.2f fps", fps);
    if (p->total > done && fps > 0) {
        long eta = (long)((p->total - done) / fps);
        fprintf(stderr, "  ETA %ld:%02ld:%02ld", eta / 3600, eta / 60 % 60, eta % 60);
    }
    fputs(final ? "\n" : "   ", stderr);
}
