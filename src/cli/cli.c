/* getopt_long front end: every option of vsrup from one table, parsed strictly, validated. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libavcodec/version.h>
#include <libavformat/version.h>
#include <libavutil/avutil.h>

#include "engine.h"
#include "locate.h"
#include "output_file.h"
#include "plan.h"

static void print_version(void)
{
    printf("vsrup %s\nFFmpeg %s (libavcodec %s, libavformat %s)\n", VSR_VERSION, av_version_info(),
           AV_STRINGIFY(LIBAVCODEC_VERSION), AV_STRINGIFY(LIBAVFORMAT_VERSION));
    char path[PATH_MAX];
#ifdef VSR_HAVE_TORCH
    if (vsr_locate_torch_module(path, sizeof(path)) == VSR_OK) {
        char build[256];
        vsr_err err;
        if (vsr_engine_torch_describe(build, sizeof(build), &err) == VSR_OK)
            printf("TorchScript engine: %s (%s)\n", path, build);
        else
            printf("TorchScript engine: %s (%s)\n", path, err.msg);
    } else {
        puts("TorchScript engine: no (vsrup_torch.so not found)");
    }
#else
    puts("TorchScript engine: no (built without libtorch)");
#endif
    vsr_err err;
    if (vsr_locate_default_model(path, sizeof(path), vsr_engine_is_builtin, &err) == VSR_OK)
        printf("Default model: %s\n", path);
    else
        printf("Default model: none (%s)\n", err.msg);
}

/*
 * The options: one row each, from which the getopt_long table, `vsrup --help` and the
 * messages for bad values are all made. A row's parse function stores its value in the
 * vsr_job field at `field`; integer rows accept [min, max].
 */
typedef struct cli_option cli_option;
typedef int (*cli_parse_fn)(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err);

struct cli_option {
    const char *section; /* --help heading printed before this row, or NULL */
    const char *name;    /* --name */
    char letter;         /* -l, or 0 */
    const char *arg;     /* the value's name in --help; NULL: a switch */
    const char *help;
    const char *fallback; /* what it is when not given, shown as "(default: ...)", or NULL */
    cli_parse_fn parse;
    size_t field; /* offsetof(vsr_job, ...) */
    int64_t min, max;
    const char *expect; /* what a valid value looks like, for the message when it is not */
};

#define JOB(member) offsetof(vsr_job, member)

static int *int_field(const cli_option *o, vsr_job *job)
{
    return (int *)((char *)job + o->field);
}

static int64_t *int64_field(const cli_option *o, vsr_job *job)
{
    return (int64_t *)((char *)job + o->field);
}

static const char **string_field(const cli_option *o, vsr_job *job)
{
    return (const char **)((char *)job + o->field);
}

/* The message for a bad value: what a good one looks like is `expect`, else the help. */
static int invalid(const cli_option *o, const char *arg, vsr_err *err)
{
    vsr_err_set(err, "invalid value '%s' for --%s: expected %s", arg, o->name,
                o->expect ? o->expect : o->help);
    return VSR_ERROR;
}

/* A switch: the field becomes max (1; 0 for the --no-* ones; -1 for --join, whose parts are
 * the arguments left after the options). */
static int set_switch(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    (void)arg;
    (void)err;
    *int_field(o, job) = (int)o->max;
    return VSR_OK;
}

static int set_string(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    (void)err;
    *string_field(o, job) = arg;
    return VSR_OK;
}

/* -i, -o, -m: '' comes from an unset shell variable, say. */
static int check_file_name(const cli_option *o, const char *arg, vsr_err *err)
{
    if (!*arg) {
        vsr_err_set(err, "-%c needs a file name, not an empty string", o->letter);
        return VSR_ERROR;
    }
    return VSR_OK;
}

static int set_file(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    return check_file_name(o, arg, err) < 0 ? VSR_ERROR : set_string(o, arg, job, err);
}

/* Strict decimal integer in [min, max]. */
static int parse_integer(const cli_option *o, const char *arg, int64_t *value, vsr_err *err)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < o->min || v > o->max) {
        vsr_err_set(err,
                    "invalid value '%s' for --%s: expected an integer from %" PRId64 " to %" PRId64,
                    arg, o->name, o->min, o->max);
        return VSR_ERROR;
    }
    *value = v;
    return VSR_OK;
}

static int set_int(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    int64_t v;
    if (parse_integer(o, arg, &v, err) < 0)
        return VSR_ERROR;
    *int_field(o, job) = (int)v;
    return VSR_OK;
}

static int set_int64(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    return parse_integer(o, arg, int64_field(o, job), err);
}

/* A byte count, at least 1 MiB, with an optional binary suffix: 512M, 6G, 1.5GiB. */
static int set_size(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    static const char suffixes[] = "KMGT";
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    const char *suffix = *end ? strchr(suffixes, toupper((unsigned char)*end)) : NULL;
    if (suffix) {
        v = ldexp(v, 10 * (int)(suffix - suffixes + 1));
        end += 1 + (end[1] == 'i');
        end += *end == 'B';
    }
    if (errno || end == arg || *end || !(v >= 1 << 20) || v > 9e18)
        return invalid(o, arg, err);
    *int64_field(o, job) = (int64_t)v;
    return VSR_OK;
}

static int set_input(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    if (check_file_name(o, arg, err) < 0)
        return VSR_ERROR;
    if (job->nb_inputs == VSR_CLI_MAX_INPUTS) {
        vsr_err_set(err, "too many -i (at most %d; give a folder)", VSR_CLI_MAX_INPUTS);
        return VSR_ERROR;
    }
    job->inputs[job->nb_inputs++] = arg;
    job->input = job->inputs[0];
    return VSR_OK;
}

static int set_model(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    if (set_file(o, arg, job, err) < 0)
        return VSR_ERROR;
    return vsr_engine_sim_parse(arg, NULL, NULL, NULL, err) < 0 ? VSR_ERROR : VSR_OK;
}

static int set_codec(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    job->codec = vsr_codec_from_name(arg);
    return job->codec == VSR_CODEC_NONE ? invalid(o, arg, err) : VSR_OK;
}

static int set_precision(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    static const char *const names[] = {[VSR_PRECISION_AUTO] = "auto",
                                        [VSR_PRECISION_FP32] = "fp32",
                                        [VSR_PRECISION_FP16] = "fp16"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(arg, names[i])) {
            job->precision = (enum vsr_precision)i;
            return VSR_OK;
        }
    }
    return invalid(o, arg, err);
}

static int set_scene_cuts(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    (void)o;
    (void)err;
    if (!strcmp(arg, "auto")) {
        job->scene_cuts = VSR_SCENE_CUTS_AUTO;
    } else if (!strcmp(arg, "off")) {
        job->scene_cuts = VSR_SCENE_CUTS_OFF;
    } else {
        job->scene_cuts = VSR_SCENE_CUTS_FILE;
        job->scene_cuts_file = arg;
    }
    return VSR_OK;
}

/* -h, -V: print, and the command line is done. */
static int show(const cli_option *o, const char *arg, vsr_job *job, vsr_err *err)
{
    (void)arg;
    (void)job;
    (void)err;
    if (o->letter == 'h')
        vsr_cli_usage();
    else
        print_version();
    return VSR_CLI_EXIT;
}

#define SWITCH(member, value) set_switch, JOB(member), 0, value
#define STRING(member) set_string, JOB(member), 0, 0

static const cli_option options[] = {
    {"Input and output:", "input", 'i', "FILE",
     "any SDR video FFmpeg can read (HDR and BT.2020 are refused: the output is tagged BT.709)",
     NULL, set_input, 0, 0, 0, NULL},
    {NULL, "output", 'o', "FILE",
     ".mov (ProRes), .mkv (FFV1) or .mxf (DNxHR); a folder: a batch of every video of the -i "
     "folders and files, in name order, each as STEM.mov (or the -c codec's extension); "
     "finished ones skipped, partial ones resumed",
     NULL, set_file, JOB(output), 0, 0, NULL},
    {NULL, "overwrite", 'y', NULL,
     "replace OUTPUT if it exists (and start over); in a batch, redo every output, finished or "
     "partial",
     NULL, SWITCH(overwrite, 1), NULL},
    {NULL, "resume", 0, NULL,
     "continue OUTPUT's partial file, left by a stopped run of the same command, from its last "
     "complete chunk (starts from the beginning when there is none)",
     NULL, SWITCH(resume, 1), NULL},
    {NULL, "start", 0, "N", "skip the first N decoded frames", NULL, set_int64, JOB(start_frame), 0,
     INT64_MAX / 2, NULL},
    {NULL, "frames", 0, "N", "process at most N frames", NULL, set_int64, JOB(max_frames), 1,
     INT64_MAX / 2, NULL},
    {NULL, "keep-timestamps", 0, NULL,
     "keep the input's timestamps for a --start range (a segment for --join) instead of "
     "starting at 0",
     NULL, SWITCH(keep_timestamps, 1), NULL},
    {NULL, "join", 0, NULL,
     "put segments written with --keep-timestamps together, in order, without re-encoding", NULL,
     SWITCH(join_count, -1), NULL},
    {NULL, "no-audio", 0, NULL, "do not copy audio streams", NULL, SWITCH(copy_audio, 0), NULL},
    {NULL, "no-subtitles", 0, NULL, "do not copy subtitle streams", NULL, SWITCH(copy_subtitles, 0),
     NULL},

    {"Model:", "model", 'm', "MODEL",
     "TorchScript file (see models/), or a built-in resize: bicubic, lanczos, or sim:MS, a "
     "simulated accelerator taking MS ms a frame",
     "$VSRUP_MODEL, else the BasicVSR++ that scripts/fetch-model.sh installs in ~/.cache/vsrup; "
     "vsrup --version shows which",
     set_model, JOB(model), 0, 0, NULL},
    {NULL, "scale", 's', "N", "scale factor of the built-in resizes, 1..8", "4", set_int,
     JOB(scale), 1, 8, NULL},
    {NULL, "device", 'd', "DEV", "cpu, cuda or cuda:N", "cuda if present, else cpu", STRING(device),
     NULL},
    {NULL, "precision", 0, "P", "auto, fp32 or fp16",
     "auto: fp16 on a CUDA device unless the model forbids it, fp32 on the cpu", set_precision, 0,
     0, 0, NULL},
    {NULL, "chunk", 0, "T", "output frames per chunk",
     "for temporal models the longest, up to 100, that fits in memory, measured on two probe "
     "chunks; per-frame models: 1 on the cpu, 8 on a GPU",
     set_int, JOB(chunk), 1, 100000, NULL},
    {NULL, "memory-limit", 0, "SIZE", "memory a chunk may use, e.g. 6G or 512M",
     "80% of what is free on the device less what other vsrup processes on it claimed; on the "
     "cpu 80% of the machine's free memory, at most 4G",
     set_size, JOB(memory_limit), 0, 0, "a size such as 512M or 6G"},
    {NULL, "overlap", 0, "O",
     "context frames on each side of a chunk; the default is narrowed down to 2 when memory "
     "allows only a chunk shorter than 4 overlaps, an explicit --overlap is kept",
     "10", set_int, JOB(overlap), 0, 100000, NULL},
    {NULL, "scene-cuts", 0, "MODE", "auto, off, or a file of frame numbers that start scenes",
     "auto", set_scene_cuts, 0, 0, 0, NULL},
    {NULL, "cuda-graphs", 0, NULL,
     "replay the fixed chunk shape as a CUDA graph (falls back to running without, with a "
     "warning, if capture fails)",
     NULL, SWITCH(cuda_graphs, 1), NULL},
    {NULL, "compute-threads", 0, "N", "CPU threads for the model or resize", "all cores", set_int,
     JOB(compute_threads), 1, 1024, NULL},

    {"Encoding:", "codec", 'c', "C", "prores, ffv1 or dnxhr", "from OUTPUT's extension", set_codec,
     0, 0, 0, NULL},
    {NULL, "profile", 0, "P",
     "prores: proxy, lt, standard, hq, 4444, 4444xq; dnxhr: lb, sq, hq, hqx, 444",
     "hq for prores, hqx for dnxhr", STRING(profile), NULL},
    {NULL, "pix-fmt", 0, "F", "e.g. yuv422p10le, yuv444p10le, gbrp16le (ffv1 lossless RGB)", NULL,
     STRING(pix_fmt), NULL},
    {NULL, "threads", 't', "N", "parallel encoders", "one per core", set_int, JOB(encoders), 1, 256,
     NULL},

    {"Reporting:", "quiet", 'q', NULL,
     "no progress (a line rewritten on a terminal, a line every 5 s in a log), errors only", NULL,
     SWITCH(quiet, 1), NULL},
    {NULL, "verbose", 'v', NULL, "more detail", NULL, SWITCH(verbose, 1), NULL},
    {NULL, "json", 0, "FILE", "write a machine-readable report", NULL, STRING(json_path), NULL},
    {NULL, "help", 'h', NULL, "this text", NULL, show, 0, 0, 0, NULL},
    {NULL, "version", 'V', NULL, "version and library versions", NULL, show, 0, 0, 0, NULL},
};

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))
#define HELP_WIDTH 88
#define HELP_INDENT 26

/* getopt_long's value for a row: its letter, else 256 + its index. */
static int option_value(size_t i)
{
    return options[i].letter ? options[i].letter : 256 + (int)i;
}

static const cli_option *option_of_value(int value)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (option_value(i) == value)
            return &options[i];
    return NULL;
}

/* The words of text from column `at` (after a space if `space`), wrapped at HELP_WIDTH onto
 * lines indented HELP_INDENT. Returns the column it ends at. */
static int print_wrapped(const char *text, int at, int space)
{
    while (*text) {
        int word = (int)strcspn(text, " ");
        if (space && at + 1 + word > HELP_WIDTH) {
            at = printf("\n%*s", HELP_INDENT, "") - 1;
        } else if (space) {
            putchar(' ');
            at++;
        }
        at += printf("%.*s", word, text);
        text += word + strspn(text + word, " ");
        space = 1;
    }
    return at;
}

static void print_option_help(const cli_option *o)
{
    char label[64];
    snprintf(label, sizeof(label), "  %c%c%c --%s%s%s", o->letter ? '-' : ' ',
             o->letter ? o->letter : ' ', o->letter ? ',' : ' ', o->name, o->arg ? " " : "",
             o->arg ? o->arg : "");
    int at = printf("%-*s ", HELP_INDENT - 1, label);
    at = print_wrapped(o->help, at, 0);
    if (o->fallback) {
        char fallback[512];
        snprintf(fallback, sizeof(fallback), "(default: %s)", o->fallback);
        print_wrapped(fallback, at, 1);
    }
    putchar('\n');
}

void vsr_cli_usage(void)
{
    fputs("Usage: vsrup -i INPUT -o OUTPUT [options]\n"
          "       vsrup -i FOLDER|FILE [-i ...] -o FOLDER [options]   (batch)\n"
          "       vsrup --join -o OUTPUT PART... [-y] [-q] [--json FILE]\n"
          "Upscale a video with a super-resolution model (BasicVSR++ by default) and encode it\n"
          "to ProRes, FFV1 or DNxHR, keeping audio, subtitles, timing and colour.\n",
          stdout);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (options[i].section)
            printf("\n%s\n", options[i].section);
        print_option_help(&options[i]);
    }
    fputs("\n"
          "Ctrl-C finishes the chunks in flight and keeps the playable partial file; a second\n"
          "Ctrl-C stops at once.\n"
          "Exit status: 0 done, 1 failed, 2 usage error (an existing OUTPUT without -y too),\n"
          "130 interrupted (the partial file is kept).\n",
          stdout);
}

/* The input is where the output is written while it runs (NAME.partial.EXT). */
static int is_partial_of(const char *input, const char *output)
{
    char *partial = vsr_partial_name(output, 0);
    int same = partial && vsr_output_same_file(input, partial);
    free(partial);
    return same;
}

/* --json FILE is a new file (or -y) in a writable folder, and never a video this run reads
 * or writes. */
static int check_json(const vsr_job *job, vsr_err *err)
{
    const char *json = job->json_path;
    if (!json)
        return VSR_OK;
    int clash = vsr_output_same_file(json, job->output) || is_partial_of(json, job->output);
    if (job->input)
        clash = clash || vsr_output_same_file(json, job->input);
    for (int i = 0; i < job->join_count; i++)
        clash = clash || vsr_output_same_file(json, job->join_parts[i]);
    if (clash) {
        vsr_err_set(err, "%s: --json would overwrite a video of this run", json);
        return VSR_ERROR;
    }
    struct stat st;
    /* --resume repeats a command, --json included: its report is replaced */
    if (!job->overwrite && !job->resume && stat(json, &st) == 0) {
        vsr_err_set(err, "%s: already exists (use -y to overwrite the report)", json);
        return VSR_ERROR;
    }
    return vsr_output_folder_check(json, err); /* the report is written after the work */
}

/* MXF files start at 0 whatever their packets say: no segment times, so no joins either. */
static int is_mxf(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && !strcasecmp(dot, ".mxf");
}

/* Without -m: the default model, or a message saying how to get one. */
static int validate_model(vsr_job *job, vsr_err *err)
{
    if (vsr_locate_default_model(job->default_model, sizeof(job->default_model),
                                 vsr_engine_is_builtin, err) < 0) {
        char reason[sizeof(err->msg)];
        snprintf(reason, sizeof(reason), "%s", err->msg);
        vsr_err_set(err, "no -m MODEL given: %s (or -m lanczos for a plain resize)", reason);
        return VSR_ERROR;
    }
    job->model = job->default_model;
    return VSR_OK;
}

static int is_folder(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Batch: the output folder exists; the format comes from -c (default ProRes in .mov). */
static int validate_batch(vsr_job *job, vsr_err *err)
{
    if (!is_folder(job->output)) {
        vsr_err_set(err, "%s: a batch (several -i, or a folder) writes into a folder: create it",
                    job->output);
        return VSR_ERROR;
    }
    if (job->start_frame || job->max_frames || job->keep_timestamps) {
        vsr_err_set(err, "--start, --frames and --keep-timestamps are for one input, not a batch");
        return VSR_ERROR;
    }
    if (job->json_path && is_folder(job->json_path)) {
        vsr_err_set(err, "%s: --json names a folder", job->json_path);
        return VSR_ERROR;
    }
    job->batch = 1;
    job->resume = 1; /* partial outputs of an earlier batch are continued */
    enum vsr_codec codec = job->codec ? job->codec : VSR_CODEC_PRORES;
    char name[32];
    snprintf(name, sizeof(name), "batch%s", vsr_codec_extension(codec));
    return vsr_output_format_resolve(name, codec, job->profile, job->pix_fmt, &job->format, err);
}

static int validate(vsr_job *job, vsr_err *err)
{
    if (!job->input || !job->output) {
        vsr_err_set(err, "both -i INPUT and -o OUTPUT are required (see vsrup --help)");
        return VSR_ERROR;
    }
    if (job->nb_inputs > 1 || is_folder(job->input) || is_folder(job->output)) {
        if (validate_batch(job, err) < 0 || check_json(job, err) < 0)
            return VSR_ERROR;
        return job->model ? VSR_OK : validate_model(job, err);
    }
    if (vsr_output_same_file(job->input, job->output)) {
        vsr_err_set(err, "%s: the output would overwrite the input", job->output);
        return VSR_ERROR;
    }
    if (is_partial_of(job->input, job->output)) {
        vsr_err_set(err,
                    "%s: is where -o %s is written until it is complete, so it cannot be the "
                    "input (to continue it, run the same command with --resume)",
                    job->input, job->output);
        return VSR_ERROR;
    }
    if (check_json(job, err) < 0 || vsr_output_check_new(job->output, job->overwrite, err) < 0)
        return VSR_ERROR;
    if (vsr_output_container_check(job->output, job->codec, err) < 0)
        return VSR_ERROR;
    enum vsr_codec codec = job->codec ? job->codec : vsr_codec_for_path(job->output);
    if (job->resume && job->start_frame > 0 && !job->keep_timestamps) {
        vsr_err_set(err, "--resume of a --start range needs --keep-timestamps (in the first run "
                         "too): the rest is joined by its timestamps");
        return VSR_ERROR;
    }
    if (job->keep_timestamps && is_mxf(job->output)) {
        vsr_err_set(err,
                    "%s: MXF cannot keep a segment's timestamps (--keep-timestamps); write "
                    "segments as .mov or .mkv",
                    job->output);
        return VSR_ERROR;
    }
    if (!job->model && validate_model(job, err) < 0)
        return VSR_ERROR;
    return vsr_output_format_resolve(job->output, codec, job->profile, job->pix_fmt, &job->format,
                                     err);
}

static int validate_join(const vsr_job *job, vsr_err *err)
{
    if (job->input) {
        vsr_err_set(err, "--join takes the parts as arguments, not -i (see vsrup --help)");
        return VSR_ERROR;
    }
    if (!job->output || job->join_count < 1) {
        vsr_err_set(err, "--join needs -o OUTPUT and the parts to join (see vsrup --help)");
        return VSR_ERROR;
    }
    if (is_mxf(job->output)) {
        vsr_err_set(err, "%s: --join writes .mov or .mkv (MXF cannot hold the parts' times)",
                    job->output);
        return VSR_ERROR;
    }
    for (int i = 0; i < job->join_count; i++) {
        if (vsr_output_same_file(job->join_parts[i], job->output)) {
            vsr_err_set(err, "%s: the output would overwrite a part", job->output);
            return VSR_ERROR;
        }
    }
    if (vsr_output_check_new(job->output, job->overwrite, err) < 0)
        return VSR_ERROR;
    return check_json(job, err);
}

int vsr_cli_parse(int argc, char **argv, vsr_job *job, vsr_err *err)
{
    *job = (vsr_job){
        .overlap = -1,
        .copy_audio = 1,
        .copy_subtitles = 1,
    };
    /* getopt_long's tables from the rows */
    struct option long_options[OPTION_COUNT + 1] = {{0}};
    char short_options[2 * OPTION_COUNT + 2] = ":", *letters = short_options + 1;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const cli_option *o = &options[i];
        long_options[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
                                          option_value(i)};
        if (o->letter) {
            *letters++ = o->letter;
            if (o->arg)
                *letters++ = ':';
        }
    }
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        if (opt == '?') {
            vsr_err_set(err, "unknown option '%s' (see vsrup --help)", argv[optind - 1]);
            return VSR_ERROR;
        }
        if (opt == ':') {
            vsr_err_set(err, "option '%s' needs a value", argv[optind - 1]);
            return VSR_ERROR;
        }
        const cli_option *o = option_of_value(opt);
        int ret = o->parse(o, optarg, job, err);
        if (ret != VSR_OK)
            return ret;
    }
    if (job->join_count) {
        job->join_parts = (const char *const *)argv + optind;
        job->join_count = argc - optind;
        return validate_join(job, err) < 0 ? VSR_ERROR : VSR_CLI_RUN;
    }
    if (optind < argc) {
        vsr_err_set(err, "unexpected argument '%s' (inputs and outputs go after -i and -o)",
                    argv[optind]);
        return VSR_ERROR;
    }
    return validate(job, err) < 0 ? VSR_ERROR : VSR_CLI_RUN;
}
