/* getopt_long front end: every option of vsrup, parsed strictly and validated here. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
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

enum {
    OPT_PROFILE = 256,
    OPT_PIX_FMT,
    OPT_START,
    OPT_FRAMES,
    OPT_NO_AUDIO,
    OPT_NO_SUBTITLES,
    OPT_JSON,
    OPT_PRECISION,
    OPT_CHUNK,
    OPT_OVERLAP,
    OPT_SCENE_CUTS,
    OPT_CUDA_GRAPHS,
    OPT_COMPUTE_THREADS,
    OPT_MEMORY_LIMIT,
    OPT_KEEP_TIMESTAMPS,
    OPT_JOIN,
    OPT_RESUME,
};

static const struct option long_options[] = {
    {"input", required_argument, NULL, 'i'},
    {"output", required_argument, NULL, 'o'},
    {"model", required_argument, NULL, 'm'},
    {"scale", required_argument, NULL, 's'},
    {"codec", required_argument, NULL, 'c'},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"pix-fmt", required_argument, NULL, OPT_PIX_FMT},
    {"overwrite", no_argument, NULL, 'y'},
    {"start", required_argument, NULL, OPT_START},
    {"frames", required_argument, NULL, OPT_FRAMES},
    {"no-audio", no_argument, NULL, OPT_NO_AUDIO},
    {"no-subtitles", no_argument, NULL, OPT_NO_SUBTITLES},
    {"threads", required_argument, NULL, 't'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"json", required_argument, NULL, OPT_JSON},
    {"device", required_argument, NULL, 'd'},
    {"precision", required_argument, NULL, OPT_PRECISION},
    {"chunk", required_argument, NULL, OPT_CHUNK},
    {"overlap", required_argument, NULL, OPT_OVERLAP},
    {"scene-cuts", required_argument, NULL, OPT_SCENE_CUTS},
    {"cuda-graphs", no_argument, NULL, OPT_CUDA_GRAPHS},
    {"compute-threads", required_argument, NULL, OPT_COMPUTE_THREADS},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"keep-timestamps", no_argument, NULL, OPT_KEEP_TIMESTAMPS},
    {"join", no_argument, NULL, OPT_JOIN},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void vsr_cli_usage(void)
{
    fputs("Usage: vsrup -i INPUT -o OUTPUT [options]\n"
          "       vsrup -i FOLDER|FILE [-i ...] -o FOLDER [options]   (batch)\n"
          "       vsrup --join -o OUTPUT PART... [-y] [-q] [--json FILE]\n"
          "Upscale a video with a super-resolution model (BasicVSR++ by default) and encode it\n"
          "to ProRes, FFV1 or DNxHR, keeping audio, subtitles, timing and colour.\n"
          "\n"
          "Input and output:\n"
          "  -i, --input FILE        any SDR video FFmpeg can read (HDR and BT.2020 are\n"
          "                          refused: the output is tagged BT.709)\n"
          "  -o, --output FILE       .mov (ProRes), .mkv (FFV1) or .mxf (DNxHR)\n"
          "                          a folder: a batch of every video of the -i folders and\n"
          "                          files, in name order, each as STEM.mov (or the -c codec's\n"
          "                          extension); finished ones skipped, partial ones resumed\n"
          "  -y, --overwrite         replace OUTPUT if it exists (and start over); in a batch,\n"
          "                          redo every output, finished or partial\n"
          "      --resume            continue OUTPUT's partial file, left by a stopped run of\n"
          "                          the same command, from its last complete chunk (starts\n"
          "                          from the beginning when there is none)\n"
          "      --start N           skip the first N decoded frames\n"
          "      --frames N          process at most N frames\n"
          "      --keep-timestamps   keep the input's timestamps for a --start range (a\n"
          "                          segment for --join) instead of starting at 0\n"
          "      --join              put segments written with --keep-timestamps together,\n"
          "                          in order, without re-encoding\n"
          "      --no-audio          do not copy audio streams\n"
          "      --no-subtitles      do not copy subtitle streams\n"
          "\n"
          "Model:\n"
          "  -m, --model MODEL       TorchScript file (see models/), or a built-in resize:\n"
          "                          bicubic, lanczos, or sim:MS, a simulated accelerator\n"
          "                          taking MS ms a frame (default: $VSRUP_MODEL, else the\n"
          "                          BasicVSR++ that scripts/fetch-model.sh installs in\n"
          "                          ~/.cache/vsrup; vsrup --version shows which)\n"
          "  -s, --scale N           scale factor of the built-in resizes, 1..8 (default 4)\n"
          "  -d, --device DEV        cpu, cuda or cuda:N (default: cuda if present, else cpu)\n"
          "      --precision P       auto, fp32 or fp16 (default auto: fp16 on a CUDA device\n"
          "                          unless the model forbids it, fp32 on the cpu)\n"
          "      --chunk T           output frames per chunk (default for temporal models: the\n"
          "                          longest, up to 100, that fits in memory, measured on two\n"
          "                          probe chunks; per-frame models: 1 on the cpu, 8 on a GPU)\n"
          "      --memory-limit SIZE memory a chunk may use, e.g. 6G or 512M (default: 80% of\n"
          "                          what is free on the device less what other vsrup\n"
          "                          processes on it claimed, or on the machine for cpu)\n"
          "      --overlap O         context frames on each side of a chunk (default: 10,\n"
          "                          narrowed down to 2 when memory allows only a chunk shorter\n"
          "                          than 4 overlaps; an explicit --overlap is kept)\n"
          "      --scene-cuts MODE   auto, off, or a file of frame numbers that start scenes\n"
          "      --cuda-graphs       replay the fixed chunk shape as a CUDA graph (falls back\n"
          "                          to running without, with a warning, if capture fails)\n"
          "      --compute-threads N CPU threads for the model or resize (default: all cores)\n"
          "\n"
          "Encoding:\n"
          "  -c, --codec C           prores, ffv1 or dnxhr (default: from OUTPUT's extension)\n"
          "      --profile P         prores: proxy, lt, standard, hq (default), 4444, 4444xq\n"
          "                          dnxhr: lb, sq, hq, hqx (default), 444\n"
          "      --pix-fmt F         e.g. yuv422p10le, yuv444p10le, gbrp16le (ffv1 lossless RGB)\n"
          "  -t, --threads N         parallel encoders (default: one per core)\n"
          "\n"
          "Reporting:\n"
          "  -q, --quiet             no progress (a line rewritten on a terminal, a line\n"
          "                          every 5 s in a log), errors only\n"
          "  -v, --verbose           more detail\n"
          "      --json FILE         write a machine-readable report\n"
          "  -h, --help              this text\n"
          "  -V, --version           version and library versions\n"
          "\n"
          "Ctrl-C finishes the chunks in flight and keeps the playable partial file; a second\n"
          "Ctrl-C stops at once.\n"
          "Exit status: 0 done, 1 failed, 2 usage error (an existing OUTPUT without -y too),\n"
          "130 interrupted (the partial file is kept).\n",
          stdout);
}

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
    if (vsr_locate_default_model(path, sizeof(path), &err) == VSR_OK)
        printf("Default model: %s\n", path);
    else
        printf("Default model: none (%s)\n", err.msg);
}

/* Strict decimal integer in [min, max]. */
static int parse_int64(const char *option, const char *text, int64_t min, int64_t max,
                       int64_t *value, vsr_err *err)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        vsr_err_set(err,
                    "invalid value '%s' for %s: expected an integer from %" PRId64 " to %" PRId64,
                    text, option, min, max);
        return VSR_ERROR;
    }
    *value = v;
    return VSR_OK;
}

static int parse_int(const char *option, const char *text, int min, int max, int *value,
                     vsr_err *err)
{
    int64_t v;
    if (parse_int64(option, text, min, max, &v, err) < 0)
        return VSR_ERROR;
    *value = (int)v;
    return VSR_OK;
}

/* A byte count, at least 1 MiB, with an optional binary suffix: 512M, 6G, 1.5GiB. */
static int parse_size(const char *option, const char *text, int64_t *bytes, vsr_err *err)
{
    static const char suffixes[] = "KMGT";
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    const char *suffix = *end ? strchr(suffixes, toupper((unsigned char)*end)) : NULL;
    if (suffix) {
        v = ldexp(v, 10 * (int)(suffix - suffixes + 1));
        end += 1 + (end[1] == 'i');
        end += *end == 'B';
    }
    if (errno || end == text || *end || !(v >= 1 << 20) || v > 9e18) {
        vsr_err_set(err, "invalid value '%s' for %s: expected a size such as 512M or 6G", text,
                    option);
        return VSR_ERROR;
    }
    *bytes = (int64_t)v;
    return VSR_OK;
}

static int parse_precision(const char *text, enum vsr_precision *precision, vsr_err *err)
{
    if (!strcmp(text, "auto"))
        *precision = VSR_PRECISION_AUTO;
    else if (!strcmp(text, "fp32"))
        *precision = VSR_PRECISION_FP32;
    else if (!strcmp(text, "fp16"))
        *precision = VSR_PRECISION_FP16;
    else {
        vsr_err_set(err, "invalid --precision '%s': expected auto, fp32 or fp16", text);
        return VSR_ERROR;
    }
    return VSR_OK;
}

static void parse_scene_cuts(const char *text, vsr_job *job)
{
    if (!strcmp(text, "auto")) {
        job->scene_cuts = VSR_SCENE_CUTS_AUTO;
    } else if (!strcmp(text, "off")) {
        job->scene_cuts = VSR_SCENE_CUTS_OFF;
    } else {
        job->scene_cuts = VSR_SCENE_CUTS_FILE;
        job->scene_cuts_file = text;
    }
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

static int parse_option(int opt, const char *arg, vsr_job *job, vsr_err *err)
{
    int64_t v64;
    if (strchr("iom", opt) && !*arg) { /* '' from an unset shell variable, say */
        vsr_err_set(err, "-%c needs a file name, not an empty string", opt);
        return VSR_ERROR;
    }
    switch (opt) {
    case 'i':
        if (job->nb_inputs == VSR_CLI_MAX_INPUTS) {
            vsr_err_set(err, "too many -i (at most %d; give a folder)", VSR_CLI_MAX_INPUTS);
            return VSR_ERROR;
        }
        job->inputs[job->nb_inputs++] = arg;
        job->input = job->inputs[0];
        return VSR_OK;
    case 'o':
        job->output = arg;
        return VSR_OK;
    case 'm':
        job->model = arg;
        return vsr_engine_sim_parse(arg, NULL, NULL, NULL, err) < 0 ? VSR_ERROR : VSR_OK;
    case 's':
        return parse_int("--scale", arg, 1, 8, &job->scale, err);
    case 'c':
        job->codec = vsr_codec_from_name(arg);
        if (job->codec == VSR_CODEC_NONE) {
            vsr_err_set(err, "unknown codec '%s': expected prores, ffv1 or dnxhr", arg);
            return VSR_ERROR;
        }
        return VSR_OK;
    case OPT_PROFILE:
        job->profile = arg;
        return VSR_OK;
    case OPT_PIX_FMT:
        job->pix_fmt = arg;
        return VSR_OK;
    case 'y':
        job->overwrite = 1;
        return VSR_OK;
    case OPT_START:
        return parse_int64("--start", arg, 0, INT64_MAX / 2, &job->start_frame, err);
    case OPT_FRAMES:
        if (parse_int64("--frames", arg, 1, INT64_MAX / 2, &v64, err) < 0)
            return VSR_ERROR;
        job->max_frames = v64;
        return VSR_OK;
    case OPT_NO_AUDIO:
        job->copy_audio = 0;
        return VSR_OK;
    case OPT_NO_SUBTITLES:
        job->copy_subtitles = 0;
        return VSR_OK;
    case 't':
        return parse_int("--threads", arg, 1, 256, &job->encoders, err);
    case 'q':
        job->quiet = 1;
        return VSR_OK;
    case 'v':
        job->verbose = 1;
        return VSR_OK;
    case OPT_JSON:
        job->json_path = arg;
        return VSR_OK;
    case 'd':
        job->device = arg;
        return VSR_OK;
    case OPT_PRECISION:
        return parse_precision(arg, &job->precision, err);
    case OPT_CHUNK:
        return parse_int("--chunk", arg, 1, 100000, &job->chunk, err);
    case OPT_OVERLAP:
        return parse_int("--overlap", arg, 0, 100000, &job->overlap, err);
    case OPT_SCENE_CUTS:
        parse_scene_cuts(arg, job);
        return VSR_OK;
    case OPT_CUDA_GRAPHS:
        job->cuda_graphs = 1;
        return VSR_OK;
    case OPT_COMPUTE_THREADS:
        return parse_int("--compute-threads", arg, 1, 1024, &job->compute_threads, err);
    case OPT_MEMORY_LIMIT:
        return parse_size("--memory-limit", arg, &job->memory_limit, err);
    case OPT_KEEP_TIMESTAMPS:
        job->keep_timestamps = 1;
        return VSR_OK;
    case OPT_RESUME:
        job->resume = 1;
        return VSR_OK;
    case OPT_JOIN:
        job->join_count = -1; /* the parts are the arguments left after the options */
        return VSR_OK;
    }
    vsr_err_set(err, "unknown option (see vsrup --help)");
    return VSR_ERROR;
}

/* Without -m: the default model, or a message saying how to get one. */
static int validate_model(vsr_job *job, vsr_err *err)
{
    if (vsr_locate_default_model(job->default_model, sizeof(job->default_model), err) < 0) {
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
    enum vsr_codec codec = job->codec ? job->codec : vsr_codec_for_path(job->output);
    if (codec == VSR_CODEC_NONE) {
        vsr_err_set(err,
                    "%s: cannot choose a codec from this extension: use .mov, .mkv or .mxf, "
                    "or -c prores|ffv1|dnxhr",
                    job->output);
        return VSR_ERROR;
    }
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
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":i:o:m:s:c:yt:qvd:hV", long_options, NULL)) != -1) {
        if (opt == 'h') {
            vsr_cli_usage();
            return VSR_CLI_EXIT;
        }
        if (opt == 'V') {
            print_version();
            return VSR_CLI_EXIT;
        }
        if (opt == '?') {
            vsr_err_set(err, "unknown option '%s' (see vsrup --help)", argv[optind - 1]);
            return VSR_ERROR;
        }
        if (opt == ':') {
            vsr_err_set(err, "option '%s' needs a value", argv[optind - 1]);
            return VSR_ERROR;
        }
        if (parse_option(opt, optarg, job, err) < 0)
            return VSR_ERROR;
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
