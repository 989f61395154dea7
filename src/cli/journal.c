/*
 * The journal of a partial output (include/journal.h). Plain text, one "key value" per line:
 * the fields that must match for a continued run to equal an uninterrupted one, then
 * "used CHUNK OVERLAP", then one "done N" per chunk border, each synced (fsync) so a
 * killed process leaves what it reached.
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/pixdesc.h>

#include "cli.h"
#include "output_file.h"

#define MAGIC "vsrup-journal 1"
#define FIELDS_SIZE 8192

struct vsr_journal {
    char *path;
    char fields[FIELDS_SIZE];
    int64_t base;
    FILE *file;
};

char *vsr_journal_name(const char *output)
{
    char *partial = vsr_partial_name(output, 0);
    size_t size = partial ? strlen(partial) + sizeof(".vsrup") : 0;
    char *name = partial ? malloc(size) : NULL;
    if (name)
        snprintf(name, size, "%s.vsrup", partial);
    free(partial);
    return name;
}

static const char *or_auto(int value, char *buf, size_t size)
{
    if (value <= 0)
        return "auto";
    snprintf(buf, size, "%d", value);
    return buf;
}

/* The fields of `job` that decide the output, one "key value\n" line each. The input is
 * named by its absolute path with links resolved, so the same file typed otherwise (from
 * another folder, relative or absolute) is the same input. */
static void describe_job(const vsr_job *job, char *out, size_t size)
{
    struct stat st = {0};
    stat(job->input, &st);
    char resolved[PATH_MAX];
    const char *input = realpath(job->input, resolved) ? resolved : job->input;
    char chunk[16], overlap[16];
    const char *cuts = job->scene_cuts == VSR_SCENE_CUTS_OFF    ? "off"
                       : job->scene_cuts == VSR_SCENE_CUTS_FILE ? job->scene_cuts_file
                                                                : "auto";
    const char *pix = av_get_pix_fmt_name(job->format.pix_fmt);
    snprintf(out, size,
             "input %s\nsize %lld\nmtime %lld.%09ld\nmodel %s\nscale %d\ncodec %s\nprofile %s\n"
             "pix-fmt %s\nchunk %s\noverlap %s\nscene-cuts %s\nstart %" PRId64 "\nframes %" PRId64
             "\nkeep-timestamps %d\naudio %d\nsubtitles %d\n",
             input, (long long)st.st_size, (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
             job->model, job->scale, vsr_codec_name(job->format.codec),
             vsr_output_profile_name(&job->format), pix ? pix : "?",
             or_auto(job->chunk, chunk, sizeof(chunk)),
             job->overlap < 0 ? "auto"
                              : (snprintf(overlap, sizeof(overlap), "%d", job->overlap), overlap),
             cuts, job->start_frame, job->max_frames, job->keep_timestamps, job->copy_audio,
             job->copy_subtitles);
}

vsr_journal *vsr_journal_alloc(const char *path, const vsr_job *job, int64_t base)
{
    vsr_journal *j = calloc(1, sizeof(*j));
    if (j && !(j->path = strdup(path))) {
        free(j);
        return NULL;
    }
    if (j) {
        describe_job(job, j->fields, sizeof(j->fields));
        j->base = base;
    }
    return j;
}

static int sync_file(vsr_journal *j, vsr_err *err)
{
    if (fflush(j->file) == 0 && fsync(fileno(j->file)) == 0)
        return VSR_OK;
    vsr_err_set(err, "%s: cannot write the journal: %s", j->path, strerror(errno));
    return VSR_ERROR;
}

int vsr_journal_start(vsr_journal *j, int chunk, int overlap, vsr_err *err)
{
    j->file = fopen(j->path, j->base > 0 ? "ae" : "we");
    if (!j->file) {
        vsr_err_set(err, "%s: cannot create the journal: %s", j->path, strerror(errno));
        return VSR_ERROR;
    }
    if (j->base == 0)
        fprintf(j->file, MAGIC "\n%sused %d %d\n", j->fields, chunk, overlap);
    return sync_file(j, err);
}

int vsr_journal_border(vsr_journal *j, int64_t frames, vsr_err *err)
{
    if (!j->file)
        return VSR_OK;
    fprintf(j->file, "done %" PRId64 "\n", j->base + frames);
    return sync_file(j, err);
}

void vsr_journal_free(vsr_journal **j)
{
    if (!*j)
        return;
    if ((*j)->file)
        fclose((*j)->file);
    free((*j)->path);
    free(*j);
    *j = NULL;
}

/* Names the first field of `want` (this command) that `got` (the journal) has otherwise. */
static int compare_fields(const char *path, const char *got, const char *want, vsr_err *err)
{
    while (*want) {
        size_t len = strcspn(want, "\n");
        if (strncmp(got, want, len + 1)) {
            size_t key = strcspn(want, " ");
            size_t glen = strcspn(got, "\n");
            const char *gval = memchr(got, ' ', glen);
            vsr_err_set(err,
                        "%s: written with another %.*s (%.*s, now %.*s): run the command that "
                        "wrote it, or -y to start over",
                        path, (int)key, want, gval ? (int)(got + glen - gval - 1) : 0,
                        gval ? gval + 1 : "", (int)(len - key - 1), want + key + 1);
            return VSR_ERROR;
        }
        got += len + 1;
        want += len + 1;
    }
    return VSR_OK;
}

static int read_all(const char *path, char **text, vsr_err *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        vsr_err_set(err, "%s: cannot read the journal: %s", path, strerror(errno));
        return VSR_ERROR;
    }
    size_t cap = 1 << 16, len = 0;
    *text = malloc(cap + 1);
    while (*text && len < cap) {
        size_t n = fread(*text + len, 1, cap - len, f);
        if (!n)
            break;
        len += n;
        if (len == cap) {
            char *more = realloc(*text, 2 * cap + 1);
            if (!more) {
                free(*text);
                *text = NULL;
                break;
            }
            *text = more;
            cap *= 2;
        }
    }
    fclose(f);
    if (!*text) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    (*text)[len] = 0;
    return VSR_OK;
}

static int parse_borders(char *p, vsr_journal_state *state)
{
    int cap = 0;
    long long n;
    while (sscanf(p, "done %lld", &n) == 1) {
        if (state->nb_borders == cap) {
            cap = cap ? 2 * cap : 64;
            int64_t *more = realloc(state->borders, cap * sizeof(*more));
            if (!more)
                return VSR_ERROR;
            state->borders = more;
        }
        state->borders[state->nb_borders++] = n;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return VSR_OK;
}

int vsr_journal_read(const char *path, const vsr_job *job, vsr_journal_state *state, vsr_err *err)
{
    *state = (vsr_journal_state){0};
    char *text;
    if (read_all(path, &text, err) < 0)
        return VSR_ERROR;
    char *want = malloc(FIELDS_SIZE);
    int ret = want ? VSR_OK : VSR_ERROR;
    if (want)
        describe_job(job, want, FIELDS_SIZE);
    size_t magic = strlen(MAGIC "\n");
    if (ret == VSR_OK && strncmp(text, MAGIC "\n", magic)) {
        vsr_err_set(err, "%s: not a vsrup journal", path);
        ret = VSR_ERROR;
    }
    if (ret == VSR_OK)
        ret = compare_fields(path, text + magic, want, err);
    char *used = ret == VSR_OK ? text + magic + strlen(want) : NULL;
    if (used && sscanf(used, "used %d %d", &state->chunk, &state->overlap) != 2) {
        vsr_err_set(err, "%s: the journal ends before the run started", path);
        ret = VSR_ERROR;
    }
    if (ret == VSR_OK) {
        char *p = strchr(used, '\n');
        if (p && parse_borders(p + 1, state) < 0) {
            vsr_err_set(err, "out of memory");
            ret = VSR_ERROR;
        }
    }
    free(want);
    free(text);
    if (ret < 0)
        vsr_journal_state_free(state);
    return ret;
}

void vsr_journal_state_free(vsr_journal_state *state)
{
    free(state->borders);
    *state = (vsr_journal_state){0};
}
