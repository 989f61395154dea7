/* Buffers for whole pictures, as allocators for AVBufferPool. */
#ifndef VSR_BIGBUF_H
#define VSR_BIGBUF_H

#include <stddef.h>

#include <libavutil/buffer.h>

/*
 * `size` bytes aligned to 2 MiB and offered to the kernel for transparent huge pages: a
 * 4K-page picture buffer costs thousands of page faults on first touch, a huge-page one a few.
 */
AVBufferRef *vsr_bigbuf_alloc(size_t size);

#endif
