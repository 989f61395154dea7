#include "device_share.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

struct vsr_device_share {
    char dir[PATH_MAX - 128];
    char path[PATH_MAX]; /* this process's claim file, locked while it lives */
    int fd, lock_fd;
};

static void default_dir(char *dir, size_t size)
{
    const char *env = getenv("VSRUP_RUNTIME_DIR");
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (env && *env)
        snprintf(dir, size, "%s", env);
    else if (runtime && *runtime)
        snprintf(dir, size, "%s/vsrup", runtime);
    else
        snprintf(dir, size, "/tmp/vsrup-%u", (unsigned)getuid());
}

/* Claim files are "<device>.<pid>" holding "<bytes> pending|held". */
static int write_claim(vsr_device_share *s, int64_t bytes, const char *state)
{
    char text[64];
    int n = snprintf(text, sizeof(text), "%" PRId64 " %s\n", bytes, state);
    if (ftruncate(s->fd, 0) < 0 || pwrite(s->fd, text, (size_t)n, 0) != n)
        return VSR_ERROR;
    return VSR_OK;
}

/* Adds up the pending claims of the live peers on `device_id`; removes stale files. */
static void read_peers(const vsr_device_share *s, const char *device_id, int64_t *pending,
                       int *peers)
{
    *pending = 0;
    *peers = 0;
    DIR *d = opendir(s->dir);
    if (!d)
        return;
    const size_t id_len = strlen(device_id);
    struct dirent *entry;
    while ((entry = readdir(d))) {
        const char *name = entry->d_name;
        if (strncmp(name, device_id, id_len) || name[id_len] != '.' ||
            !strcmp(name + id_len + 1, "lock"))
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", s->dir, name) >= (int)sizeof(path))
            continue;
        if (!strcmp(path, s->path))
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
            unlink(path); /* its process is gone */
        } else {
            char text[64] = {0};
            int64_t bytes = 0;
            char state[16] = {0};
            if (pread(fd, text, sizeof(text) - 1, 0) > 0 &&
                sscanf(text, "%" SCNd64 " %15s", &bytes, state) == 2 && !strcmp(state, "pending"))
                *pending += bytes;
            ++*peers;
        }
        close(fd);
    }
    closedir(d);
}

int vsr_device_share_join(vsr_device_share **share, const char *dir, const char *device_id,
                          int64_t *pending, int *peers, vsr_err *err)
{
    vsr_device_share *s = calloc(1, sizeof(*s));
    if (!s) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    s->fd = s->lock_fd = -1;
    if (dir)
        snprintf(s->dir, sizeof(s->dir), "%s", dir);
    else
        default_dir(s->dir, sizeof(s->dir));
    char lock_path[PATH_MAX];
    snprintf(lock_path, sizeof(lock_path), "%s/%s.lock", s->dir, device_id);
    snprintf(s->path, sizeof(s->path), "%s/%s.%ld", s->dir, device_id, (long)getpid());
    if ((mkdir(s->dir, 0700) < 0 && errno != EEXIST) ||
        (s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
        flock(s->lock_fd, LOCK_EX) < 0 ||
        (s->fd = open(s->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
        flock(s->fd, LOCK_EX | LOCK_NB) < 0 || write_claim(s, 0, "pending") < 0) {
        vsr_err_set(err, "%s: cannot register for the device's memory: %s", s->dir,
                    strerror(errno));
        vsr_device_share_leave(&s);
        return VSR_ERROR;
    }
    read_peers(s, device_id, pending, peers);
    *share = s;
    return VSR_OK;
}

int vsr_device_share_claim(vsr_device_share *s, int64_t bytes)
{
    int ret = write_claim(s, bytes, "pending");
    if (s->lock_fd >= 0) {
        close(s->lock_fd); /* releases the device's lock */
        s->lock_fd = -1;
    }
    return ret;
}

int vsr_device_share_held(vsr_device_share *s)
{
    char text[64] = {0};
    int64_t bytes = 0;
    if (pread(s->fd, text, sizeof(text) - 1, 0) <= 0 || sscanf(text, "%" SCNd64, &bytes) != 1)
        return VSR_ERROR;
    return write_claim(s, bytes, "held");
}

void vsr_device_share_leave(vsr_device_share **share)
{
    vsr_device_share *s = *share;
    if (!s)
        return;
    if (s->fd >= 0) {
        unlink(s->path);
        close(s->fd);
    }
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
    *share = NULL;
}
