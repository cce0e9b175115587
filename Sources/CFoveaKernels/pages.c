// Moving memory pages between addresses without copying them (Linux's mremap), for the
// buffer pool: a buffer it must hand out is assembled from the pages of buffers it holds.
#ifdef __linux__
#define _GNU_SOURCE
#include <sys/mman.h>
#endif
#include "FoveaKernels.h"

int fovea_move_pages(void *from, size_t bytes, void *to) {
#ifdef __linux__
    void *moved = mremap(from, bytes, bytes, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    return moved == to ? 0 : -1;
#else
    (void)from; (void)bytes; (void)to;
    return -1;
#endif
}
