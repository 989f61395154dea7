/*
 * Progress while a run lasts. On a terminal: one line rewritten a few times a second. In a
 * log (stderr not a terminal): a plain line every VSR_PROGRESS_LOG_SECONDS from a thread of
 * its own, so that a chunk taking minutes still shows the run is alive. Silent with --quiet.
 */
#ifndef VSR_PROGRESS_H
#define VSR_PROGRESS_H

#include <pthread.h>
#include <stdint.h>

#define VSR_PROGRESS_LOG_SECONDS 5

enum { VSR_PROGRESS_OFF, VSR_PROGRESS_TERMINAL, VSR_PROGRESS_LOG };

typedef struct vsr_progress {
    int mode;      /* VSR_PROGRESS_* */
    int64_t total; /* frames expected; 0 = unknown */
    int exact;     /* total is a count we trust, not an estimate from the headers */
    double start, last_print;
    int printed;
    /* Shared with the log thread, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int thread_running, stopping;
    int64_t done;
    const char *busiest; /* the busiest stage so far, or NULL */
    /* Frames written now, asked by the log thread between updates: a chunk may take minutes
     * while the encoders catch up. Must be thread-safe. */
    int64_t (*frames_done)(void *opaque);
    void *opaque;
} vsr_progress;

/* `wanted`: not --quiet. Starts the log thread in a log, which calls frames_done(opaque). */
void vsr_progress_init(vsr_progress *p, int64_t total, int exact, int wanted,
                       int64_t (*frames_done)(void *opaque), void *opaque);
/* `done` frames are written; `busiest` names the busiest stage so far (a static string, or
 * NULL). On a terminal prints at most a few times a second. */
void vsr_progress_update(vsr_progress *p, int64_t done, const char *busiest);
/* Ends the terminal line and stops the log thread. */
void vsr_progress_finish(vsr_progress *p, int64_t done);

/* The text of one progress report, without line end: pure, for the tests and both modes. */
void vsr_progress_format(char *buf, size_t size, int64_t done, int64_t total, int exact,
                         double elapsed, const char *busiest);

#endif
