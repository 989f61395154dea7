#include "memory.h"

#include <stdio.h>
#include <string.h>

#include "vsr_types.h"

/* The value of a "Key:   123 kB" line of a /proc file, in bytes; -1 if absent. */
static int64_t proc_kib(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    size_t len = strlen(key);
    long long kib = -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, key, len) && line[len] == ':' &&
            sscanf(line + len + 1, "%lld", &kib) == 1)
            break;
    fclose(f);
    return kib < 0 ? -1 : (int64_t)kib * 1024;
}

int64_t vsr_memory_available(void)
{
    return proc_kib("/proc/meminfo", "MemAvailable");
}

int64_t vsr_memory_resident(void)
{
    return proc_kib("/proc/self/status", "VmRSS");
}

int64_t vsr_memory_peak(void)
{
    return proc_kib("/proc/self/status", "VmHWM");
}

int vsr_memory_reset_peak(void)
{
    /* "5" resets the peak resident size (Documentation/filesystems/proc.rst). */
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return VSR_ERROR;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? VSR_OK : VSR_ERROR;
}
