/* CPU memory for libtorch while a CPU engine is open: large blocks on huge pages, reused. */
#ifndef VSR_TORCH_CPU_ALLOCATOR_H
#define VSR_TORCH_CPU_ALLOCATOR_H

#include <c10/core/Allocator.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

namespace vsr_torch
{

/*
 * Why: a forward pass on the CPU allocates and frees its activations layer by layer, and at
 * video sizes they are large (ESRGAN slim x4 at 720x528: 97 MB per 64-channel map, 1.2 GB for
 * the 48-channel map before its last 4x convolution, plus oneDNN's blocked copies of each).
 * glibc maps every block above 32 MB afresh and unmaps it on free, so each frame faulted in
 * and zeroed about 6.5 GB of 4 KiB pages: 40 % of the CPU time was the kernel's page-fault
 * path, and the 4 KiB pages made the convolutions themselves TLB-bound.
 *
 * While a CPU engine is open, libtorch's CPU allocator (which oneDNN's buffers go through too)
 * is this one: blocks of kBigBlock and up are 2 MiB-aligned transparent huge pages, and a freed
 * block is kept for the next request it can hold (up to twice its size), so from the second
 * frame on a forward pass touches no new memory; a request no kept block holds unmaps the
 * kept blocks smaller than it first (see take()). What a run did not reuse is unmapped when it ends
 * (end_run), so what stays mapped is what the next chunk of the same shape asks for again. Smaller
 * blocks go to c10's own alloc_cpu.
 *
 * libtorch keeps the allocator as a raw pointer for the whole process and tensors may be freed
 * at any time, so there is one instance, created on first use and never destroyed.
 */
class ReusingCpuAllocator final : public c10::Allocator
{
  public:
    static ReusingCpuAllocator &instance();

    c10::DataPtr allocate(size_t n) override;
    c10::DeleterFnPtr raw_deleter() const override;
    void copy_data(void *dest, const void *src, std::size_t count) const override;

    /* Caching is on while at least one CPU engine is open. */
    void engine_opened();
    void engine_closed();
    /* Unmaps every kept block. */
    void release_kept();
    /* Unmaps the kept blocks that this run did not reuse. */
    void end_run();

  private:
    struct FreeBlock {
        void *p;
        uint64_t run; /* the run that freed it */
    };

    ReusingCpuAllocator() = default;
    void *take(size_t n);
    static void release(void *p);
    static void *map_huge(size_t size);
    void unmap_free_blocks(uint64_t freed_before); /* with mutex_ held */

    std::mutex mutex_;
    std::unordered_map<void *, size_t> in_use_; /* large blocks handed out, by size */
    std::multimap<size_t, FreeBlock> free_;     /* large blocks kept, by size */
    uint64_t run_ = 0;
    int users_ = 0;
};

} // namespace vsr_torch

#endif
