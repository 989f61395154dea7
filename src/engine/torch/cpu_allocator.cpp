#include "cpu_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>

#include <sys/mman.h>

#include <cstring>
#include <string>

namespace vsr_torch
{
namespace
{
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kBigBlock = size_t(4) << 20;
} // namespace

ReusingCpuAllocator &ReusingCpuAllocator::instance()
{
    static ReusingCpuAllocator *const a = [] {
        auto *created = new ReusingCpuAllocator();
        c10::SetCPUAllocator(created, /*priority=*/1);
        return created;
    }();
    return *a;
}

c10::DataPtr ReusingCpuAllocator::allocate(size_t n)
{
    void *p = n < kBigBlock ? c10::alloc_cpu(n) : take(n);
    return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
}

c10::DeleterFnPtr ReusingCpuAllocator::raw_deleter() const
{
    return &release;
}

void ReusingCpuAllocator::copy_data(void *dest, const void *src, std::size_t count) const
{
    std::memcpy(dest, src, count);
}

void ReusingCpuAllocator::engine_opened()
{
    std::lock_guard<std::mutex> lock(mutex_);
    users_++;
}

void ReusingCpuAllocator::engine_closed()
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (--users_ == 0)
        unmap_free_blocks(run_ + 1);
}

void ReusingCpuAllocator::release_kept()
{
    std::lock_guard<std::mutex> lock(mutex_);
    unmap_free_blocks(run_ + 1);
}

void ReusingCpuAllocator::end_run()
{
    std::lock_guard<std::mutex> lock(mutex_);
    unmap_free_blocks(run_);
    run_++;
}

void *ReusingCpuAllocator::take(size_t n)
{
    const size_t size = (n + kHugePage - 1) / kHugePage * kHugePage;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        /* The smallest kept block that holds the request: its pages are resident already, so
         * reusing it costs no memory, where mapping anew would add the whole request. Up to
         * twice the size, so a small tensor does not hold a block a large one needs next. */
        auto it = free_.lower_bound(size);
        if (it != free_.end() && it->first <= 2 * size) {
            void *p = it->second.p;
            in_use_[p] = it->first;
            free_.erase(it);
            return p;
        }
        /* A miss: the kept blocks too small for it are sizes this pass has left behind, and
         * keeping them would put this request on top of them (3.6 GB instead of 2.3 GB for a
         * tiny BasicVSR++ chunk at 360x264; glibc's allocator peaks at 1.9 GB, 1.7x slower). */
        for (it = free_.begin(); it != free_.end() && it->first < size;) {
            munmap(it->second.p, it->first);
            it = free_.erase(it);
        }
    }
    void *p = map_huge(size);
    if (!p) {
        /* The kept blocks may be what is missing. */
        std::lock_guard<std::mutex> lock(mutex_);
        unmap_free_blocks(run_ + 1);
    }
    if (!p && !(p = map_huge(size)))
        C10_THROW_ERROR(OutOfMemoryError,
                        "cannot map " + std::to_string(size >> 20) + " MiB for a CPU tensor");
    std::lock_guard<std::mutex> lock(mutex_);
    in_use_[p] = size;
    return p;
}

void ReusingCpuAllocator::release(void *p)
{
    ReusingCpuAllocator &a = instance();
    std::unique_lock<std::mutex> lock(a.mutex_);
    auto it = a.in_use_.find(p);
    if (it == a.in_use_.end()) {
        lock.unlock();
        c10::free_cpu(p);
        return;
    }
    const size_t size = it->second;
    a.in_use_.erase(it);
    if (a.users_ > 0) {
        a.free_.insert({size, FreeBlock{p, a.run_}});
    } else {
        lock.unlock();
        munmap(p, size);
    }
}

/* An anonymous mapping of `size` (a multiple of kHugePage) aligned to kHugePage. */
void *ReusingCpuAllocator::map_huge(size_t size)
{
    void *raw =
        mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return nullptr;
    const uintptr_t start = (uintptr_t(raw) + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
    const size_t head = start - uintptr_t(raw);
    if (head)
        munmap(raw, head);
    munmap(reinterpret_cast<void *>(start + size), kHugePage - head);
#ifdef MADV_HUGEPAGE
    /* Advice only: where THP is off it stays 4 KiB pages, still reused. */
    madvise(reinterpret_cast<void *>(start), size, MADV_HUGEPAGE);
#endif
    return reinterpret_cast<void *>(start);
}

void ReusingCpuAllocator::unmap_free_blocks(uint64_t freed_before)
{
    for (auto it = free_.begin(); it != free_.end();) {
        if (it->second.run < freed_before) {
            munmap(it->second.p, it->first);
            it = free_.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace vsr_torch
