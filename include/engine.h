/*
 * The engine: turns a chunk of low-resolution RGB frames into encoder-ready planes.
 * A small vtable (dav1d style) so the pipeline does not care whether the work is a
 * built-in resize, a simulated accelerator or a TorchScript model on a GPU. Only the
 * engine thread calls it.
 *
 * Frames in: planar float RGB in [0, 1], `3 * in_h * in_w` floats, R plane first.
 * Frames out: `out_layout` planes of `scale * in_w` by `scale * in_h`, quantised once.
 */
#ifndef VSR_ENGINE_H
#define VSR_ENGINE_H

#include "vsr_types.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vsr_precision { VSR_PRECISION_AUTO = 0, VSR_PRECISION_FP32, VSR_PRECISION_FP16 };

/* What the model says about itself (vsrup.json for TorchScript models). */
typedef struct vsr_engine_info {
    char name[128];
    char arch[32];
    int scale;
    int temporal;   /* 1: output of a frame depends on its neighbours */
    int min_frames; /* chunks shorter than this are padded by repeating frames */
    int min_h, min_w;
    int multiple;       /* input H and W are padded to a multiple of this */
    char device[32];    /* where it runs, e.g. "cpu", "cuda:0" */
    char device_id[48]; /* the accelerator's identity across processes ("GPU-<uuid>"), or "" */
    char precision[16]; /* "float32" or "float16" */
    int asynchronous;   /* 1: submit returns before the chunk is done (a device works on it),
                           so keeping two chunks in flight overlaps the stages */
} vsr_engine_info;

/* Messages an engine has for the user (a fallback it took, say): level is a VSR_LOG_* value. */
typedef void (*vsr_engine_log_fn)(int level, const char *message);

typedef struct vsr_engine_options {
    const char *model;  /* "bicubic", "lanczos", "sim:MS...", or a path to a TorchScript file */
    int scale;          /* built-in engines only; 0 = default (4) */
    const char *device; /* "cpu", "cuda", "cuda:N"; NULL = cuda if available, else cpu */
    enum vsr_precision precision;
    int threads; /* CPU compute threads; 0 = all cores */
    int cuda_graphs;
    int in_w, in_h;
    vsr_pixel_layout out_layout;
    vsr_engine_log_fn log; /* may be NULL */
} vsr_engine_options;

typedef struct vsr_engine vsr_engine;

/*
 * One chunk of work: frames in[0..n_in) run as one sequence; the results for frames
 * [keep_begin, keep_begin + keep_count) go into out[0..keep_count). The engine writes
 * straight into `out`, which are the encoder's own frames: no copy of the big output.
 */
typedef struct vsr_engine_chunk {
    const float *const *in;
    int n_in, keep_begin, keep_count;
    const vsr_planes *out;
    int64_t first_frame; /* output frame number of out[0], for messages */
} vsr_engine_chunk;

/* Chunks the pipeline keeps submitted and not yet collected: one computing, one staged. */
#define VSR_ENGINE_MAX_IN_FLIGHT 2

typedef struct vsr_engine_ops {
    const char *name;
    int (*open)(vsr_engine *engine, const vsr_engine_options *options, vsr_err *err);
    /*
     * Synchronous: runs one chunk and returns when its output is written.
     * Returns VSR_OK, VSR_ERROR, or VSR_ERROR_OOM (nothing written; retry smaller).
     * An engine has run, or submit and collect, or both; vsr_engine_submit/collect turn a
     * run-only engine into the asynchronous interface (submit runs, collect returns).
     */
    int (*run)(vsr_engine *engine, const float *const *in, int n_in, int keep_begin, int keep_count,
               const vsr_planes *out, vsr_err *err);
    /* Called once every submitted chunk is collected. */
    void (*close)(vsr_engine *engine);
    /*
     * Optional, for engines on an accelerator: the peak of the device memory used since the
     * last reset (reset first when `reset`), and how much the engine could use in all (what
     * it holds now plus what the device has free). VSR_ERROR when it works in host memory.
     */
    int (*device_memory)(vsr_engine *engine, int reset, int64_t *peak, int64_t *available);
    /*
     * New members go last: the torch module initialises this table by position.
     *
     * Asynchronous, like a device stream. submit queues a chunk and returns at once; collect
     * waits for the oldest submitted chunk and returns its result. Chunks finish in
     * submission order; at most VSR_ENGINE_MAX_IN_FLIGHT are submitted and not collected.
     * The engine copies the vsr_engine_chunk itself, but the arrays and buffers it points to
     * (in[], the input frames, out[] and its planes) stay the caller's and must stay valid and
     * untouched until collect returns for that chunk. The output is complete only then.
     * Either call returns VSR_OK, VSR_ERROR or VSR_ERROR_OOM. VSR_ERROR_OOM means the chunk
     * wrote nothing that counts: the caller collects (and drops) the chunks submitted after
     * it, then retries from that chunk with smaller ones. A chunk refused by submit needs no
     * collect.
     */
    int (*submit)(vsr_engine *engine, const vsr_engine_chunk *chunk, vsr_err *err);
    int (*collect)(vsr_engine *engine, vsr_err *err);
    /* Optional: wall seconds the engine has been computing (a device's busy time). Without
     * it, the time spent in run counts. */
    double (*busy_seconds)(vsr_engine *engine);
} vsr_engine_ops;

struct vsr_engine {
    const vsr_engine_ops *ops;
    void *priv;
    vsr_engine_info info;
    vsr_engine_options options;
    /* The adapter for run-only engines: chunks run and not yet collected, time in run. */
    int run_pending;
    double run_seconds;
};

/* 1 when model names a built-in engine (bicubic, lanczos, sim:...) rather than a file. */
int vsr_engine_is_builtin(const char *model);
/* Opens the built-in engine named by options->model, or the TorchScript engine for a path. */
int vsr_engine_open(vsr_engine **engine, const vsr_engine_options *options, vsr_err *err);
void vsr_engine_close(vsr_engine **engine);

/* The asynchronous interface for every engine (see submit and collect above). */
int vsr_engine_submit(vsr_engine *engine, const vsr_engine_chunk *chunk, vsr_err *err);
int vsr_engine_collect(vsr_engine *engine, vsr_err *err);
/* Chunks worth keeping in flight: VSR_ENGINE_MAX_IN_FLIGHT for an asynchronous engine; 1 for
 * one whose chunk is done at submit (run-only engines, the TorchScript engine on the CPU), so
 * its frames go to the encoders at once. */
int vsr_engine_max_in_flight(const vsr_engine *engine);
/* submit then collect: one chunk, synchronously. */
int vsr_engine_run(vsr_engine *engine, const vsr_engine_chunk *chunk, vsr_err *err);
/* Wall seconds the engine has been computing so far. */
double vsr_engine_busy_seconds(vsr_engine *engine);

/*
 * "sim:MS[,temporal][,oom-above=N]": a simulated accelerator taking MS milliseconds of wall
 * time per input frame; `temporal` makes it ask for overlap like a video model, and
 * `oom-above` makes chunks of more than N input frames fail with VSR_ERROR_OOM (tests).
 * Returns 1 and fills what it was given (any may be NULL) for a valid spec, 0 when `model`
 * is not a sim spec at all, VSR_ERROR with a one-line message when it is a bad one.
 */
int vsr_engine_sim_parse(const char *model, double *ms, int *temporal, int *oom_above,
                         vsr_err *err);

/* Loads the TorchScript engine module (vsrup_torch.so, see locate.h) once and returns its vtable;
 * NULL with a message if it cannot. */
const vsr_engine_ops *vsr_engine_torch_load(vsr_err *err);
/* What the loaded module was built with and sees now, for --version: "libtorch 2.11.0, CUDA 13.0
 * compiled in, 0 CUDA devices"; VSR_ERROR with a message if the module cannot be loaded. */
int vsr_engine_torch_describe(char *text, size_t size, vsr_err *err);

extern const vsr_engine_ops vsr_engine_resize_ops;
extern const vsr_engine_ops vsr_engine_sim_ops;
/* Defined by the module, looked up with dlsym. */
extern const vsr_engine_ops vsr_engine_torch_ops;
void vsr_engine_torch_build_info(char *text, size_t size);

#ifdef __cplusplus
}
#endif

#endif
