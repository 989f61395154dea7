#include "bigbuf.h"

#include <stdlib.h>
#include <sys/mman.h>

enum { HUGE_PAGE = 2 << 20 };

static void bigbuf_free(void *opaque, uint8_t *data)
{
    (void)opaque;
    free(data);
}

AVBufferRef *vsr_bigbuf_alloc(size_t size)
{
    void *data = NULL;
    if (posix_memalign(&data, HUGE_PAGE, size) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(data, size, MADV_HUGEPAGE); /* advice only: without THP it is 4K pages as before */
#endif
    AVBufferRef *buf = av_buffer_create(data, size, bigbuf_free, NULL, 0);
    if (!buf)
        free(data);
    return buf;
}
