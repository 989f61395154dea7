/*
 * Several vsrup processes on one accelerator (docs/CHUNKS.md, "Sharing a GPU"). Each process
 * that sizes its chunk from the device's free memory registers a claim: the bytes its budget
 * allows it. A claim is "pending" until the process has run its first chunk at that size, and
 * "held" after: a held claim is already missing from what the device reports free, a pending
 * one is not yet. A new process budgets from the free memory less the pending claims, so two
 * processes never both budget the same free bytes. Measuring and claiming happen under one
 * lock per device, so two processes starting together take turns.
 *
 * The registry is a folder of small files, one per process and device, each locked (flock) by
 * its process for as long as it lives: a file nobody locks is stale and removed. Processes see
 * each other when they share that folder: $VSRUP_RUNTIME_DIR, else $XDG_RUNTIME_DIR/vsrup,
 * else /tmp/vsrup-<uid> (containers sharing a GPU need a shared folder for it).
 */
#ifndef VSR_DEVICE_SHARE_H
#define VSR_DEVICE_SHARE_H

#include <stdint.h>

#include "vsr_types.h"

typedef struct vsr_device_share vsr_device_share;

/*
 * Registers this process on the device `device_id` (a GPU UUID) and takes the device's lock,
 * held until vsr_device_share_claim. `pending` gets the bytes other live processes have
 * claimed but not yet taken, `peers` their number. dir NULL: the default folder.
 */
int vsr_device_share_join(vsr_device_share **share, const char *dir, const char *device_id,
                          int64_t *pending, int *peers, vsr_err *err);
/* Records this process's claim as pending and releases the device's lock. */
int vsr_device_share_claim(vsr_device_share *share, int64_t bytes);
/* The claim is now allocated on the device (after the first chunk). */
int vsr_device_share_held(vsr_device_share *share);
/* Removes the registration (also of a process that exits without it: the lock goes). */
void vsr_device_share_leave(vsr_device_share **share);

#endif
