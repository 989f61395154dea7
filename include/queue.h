/* A bounded blocking FIFO of pointers between two threads, with end and cancel. */
#ifndef VSR_QUEUE_H
#define VSR_QUEUE_H

typedef struct vsr_queue vsr_queue;

vsr_queue *vsr_queue_alloc(int capacity);
void vsr_queue_free(vsr_queue **queue);
/* Blocks while full. Returns 0, or -1 if the queue was cancelled (item not taken). */
int vsr_queue_push(vsr_queue *queue, void *item);
/* Blocks while empty. Returns 1 with *item, 0 when ended and drained, -1 when cancelled. */
int vsr_queue_pop(vsr_queue *queue, void **item);
/* Producer is done: pops drain what is left, then return 0. */
void vsr_queue_end(vsr_queue *queue);
/* Stop both sides now: blocked and later calls return -1. */
void vsr_queue_cancel(vsr_queue *queue);
/* After both sides are done: frees what is still queued with free_item. */
void vsr_queue_drain(vsr_queue *queue, void (*free_item)(void *item));

#endif
