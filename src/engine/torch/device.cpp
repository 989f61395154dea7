#include "device.h"

#ifdef VSR_TORCH_CUDA
#include <ATen/Context.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <optional>
#endif

#include <stdexcept>

namespace vsr_torch
{

#ifdef VSR_TORCH_CUDA

struct StagingSet {
    at::Tensor host_in;               /* pinned float32 staging of one chunk */
    at::cuda::CUDAEvent in_copied;    /* host_in may be refilled once this has passed */
    std::vector<at::Tensor> host_out; /* pinned encoder planes of one chunk */
    /* On the compute stream: the chunk's work starts (its input copied) and ends (host_out
     * holds its planes); timed, for the device's busy time. */
    at::cuda::CUDAEvent started{cudaEventDefault};
    at::cuda::CUDAEvent out_copied{cudaEventDefault};
};

struct CudaState {
    explicit CudaState(c10::DeviceIndex i)
        : index(i), copy_stream(c10::cuda::getStreamFromPool(false, i))
    {
    }
    c10::DeviceIndex index;
    c10::cuda::CUDAStream copy_stream; /* host->device copies, ordered by events */
    StagingSet sets[kStagingSets];
    int next = 0;
};

bool cuda_compiled()
{
    return true;
}

std::string cuda_build_version()
{
    return std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10);
}

int cuda_device_count()
{
    return int(c10::cuda::device_count());
}

CudaStatePtr cuda_open(const at::Device &device)
{
    at::globalContext().setBenchmarkCuDNN(true);
    at::globalContext().setAllowTF32CuDNN(true);
    at::globalContext().setAllowTF32CuBLAS(true);
    return CudaStatePtr(new CudaState(device.index()));
}

int cuda_next_set(CudaState &c)
{
    const int set = c.next;
    c.next = (c.next + 1) % kStagingSets;
    return set;
}

at::Tensor cuda_stage(CudaState &c, int set, const std::vector<int64_t> &shape,
                      const std::function<void(float *)> &fill)
{
    StagingSet &s = c.sets[set];
    s.in_copied.synchronize(); /* the copy of the chunk before last has left host_in */
    if (!s.host_in.defined() || s.host_in.sizes() != at::IntArrayRef(shape))
        s.host_in = at::empty(shape, at::TensorOptions().dtype(at::kFloat).pinned_memory(true));
    fill(s.host_in.data_ptr<float>());
    const at::Device device(at::kCUDA, c.index);
    /* Allocated on the compute stream; the copy stream waits until that memory is free. */
    at::Tensor dev = at::empty(shape, at::TensorOptions().dtype(at::kFloat).device(device));
    c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(c.index);
    at::cuda::CUDAEvent allocated;
    allocated.record(compute);
    allocated.block(c.copy_stream);
    {
        c10::cuda::CUDAStreamGuard guard(c.copy_stream);
        dev.copy_(s.host_in, /*non_blocking=*/true);
        s.in_copied.record(c.copy_stream);
    }
    s.in_copied.block(compute); /* so a later reuse of `dev` by the compute stream is safe */
    s.started.record(compute);
    return dev;
}

std::vector<at::Tensor> cuda_fetch(CudaState &c, int set, const std::vector<at::Tensor> &planes)
{
    StagingSet &s = c.sets[set];
    s.host_out.resize(planes.size());
    for (size_t i = 0; i < planes.size(); i++) {
        at::Tensor &h = s.host_out[i];
        if (!h.defined() || h.sizes() != planes[i].sizes() ||
            h.scalar_type() != planes[i].scalar_type())
            h = at::empty(planes[i].sizes(),
                          at::TensorOptions().dtype(planes[i].scalar_type()).pinned_memory(true));
        h.copy_(planes[i], /*non_blocking=*/true);
    }
    s.out_copied.record(c10::cuda::getCurrentCUDAStream(c.index));
    return s.host_out;
}

double cuda_wait(CudaState &c, int set)
{
    StagingSet &s = c.sets[set];
    s.out_copied.synchronize();
    return s.started.elapsed_time(s.out_copied) / 1000.0;
}

namespace
{

/* Capture needs a non-default stream: a pool stream is made current between begin and end. */
class CudaGraphDevice final : public GraphDevice
{
  public:
    explicit CudaGraphDevice(c10::DeviceIndex index) : index_(index) {}

    void warm_up(const std::function<void()> &fn) override
    {
        c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(index_);
        c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, index_);
        at::cuda::CUDAEvent ready;
        ready.record(current);
        ready.block(side);
        {
            c10::cuda::CUDAStreamGuard guard(side);
            fn();
        }
        side.synchronize();
    }
    void begin() override
    {
        graph_ = std::make_unique<at::cuda::CUDAGraph>();
        previous_.emplace(c10::cuda::getCurrentCUDAStream(index_));
        c10::cuda::setCurrentCUDAStream(c10::cuda::getStreamFromPool(false, index_));
        graph_->capture_begin();
    }
    void end() override
    {
        /* capture_end releases the allocator's capture pool before it checks the capture, so
         * after it the stream and the allocator are out of capture mode even when it throws. */
        c10::cuda::CUDAStream capture = c10::cuda::getCurrentCUDAStream(index_);
        struct Restore {
            CudaGraphDevice *self;
            ~Restore()
            {
                if (self->previous_)
                    c10::cuda::setCurrentCUDAStream(*self->previous_);
                self->previous_.reset();
            }
        } restore{this};
        graph_->capture_end();
        capture.synchronize();
    }
    void replay() override
    {
        graph_->replay();
    }
    void reset() override
    {
        graph_.reset();
    }

  private:
    c10::DeviceIndex index_;
    std::unique_ptr<at::cuda::CUDAGraph> graph_;
    std::optional<c10::cuda::CUDAStream> previous_;
};

} // namespace

std::unique_ptr<GraphDevice> cuda_graph_device(CudaState &c)
{
    return std::make_unique<CudaGraphDevice>(c.index);
}

bool cuda_memory(CudaState &c, bool reset, int64_t *peak, int64_t *available)
{
    if (reset)
        c10::cuda::CUDACachingAllocator::resetPeakStats(c.index);
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(c.index);
    const size_t aggregate = 0; /* StatType::AGGREGATE */
    size_t free_bytes = 0, total_bytes = 0;
    c10::cuda::CUDAGuard guard(c.index);
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess)
        return false;
    *peak = stats.allocated_bytes[aggregate].peak;
    *available = static_cast<int64_t>(free_bytes) + stats.reserved_bytes[aggregate].current;
    return true;
}

void cuda_empty_cache()
{
    c10::cuda::CUDACachingAllocator::emptyCache();
}

std::string cuda_device_uuid(CudaState &c)
{
    const cudaDeviceProp *prop = at::cuda::getDeviceProperties(c.index);
    std::string s = "GPU-";
    char hex[3];
    for (int i = 0; i < 16; i++) {
        std::snprintf(hex, sizeof(hex), "%02x", static_cast<unsigned char>(prop->uuid.bytes[i]));
        s += hex;
    }
    return s;
}

#else /* no CUDA compiled in */

struct CudaState {
};

bool cuda_compiled()
{
    return false;
}

std::string cuda_build_version()
{
    return "";
}

int cuda_device_count()
{
    return 0;
}

CudaStatePtr cuda_open(const at::Device &)
{
    throw std::runtime_error("this vsrup_torch.so was built without CUDA");
}

int cuda_next_set(CudaState &)
{
    throw std::logic_error("no CUDA");
}

at::Tensor cuda_stage(CudaState &, int, const std::vector<int64_t> &,
                      const std::function<void(float *)> &)
{
    throw std::logic_error("no CUDA");
}

std::vector<at::Tensor> cuda_fetch(CudaState &, int, const std::vector<at::Tensor> &)
{
    throw std::logic_error("no CUDA");
}

double cuda_wait(CudaState &, int)
{
    throw std::logic_error("no CUDA");
}

std::unique_ptr<GraphDevice> cuda_graph_device(CudaState &)
{
    throw std::logic_error("no CUDA");
}

bool cuda_memory(CudaState &, bool, int64_t *, int64_t *)
{
    return false;
}

void cuda_empty_cache() {}

std::string cuda_device_uuid(CudaState &)
{
    return "";
}

#endif

void CudaStateDeleter::operator()(CudaState *state) const
{
    delete state;
}

} // namespace vsr_torch
