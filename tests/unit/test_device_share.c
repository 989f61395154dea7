/*
 * Two vsrup processes on one GPU, without a GPU: a fake engine reports device-memory figures
 * (a fixed free amount, a peak that grows by a known amount per frame) and a child process
 * stands for the other vsrup, registered in the same folder. The second process must budget
 * only what the first has not claimed, see a claim go from pending to held, and forget a
 * process that died without leaving.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "chunk_fit.h"
#include "device_share.h"

#define MIB (1024 * 1024LL)
#define FREE_BYTES (10000 * MIB)
#define FIXED (500 * MIB)
#define PER_FRAME (100 * MIB)

static const char *device = "GPU-00112233445566778899aabbccddeeff";
static int last_frames;

static int fake_run(vsr_engine *e, const float *const *in, int n_in, int keep_begin, int keep_count,
                    const vsr_planes *out, vsr_err *err)
{
    (void)e, (void)in, (void)keep_begin, (void)keep_count, (void)out, (void)err;
    last_frames = n_in;
    return VSR_OK;
}

static int fake_memory(vsr_engine *e, int reset, int64_t *peak, int64_t *available)
{
    (void)e, (void)reset;
    *peak = FIXED + (int64_t)last_frames * PER_FRAME;
    *available = FREE_BYTES;
    return VSR_OK;
}

static const vsr_engine_ops fake_ops = {
    .name = "fake-gpu", .run = fake_run, .device_memory = fake_memory};

static vsr_engine fake_engine(void)
{
    vsr_engine e = {.ops = &fake_ops};
    e.info.scale = 4;
    e.info.temporal = 1;
    e.info.min_frames = 1;
    e.options.in_w = 8;
    e.options.in_h = 8;
    e.options.out_layout = (vsr_pixel_layout){.rgb = 1, .bits = 16};
    snprintf(e.info.device_id, sizeof(e.info.device_id), "%s", device);
    return e;
}

/* A child that registers, claims `claim` bytes, marks it held when told, and waits. */
static pid_t start_peer(const char *dir, int64_t claim, int *command)
{
    int to_child[2], from_child[2];
    if (pipe(to_child) < 0 || pipe(from_child) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        vsr_device_share *share;
        int64_t pending;
        int peers;
        vsr_err err;
        char c = 'x';
        if (vsr_device_share_join(&share, dir, device, &pending, &peers, &err) == VSR_OK &&
            vsr_device_share_claim(share, claim) == VSR_OK)
            c = 'r';
        if (write(from_child[1], &c, 1) != 1)
            _exit(1);
        while (read(to_child[0], &c, 1) == 1 && c == 'h') {
            vsr_device_share_held(share);
            if (write(from_child[1], &c, 1) != 1)
                _exit(1);
        }
        vsr_device_share_leave(&share);
        _exit(0);
    }
    char ready = 0;
    CHECK(read(from_child[0], &ready, 1) == 1 && ready == 'r', "peer registered");
    command[0] = to_child[1];
    command[1] = from_child[0];
    return pid;
}

static void join_and_count(const char *dir, int64_t *pending, int *peers)
{
    vsr_device_share *share = NULL;
    vsr_err err = {{0}};
    CHECK(vsr_device_share_join(&share, dir, device, pending, peers, &err) == VSR_OK, "join: %s",
          err.msg);
    vsr_device_share_leave(&share);
}

int main(void)
{
    char dir[256];
    if (!fixture_temp_dir(dir, sizeof(dir), "device_share"))
        return 1;
    vsr_engine engine = fake_engine();
    vsr_chunk_fit alone, shared;
    vsr_err err = {{0}};

    /* Alone: 80 % of the free memory. */
    int64_t pending;
    int peers;
    join_and_count(dir, &pending, &peers);
    CHECK(pending == 0 && peers == 0, "no peers yet (%lld, %d)", (long long)pending, peers);
    CHECK(vsr_chunk_fit_measure(&engine, 2, 1, 0, pending, &alone, &err) == VSR_OK, "%s", err.msg);
    CHECK(alone.per_frame == PER_FRAME && alone.fixed == FIXED, "measured line");
    CHECK(alone.budget == (int64_t)(0.8 * FREE_BYTES), "budget alone %lld",
          (long long)alone.budget);

    /* Another process has claimed 6000 MiB it has not allocated yet: the free figure still
     * includes them, so they must not be budgeted again. */
    int command[2] = {-1, -1};
    pid_t peer = start_peer(dir, 6000 * MIB, command);
    join_and_count(dir, &pending, &peers);
    CHECK(peers == 1 && pending == 6000 * MIB, "pending claim seen (%lld, %d)", (long long)pending,
          peers);
    CHECK(vsr_chunk_fit_measure(&engine, 2, 1, 0, pending, &shared, &err) == VSR_OK, "%s", err.msg);
    CHECK(shared.budget == (int64_t)(0.8 * (FREE_BYTES - 6000 * MIB)), "budget shared %lld",
          (long long)shared.budget);
    CHECK(shared.chunk < alone.chunk && shared.chunk == (3200 - 500) / 100 - 4,
          "chunk %d shared, %d alone", shared.chunk, alone.chunk);
    CHECK(vsr_chunk_fit_peak(&shared) <= shared.budget, "the claim fits the budget");

    /* Once held, the claim is already missing from the free figure: nothing more to subtract. */
    char c = 'h';
    CHECK(write(command[0], &c, 1) == 1 && read(command[1], &c, 1) == 1, "peer marked held");
    join_and_count(dir, &pending, &peers);
    CHECK(peers == 1 && pending == 0, "held claim (%lld, %d)", (long long)pending, peers);

    /* A peer killed without leaving (SIGKILL, power loss of a container) no longer counts. */
    kill(peer, SIGKILL);
    waitpid(peer, NULL, 0);
    join_and_count(dir, &pending, &peers);
    CHECK(peers == 0 && pending == 0, "dead peer forgotten (%lld, %d)", (long long)pending, peers);

    /* --memory-limit is the user's word: taken as it is. */
    CHECK(vsr_chunk_fit_measure(&engine, 2, 1, 2000 * MIB, 6000 * MIB, &shared, &err) == VSR_OK &&
              shared.budget == 2000 * MIB,
          "limit");
    CHECK(fixture_remove_dir(dir), "cleanup");
    return check_summary();
}
