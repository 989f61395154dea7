/*
 * Where vsrup finds what is installed beside it: the TorchScript engine module and the
 * model it runs when -m is not given. Lookups read the environment and the file system.
 */
#ifndef VSR_LOCATE_H
#define VSR_LOCATE_H

#include <stddef.h>

#include "vsr_types.h"

/* The file name scripts/fetch-model.sh gives the exported BasicVSR++ REDS4 by default. */
#define VSR_DEFAULT_MODEL_NAME "basicvsrpp-reds4.pt"

/*
 * vsrup_torch.so: the VSRUP_TORCH_MODULE variable, else next to the program (a build
 * tree), else ../lib/vsrup from it (installed). VSR_OK with its path if found.
 */
int vsr_locate_torch_module(char *path, size_t size);

/*
 * The default model: the VSRUP_MODEL variable (a file or a built-in name), else
 * VSR_DEFAULT_MODEL_NAME in the fetch cache ($VSRUP_CACHE, else $XDG_CACHE_HOME/vsrup, else
 * ~/.cache/vsrup), else in ../share/vsrup from the program. VSR_OK with its path, or
 * VSR_ERROR with err saying what is missing and how to get it. is_builtin tells a built-in
 * name in VSRUP_MODEL from a missing file (the caller passes vsr_engine_is_builtin: the engine
 * finds its module here, so this side does not depend on the engine).
 */
int vsr_locate_default_model(char *path, size_t size, int (*is_builtin)(const char *model),
                             vsr_err *err);

#endif
