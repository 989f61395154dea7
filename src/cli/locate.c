/* Installed files found from the environment, the program's folder and the fetch cache. */
#include "locate.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TORCH_MODULE_NAME "vsrup_torch.so"

/* A variable's value, NULL when unset or empty (as the shell's ${VAR:-default} reads it). */
static const char *env_value(const char *name)
{
    const char *value = getenv(name);
    return value && *value ? value : NULL;
}

/* The folder the running program is in. */
static int program_dir(char *dir, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", dir, size - 1);
    if (n <= 0)
        return VSR_ERROR;
    dir[n] = '\0';
    *strrchr(dir, '/') = '\0';
    return VSR_OK;
}

/* dir/subdir/name into path; VSR_OK when that file is readable. */
static int readable_at(char *path, size_t size, const char *dir, const char *subdir,
                       const char *name)
{
    int n = snprintf(path, size, "%s%s/%s", dir, subdir, name);
    return n > 0 && (size_t)n < size && access(path, R_OK) == 0 ? VSR_OK : VSR_ERROR;
}

int vsr_locate_torch_module(char *path, size_t size)
{
    const char *env = env_value("VSRUP_TORCH_MODULE");
    if (env) {
        snprintf(path, size, "%s", env);
        return access(path, R_OK) == 0 ? VSR_OK : VSR_ERROR;
    }
    char exe[PATH_MAX];
    if (program_dir(exe, sizeof(exe)) < 0)
        return VSR_ERROR;
    if (readable_at(path, size, exe, "", TORCH_MODULE_NAME) == VSR_OK)
        return VSR_OK;
    return readable_at(path, size, exe, "/../lib/vsrup", TORCH_MODULE_NAME);
}

/* Where scripts/fetch-model.sh keeps its downloads and exports (the same rule as there). */
static void fetch_cache_dir(char *dir, size_t size)
{
    const char *cache = env_value("VSRUP_CACHE");
    if (cache) {
        snprintf(dir, size, "%s", cache);
        return;
    }
    const char *xdg = env_value("XDG_CACHE_HOME"), *home = env_value("HOME");
    if (xdg)
        snprintf(dir, size, "%s/vsrup", xdg);
    else
        snprintf(dir, size, "%s/.cache/vsrup", home ? home : "");
}

int vsr_locate_default_model(char *path, size_t size, int (*is_builtin)(const char *model),
                             vsr_err *err)
{
    const char *env = env_value("VSRUP_MODEL");
    if (env) {
        snprintf(path, size, "%s", env);
        if (is_builtin(env) || access(path, R_OK) == 0)
            return VSR_OK;
        vsr_err_set(err, "VSRUP_MODEL=%s: %s", env, strerror(errno));
        return VSR_ERROR;
    }
    char cache[PATH_MAX], exe[PATH_MAX];
    fetch_cache_dir(cache, sizeof(cache));
    if (readable_at(path, size, cache, "", VSR_DEFAULT_MODEL_NAME) == VSR_OK)
        return VSR_OK;
    if (program_dir(exe, sizeof(exe)) == VSR_OK &&
        readable_at(path, size, exe, "/../share/vsrup", VSR_DEFAULT_MODEL_NAME) == VSR_OK)
        return VSR_OK;
    vsr_err_set(err,
                "BasicVSR++ is not installed (%s/%s): run scripts/fetch-model.sh or set "
                "VSRUP_MODEL",
                cache, VSR_DEFAULT_MODEL_NAME);
    return VSR_ERROR;
}
