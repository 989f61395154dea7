/*
 * The engine: turns a chunk of low-resolution RGB frames into encoder-ready planes.
 * A small vtable (dav1d style) so the pipeline does not care whether the work is a
 * built-in resize or a TorchScript model on a GPU. Only the engine thread calls it.
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
} vsr_engine_info;

/* Messages an engine has for the user (a fallback it took, say): level is a VSR_LOG_* value. */
typedef void (*vsr_engine_log_fn)(int level, const char *message);

typedef struct vsr_engine_options {
    const char *model;  /* "bicubic", "lanczos", or a path to a TorchScript file */
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

typedef struct vsr_engine_ops {
    const char *name;
    int (*open)(vsr_engine *engine, const vsr_engine_options *options, vsr_err *err);
    /*
     * Runs frames in[0..n_in) as one sequence and writes the results for frames
     * [keep_begin, keep_begin + keep_count) into out[0..keep_count).
     * Returns VSR_OK, VSR_ERROR, or VSR_ERROR_OOM (nothing written; retry smaller).
     */
    int (*run)(vsr_engine *engine, const float *const *in, int n_in, int keep_begin, int keep_count,
               const vsr_planes *out, vsr_err *err);
    void (*close)(vsr_engine *engine);
    /*
     * Optional, for engines on an accelerator: the peak of the device memory used since the
     * last reset (reset first when `reset`), and how much the engine could use in all (what
     * it holds now plus what the device has free). VSR_ERROR when it works in host memory.
     */
    int (*device_memory)(vsr_engine *engine, int reset, int64_t *peak, int64_t *available);
} vsr_engine_ops;

struct vsr_engine {
    const vsr_engine_ops *ops;
    void *priv;
    vsr_engine_info info;
    vsr_engine_options options;
};

/* 1 when model names a built-in resize (bicubic, lanczos) rather than a file. */
int vsr_engine_is_builtin(const char *model);
/* Opens the built-in engine named by options->model, or the TorchScript engine for a path. */
int vsr_engine_open(vsr_engine **engine, const vsr_engine_options *options, vsr_err *err);
void vsr_engine_close(vsr_engine **engine);

/* Loads the TorchScript engine module (vsrup_torch.so, see locate.h) once and returns its vtable;
 * NULL with a message if it cannot. */
const vsr_engine_ops *vsr_engine_torch_load(vsr_err *err);
/* What the loaded module was built with and sees now, for --version: "libtorch 2.11.0, CUDA 13.0
 * compiled in, 0 CUDA devices"; VSR_ERROR with a message if the module cannot be loaded. */
int vsr_engine_torch_describe(char *text, size_t size, vsr_err *err);

extern const vsr_engine_ops vsr_engine_resize_ops;
/* Defined by the module, looked up with dlsym. */
extern const vsr_engine_ops vsr_engine_torch_ops;
void vsr_engine_torch_build_info(char *text, size_t size);

#ifdef __cplusplus
}
#endif

#endif
