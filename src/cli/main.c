/* vsrup: parse the command line, run the pipeline, report, exit with a meaningful code. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "batch.h"
#include "cli.h"
#include "join.h"
#include "log.h"
#include "pipeline.h"
#include "report.h"
#include "resume.h"

static vsr_run_signal run_signal;
static volatile sig_atomic_t quiet;

/* Appends the decimal `n` at p; async-signal-safe. */
static char *put_int(char *p, int n)
{
    char digits[12];
    int len = 0;
    do
        digits[len++] = (char)('0' + n % 10);
    while ((n /= 10) > 0 && len < (int)sizeof(digits));
    while (len)
        *p++ = digits[--len];
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* What the run still finishes after a first Ctrl-C: a chunk may take minutes. */
static void say_stopping(void)
{
    char line[192], *p = put_str(line, "vsrup: stopping");
    const int first = run_signal.first, last = run_signal.last, frames = run_signal.frames;
    if (first > 0) {
        p = put_str(p, first == last ? ": finishing chunk " : ": finishing chunks ");
        p = put_int(p, first);
        if (last > first)
            p = put_int(put_str(p, "-"), last);
        p = put_str(put_int(put_str(p, " ("), frames), " frames)");
    }
    p = put_str(p, ", Ctrl-C again to stop now\n");
    ssize_t ignored = write(STDERR_FILENO, line, p - line);
    (void)ignored;
}

static void on_signal(int signo)
{
    /* A second signal means "now": leave at once, the partial file may lack its trailer. */
    if (run_signal.stop)
        _exit(VSR_EXIT_INTERRUPTED);
    run_signal.stop = signo;
    if (!quiet)
        say_stopping();
}

/* A closed terminal (SIGHUP) stops the run like Ctrl-C. */
static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* --join: a remux that takes seconds, so no signal handling or progress line. */
static int join(const vsr_job *job)
{
    vsr_err err = {{0}};
    vsr_join_report report = {.output = job->output, .parts = job->join_parts};
    if (vsr_join(job->output, job->join_parts, job->join_count, job->overwrite, &report.stats,
                 &err) < 0) {
        vsr_log(VSR_LOG_ERROR, "%s", err.msg);
        report.exit_code = VSR_EXIT_FAILURE;
    } else {
        vsr_log(VSR_LOG_INFO, "joined %d parts into %s: %lld video frames, %d streams%s",
                report.stats.parts, job->output, (long long)report.stats.video_frames,
                report.stats.streams, report.stats.gaps ? " (with gaps, see above)" : "");
    }
    report.error = err.msg;
    vsr_err jerr = {{0}};
    if (job->json_path && vsr_report_write_join_json(&report, job->json_path, &jerr) < 0) {
        vsr_log(VSR_LOG_ERROR, "%s", jerr.msg);
        return VSR_EXIT_FAILURE;
    }
    return report.exit_code;
}

int main(int argc, char **argv)
{
    vsr_job job;
    vsr_err err = {{0}};
    int ret = vsr_cli_parse(argc, argv, &job, &err);
    if (ret == VSR_CLI_EXIT)
        return VSR_EXIT_OK;
    if (ret < 0) {
        vsr_log(VSR_LOG_ERROR, "%s", err.msg);
        return VSR_EXIT_USAGE;
    }
    vsr_log_set_level(job.quiet ? VSR_LOG_ERROR : job.verbose ? VSR_LOG_DEBUG : VSR_LOG_INFO);
    /* Progress piped into `head` must not kill the run, nor a file size limit the file's
     * end: writes fail with EPIPE / EFBIG instead, and the run goes on or ends cleanly. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    av_log_set_level(job.verbose ? AV_LOG_WARNING : AV_LOG_ERROR);
    if (job.join_count)
        return join(&job);
    quiet = job.quiet;
    install_signal_handlers();
    if (job.batch)
        return vsr_batch_run(&job, &run_signal);

    static vsr_report report;
    int exit_code = vsr_resume_run(&job, &run_signal, &report);
    if (exit_code == VSR_EXIT_USAGE) { /* refused before doing anything: a partial file */
        vsr_log(VSR_LOG_ERROR, "%s", report.error);
        return exit_code;
    }
    if (exit_code == VSR_EXIT_FAILURE)
        vsr_log(VSR_LOG_ERROR, "%s", report.error);
    else if (exit_code == VSR_EXIT_INTERRUPTED)
        vsr_log(VSR_LOG_ERROR, "interrupted by signal %d", (int)run_signal.stop);
    vsr_report_print(&report);
    if (job.json_path && vsr_report_write_json(&report, job.json_path, &err) < 0) {
        vsr_log(VSR_LOG_ERROR, "%s", err.msg);
        if (exit_code == VSR_EXIT_OK)
            exit_code = VSR_EXIT_FAILURE;
    }
    return exit_code;
}
