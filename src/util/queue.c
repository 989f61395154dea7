#include "queue.h"

#include <pthread.h>
#include <stdlib.h>

struct vsr_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    void **items;
    int capacity, head, count;
    int ended, cancelled;
};

vsr_queue *vsr_queue_alloc(int capacity)
{
    vsr_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->items = calloc(capacity, sizeof(*q->items));
    if (!q->items) {
        free(q);
        return NULL;
    }
    q->capacity = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_full, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    return q;
}

void vsr_queue_free(vsr_queue **queue)
{
    vsr_queue *q = *queue;
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    free(q->items);
    free(q);
    *queue = NULL;
}

int vsr_queue_push(vsr_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == q->capacity && !q->cancelled)
        pthread_cond_wait(&q->not_full, &q->lock);
    int ret = -1;
    if (!q->cancelled) {
        q->items[(q->head + q->count) % q->capacity] = item;
        q->count++;
        pthread_cond_signal(&q->not_empty);
        ret = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return ret;
}

int vsr_queue_pop(vsr_queue *q, void **item)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->ended && !q->cancelled)
        pthread_cond_wait(&q->not_empty, &q->lock);
    int ret;
    if (q->cancelled) {
        ret = -1;
    } else if (q->count == 0) {
        ret = 0;
    } else {
        *item = q->items[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        pthread_cond_signal(&q->not_full);
        ret = 1;
    }
    pthread_mutex_unlock(&q->lock);
    return ret;
}

static void queue_set(vsr_queue *q, int *flag)
{
    pthread_mutex_lock(&q->lock);
    *flag = 1;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

void vsr_queue_end(vsr_queue *q)
{
    queue_set(q, &q->ended);
}

void vsr_queue_cancel(vsr_queue *q)
{
    queue_set(q, &q->cancelled);
}

void vsr_queue_drain(vsr_queue *q, void (*free_item)(void *item))
{
    pthread_mutex_lock(&q->lock);
    for (; q->count > 0; q->count--) {
        free_item(q->items[q->head]);
        q->head = (q->head + 1) % q->capacity;
    }
    pthread_mutex_unlock(&q->lock);
}
