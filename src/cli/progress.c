#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static void format_time(char *buf, size_t size, double seconds)
{
    long s = (long)(seconds + 0.5);
    snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}

/* Appends to buf[*len..size), truncating: *len never passes size - 1. */
static void append(char *buf, size_t size, size_t *len, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = vsnprintf(buf + *len, size - *len, format, args);
    va_end(args);
    if (n > 0)
        *len = *len + n < size ? *len + n : size - 1;
}

void vsr_progress_format(char *buf, size_t size, int64_t done, int64_t total, int exact,
                         double elapsed, const char *busiest)
{
    const double fps = elapsed > 0 ? done / elapsed : 0;
    const char *approx = exact ? "" : "~";
    size_t len = 0;
    if (size == 0)
        return;
    buf[0] = 0;
    append(buf, size, &len, "frame %lld", (long long)done);
    /* A header's count may be wrong (a 68-frame file saying 444): past it, it says nothing. */
    const int counted = total > 0 && done < total;
    if (counted)
        append(buf, size, &len, " of %s%lld (%.0f%%)", approx, (long long)total,
               100.0 * done / total);
    append(buf, size, &len, ", %.2f fps", fps);
    if (counted && fps > 0) {
        char eta[32];
        format_time(eta, sizeof(eta), (total - done) / fps);
        append(buf, size, &len, ", ETA %s%s", approx, eta);
    }
    if (busiest)
        append(buf, size, &len, ", busiest: %s", busiest);
}

static void print_line(vsr_progress *p, int64_t done, const char *busiest, const char *prefix,
                       const char *end)
{
    char line[256];
    vsr_progress_format(line, sizeof(line), done, p->total, p->exact, vsr_seconds() - p->start,
                        busiest);
    fprintf(stderr, "%s%s%s", prefix, line, end);
    fflush(stderr);
}

static void *log_thread(void *arg)
{
    vsr_progress *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += VSR_PROGRESS_LOG_SECONDS;
        while (!p->stopping && pthread_cond_timedwait(&p->wake, &p->lock, &until) == 0)
            ;
        if (p->stopping)
            break;
        int64_t done = p->frames_done(p->opaque);
        print_line(p, done > p->done ? done : p->done, p->busiest, "vsrup: progress: ", "\n");
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

void vsr_progress_init(vsr_progress *p, int64_t total, int exact, int wanted,
                       int64_t (*frames_done)(void *opaque), void *opaque)
{
    *p = (vsr_progress){
        .total = total, .exact = exact, .frames_done = frames_done, .opaque = opaque};
    p->mode = !wanted                 ? VSR_PROGRESS_OFF
              : isatty(STDERR_FILENO) ? VSR_PROGRESS_TERMINAL
                                      : VSR_PROGRESS_LOG;
    p->start = p->last_print = vsr_seconds();
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (p->mode == VSR_PROGRESS_LOG)
        p->thread_running = pthread_create(&p->thread, NULL, log_thread, p) == 0;
}

void vsr_progress_update(vsr_progress *p, int64_t done, const char *busiest)
{
    pthread_mutex_lock(&p->lock);
    p->done = done;
    p->busiest = busiest;
    pthread_mutex_unlock(&p->lock);
    double now = vsr_seconds();
    if (p->mode != VSR_PROGRESS_TERMINAL || now - p->last_print < 0.25)
        return;
    p->last_print = now;
    p->printed = 1;
    print_line(p, done, busiest, "\r", "   ");
}

void vsr_progress_finish(vsr_progress *p, int64_t done)
{
    if (p->thread_running) {
        pthread_mutex_lock(&p->lock);
        p->stopping = 1;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
        p->thread_running = 0;
    }
    if (p->mode == VSR_PROGRESS_TERMINAL && p->printed)
        print_line(p, done, p->busiest, "\r", "\n");
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
}
