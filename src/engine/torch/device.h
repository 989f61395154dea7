/*
 * The CUDA side of the engine: pinned staging buffers, the copy stream, CUDA graphs and the
 * device's memory figures. Compiled in when the libtorch found by CMake has CUDA
 * (VSR_TORCH_CUDA); without it every function here says there is no device.
 */
#ifndef VSR_TORCH_DEVICE_H
#define VSR_TORCH_DEVICE_H

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph_runner.h"

namespace vsr_torch
{

struct CudaState;
struct CudaStateDeleter {
    void operator()(CudaState *state) const;
};
using CudaStatePtr = std::unique_ptr<CudaState, CudaStateDeleter>;

/* Whether CUDA was compiled in, and how many devices the machine shows now. */
bool cuda_compiled();
std::string cuda_build_version(); /* the CUDA runtime compiled against, "13.0" */
int cuda_device_count();

/* TF32 and cuDNN autotune on, a copy stream, pinned buffers to come. */
CudaStatePtr cuda_open(const at::Device &device);

/*
 * Two staging sets, so that chunk k+1 is staged while chunk k computes and chunk k-1's planes
 * come back: each has pinned input and output buffers and an event for each direction. A
 * chunk takes the next set (cuda_next_set), stages into it, and fetches into it; the set is
 * reused two chunks later, when the pipeline has collected the chunk that used it
 * (VSR_ENGINE_MAX_IN_FLIGHT is 2).
 */
constexpr int kStagingSets = 2;
int cuda_next_set(CudaState &c);
/*
 * A float32 [shape] tensor on the device, filled on the host by `fill` into set `set`'s pinned
 * input (once that set's previous copy has left it) and copied on the copy stream; the compute
 * stream waits for the copy, the host does not.
 */
at::Tensor cuda_stage(CudaState &c, int set, const std::vector<int64_t> &shape,
                      const std::function<void(float *)> &fill);
/* Queues the planes' copies into set `set`'s pinned output and returns those host tensors;
 * they hold the planes once cuda_wait(set) returns. */
std::vector<at::Tensor> cuda_fetch(CudaState &c, int set, const std::vector<at::Tensor> &planes);
/* Waits for set `set`'s chunk; returns the seconds the device spent on it (staged to fetched,
 * waits on the stream included). */
double cuda_wait(CudaState &c, int set);
/* The CUDA calls behind GraphRunner, for the state's device. */
std::unique_ptr<GraphDevice> cuda_graph_device(CudaState &c);

/* The caching allocator's peak since the last reset (reset first when `reset`), and what the
 * engine could use: what it reserves now plus what the device has free. */
bool cuda_memory(CudaState &c, bool reset, int64_t *peak, int64_t *available);
void cuda_empty_cache();
/* "GPU-<uuid>" of the state's device, for sharing its memory between processes. */
std::string cuda_device_uuid(CudaState &c);

} // namespace vsr_torch

#endif
