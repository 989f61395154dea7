/*
 * --cuda-graphs: replays one captured graph for the recurring chunk shape.
 *
 * The bookkeeping (when to capture, what to do when capture fails) is here, apart from the
 * CUDA calls behind GraphDevice, so that tests/unit/test_torch_policy.cpp runs it on the CPU
 * with a fake device. A shape is run eagerly the first time (a one-off last chunk never pays
 * for a capture); when it comes back it is warmed up (the profiling executor specialises
 * during the first runs) and captured. An exception between capture begin and end ends the
 * capture before anything else happens, drops the graph, and the run goes on eagerly: for
 * good after a warning, or, for an out-of-memory, by rethrowing so that the chunk is retried
 * smaller once the memory is released (which must not happen during a live capture).
 */
#ifndef VSR_TORCH_GRAPH_RUNNER_H
#define VSR_TORCH_GRAPH_RUNNER_H

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vsr_torch
{

class GraphDevice
{
  public:
    virtual ~GraphDevice() = default;
    /* Runs `fn` on a side stream and waits for it. */
    virtual void warm_up(const std::function<void()> &fn) = 0;
    /* Starts capturing the current thread's work into a new graph (capture stream current). */
    virtual void begin() = 0;
    /* Ends the capture and restores the stream; throws when the capture is invalid. */
    virtual void end() = 0;
    virtual void replay() = 0;
    /* Drops the graph and its memory pool. */
    virtual void reset() = 0;
};

class GraphRunner
{
  public:
    using Forward = std::function<at::Tensor(const at::Tensor &)>;
    using Warn = std::function<void(const std::string &)>;

    GraphRunner(std::unique_ptr<GraphDevice> device, Forward eager, Warn warn);

    at::Tensor run(const at::Tensor &x);
    /* Drops the graph (after an out-of-memory, before the cache is emptied). */
    void reset();
    bool capturing() const
    {
        return capturing_;
    }
    bool disabled() const
    {
        return disabled_;
    }
    bool captured() const
    {
        return captured_;
    }

  private:
    at::Tensor capture(const at::Tensor &x);
    void end_failed_capture();

    std::unique_ptr<GraphDevice> device_;
    Forward eager_;
    Warn warn_;
    std::vector<int64_t> seen_shape_;
    at::Tensor input_, output_;
    bool captured_ = false, capturing_ = false, disabled_ = false;
};

} // namespace vsr_torch

#endif
