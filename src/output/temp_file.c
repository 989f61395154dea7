/*
 * The output's temporary file (include/temp_file.h). vsrup creates it itself with O_EXCL (an
 * existing one is taken over only when empty, or with -y) and holds a POSIX write lock on it
 * until it is renamed or deleted: a second vsrup for the same output finds the lock and names
 * the process that holds it. The muxer writes through an AVIOContext on that descriptor, so
 * the file locked is the file written.
 */
#define _GNU_SOURCE /* fallocate */
#include "temp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <libavutil/common.h>
#include <libavutil/mem.h>

#include "compat.h"
#include "log.h"
#include "output_file.h"

#define IO_BUFFER (256 * 1024)
/* Room kept for the end of the file: a MOV index or MKV cues take some bytes per packet. */
#define END_FIXED (1 << 20)
#define END_PER_PACKET 64
/* Space claimed ahead of the writes, so the disk is asked only every few frames. */
#define CLAIM_AHEAD (32 << 20)
/* More names tried when NAME.partial.EXT is one of the inputs. */
#define MAX_ALTERNATIVES 100

struct vsr_temp_file {
    char *path, *name;
    int fd;
    AVIOContext *io;
    int64_t counted;   /* bytes handed to the muxer so far, or more (what it may buffer) */
    int64_t packets;   /* packets counted: each adds to the index at the end */
    int64_t claimed;   /* the file's blocks reach this far (fallocate) */
    int claim_missing; /* the file system cannot fallocate: ask statvfs instead */
    int kept;
};

/* An earlier run's work: an empty file holds none. */
static int has_data(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_size > 0;
}

/* The process holding a lock on fd's file, 0 if none. */
static pid_t lock_holder(int fd)
{
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_GETLK, &lock) < 0 || lock.l_type == F_UNLCK)
        return 0;
    return lock.l_pid;
}

static void set_busy(vsr_err *err, const char *name, pid_t pid)
{
    vsr_err_set(err,
                "%s: is being written by another vsrup (pid %ld); wait for it or choose "
                "another -o",
                name, (long)pid);
}

static void set_exists(vsr_err *err, const char *name)
{
    vsr_err_set(err,
                "%s: a partial output of an earlier run: continue it with --resume (the same "
                "command), or pass -y to start over",
                name);
}

int vsr_temp_file_check(const char *path, int overwrite, vsr_err *err)
{
    char *name = vsr_partial_name(path, 0);
    if (!name) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    int ret = VSR_OK;
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        pid_t pid = lock_holder(fd);
        int kept = !overwrite && has_data(fd);
        if (pid)
            set_busy(err, name, pid);
        else if (kept)
            set_exists(err, name);
        ret = pid ? VSR_ERROR : kept ? VSR_ERROR_PARTIAL_KEPT : VSR_OK;
        close(fd);
    }
    free(name);
    return ret;
}

/* The first partial name that is none of the inputs (malloc'd), or NULL. */
static char *choose_name(const char *path, const char *const *inputs, int nb_inputs)
{
    for (int k = 0; k <= MAX_ALTERNATIVES; k++) {
        char *name = vsr_partial_name(path, k);
        int taken = 0;
        for (int i = 0; name && i < nb_inputs && !taken; i++)
            taken = vsr_output_same_file(name, inputs[i]);
        if (!taken)
            return name;
        free(name);
    }
    return NULL;
}

/* Opens the file for writing, new unless overwrite; locks and empties it. */
static int open_locked(vsr_temp_file *f, int overwrite, vsr_err *err)
{
    f->fd = open(f->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f->fd < 0 && errno == EEXIST)
        f->fd = open(f->name, O_RDWR | O_CLOEXEC);
    if (f->fd < 0) {
        vsr_err_set(err, "%s: cannot create: %s", f->name, strerror(errno));
        return VSR_ERROR;
    }
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(f->fd, F_SETLK, &lock) < 0) {
        pid_t pid = lock_holder(f->fd);
        set_busy(err, f->name, pid ? pid : -1);
        return VSR_ERROR;
    }
    if (!overwrite && has_data(f->fd)) {
        set_exists(err, f->name); /* appeared since vsr_temp_file_check, or a join's */
        return VSR_ERROR;
    }
    if (ftruncate(f->fd, 0) < 0) {
        vsr_err_set(err, "%s: cannot empty: %s", f->name, strerror(errno));
        return VSR_ERROR;
    }
    return VSR_OK;
}

static int write_packet(void *opaque, VSR_AVIO_WRITE_CONST uint8_t *buf, int size)
{
    vsr_temp_file *f = opaque;
    for (int done = 0; done < size;) {
        ssize_t n = write(f->fd, buf + done, (size_t)(size - done));
        if (n < 0 && errno != EINTR)
            return AVERROR(errno);
        done += n > 0 ? (int)n : 0;
    }
    return size;
}

static int64_t seek(void *opaque, int64_t offset, int whence)
{
    vsr_temp_file *f = opaque;
    if (whence == AVSEEK_SIZE) {
        struct stat st;
        return fstat(f->fd, &st) < 0 ? AVERROR(errno) : st.st_size;
    }
    off_t pos = lseek(f->fd, offset, whence & ~AVSEEK_FORCE);
    return pos < 0 ? AVERROR(errno) : pos;
}

int vsr_temp_file_create(vsr_temp_file **out, const char *path, const char *const *inputs,
                         int nb_inputs, int overwrite, vsr_err *err)
{
    vsr_temp_file *f = calloc(1, sizeof(*f));
    *out = f;
    if (!f) {
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    f->fd = -1;
    f->path = strdup(path);
    f->name = choose_name(path, inputs, nb_inputs);
    if (!f->path || !f->name) {
        vsr_err_set(err, "%s: no temporary name that is not an input", path);
        return VSR_ERROR;
    }
    if (open_locked(f, overwrite, err) < 0) {
        close(f->fd); /* not locked by us, or not ours to delete */
        f->fd = -1;
        return VSR_ERROR;
    }
    unsigned char *buffer = av_malloc(IO_BUFFER);
    f->io = buffer ? avio_alloc_context(buffer, IO_BUFFER, 1, f, NULL, write_packet, seek) : NULL;
    if (!f->io) {
        av_free(buffer);
        vsr_err_set(err, "out of memory");
        return VSR_ERROR;
    }
    return VSR_OK;
}

AVIOContext *vsr_temp_file_io(vsr_temp_file *f)
{
    return f->io;
}

const char *vsr_temp_file_name(const vsr_temp_file *f)
{
    return f->name;
}

/* 0 when the file may grow to `end` bytes (blocks claimed on the disk, under RLIMIT_FSIZE),
 * else why not, an errno. */
static int can_reach(vsr_temp_file *f, int64_t end)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
        (uint64_t)end > (uint64_t)limit.rlim_cur)
        return EFBIG;
    if (end <= f->claimed)
        return 0;
    if (f->claim_missing) {
        struct statvfs vfs;
        int room = statvfs(f->name, &vfs) < 0 ||
                   (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize >= end - avio_tell(f->io);
        return room ? 0 : ENOSPC;
    }
    /* Blocks past the end of the file, kept for it: writes there cannot run out of space. */
    if (fallocate(f->fd, FALLOC_FL_KEEP_SIZE, 0, end + CLAIM_AHEAD) == 0) {
        f->claimed = end + CLAIM_AHEAD;
        return 0;
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
        f->claim_missing = 1;
        return can_reach(f, end);
    }
    if (fallocate(f->fd, FALLOC_FL_KEEP_SIZE, 0, end) < 0)
        return errno;
    f->claimed = end;
    return 0;
}

int vsr_temp_file_room(vsr_temp_file *f, int64_t bytes, vsr_err *err)
{
    int64_t counted = FFMAX(f->counted, avio_tell(f->io)) + bytes;
    int64_t end = counted + END_FIXED + END_PER_PACKET * (f->packets + 1);
    int why = can_reach(f, end);
    if (why) {
        vsr_err_set(err, "%s: no room for more frames (%s): the file ends here, with its index",
                    f->name, strerror(why));
        return VSR_ERROR;
    }
    f->counted = counted;
    f->packets++;
    return VSR_OK;
}

int vsr_temp_file_flush(vsr_temp_file *f, vsr_err *err)
{
    avio_flush(f->io);
    /* Blocks claimed past the end go back to the disk: a hole punched there frees them on
     * tmpfs, a truncation to the same size on ext4. */
    struct stat st;
    if (f->claimed && fstat(f->fd, &st) == 0 && f->claimed > st.st_size) {
        int punched = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st.st_size,
                                f->claimed - st.st_size) == 0;
        int truncated = ftruncate(f->fd, st.st_size) == 0;
        if (!punched && !truncated)
            vsr_log(VSR_LOG_WARN, "%s: %lld bytes claimed past its end stay allocated: %s", f->name,
                    (long long)(f->claimed - st.st_size), strerror(errno));
    }
    if (f->io->error < 0) {
        vsr_err_set(err, "%s: writing the file failed: %s", f->name, av_err2str(f->io->error));
        return VSR_ERROR;
    }
    return VSR_OK;
}

void vsr_temp_file_keep(vsr_temp_file *f)
{
    f->kept = 1;
}

int vsr_temp_file_rename(vsr_temp_file *f, vsr_err *err)
{
    if (rename(f->name, f->path) < 0) {
        vsr_err_set(err, "cannot rename %s to %s: %s", f->name, f->path, strerror(errno));
        return VSR_ERROR;
    }
    f->kept = 1;
    return VSR_OK;
}

void vsr_temp_file_close(vsr_temp_file **file)
{
    vsr_temp_file *f = *file;
    if (!f)
        return;
    if (f->io) {
        av_freep(&f->io->buffer);
        avio_context_free(&f->io);
    }
    if (f->fd >= 0) {
        if (!f->kept)
            unlink(f->name); /* still locked: it is ours */
        close(f->fd);
    }
    free(f->path);
    free(f->name);
    free(f);
    *file = NULL;
}
