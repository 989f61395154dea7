#include "graph_runner.h"

#include "policy.h"

namespace vsr_torch
{

GraphRunner::GraphRunner(std::unique_ptr<GraphDevice> device, Forward eager, Warn warn)
    : device_(std::move(device)), eager_(std::move(eager)), warn_(std::move(warn))
{
}

at::Tensor GraphRunner::run(const at::Tensor &x)
{
    if (disabled_)
        return eager_(x);
    const std::vector<int64_t> shape = x.sizes().vec();
    if (captured_ && shape == input_.sizes().vec()) {
        input_.copy_(x);
        device_->replay();
        return output_;
    }
    if (captured_ || shape != seen_shape_) {
        seen_shape_ = shape;
        return eager_(x);
    }
    return capture(x);
}

at::Tensor GraphRunner::capture(const at::Tensor &x)
{
    input_ = x.clone();
    device_->warm_up([this] {
        for (int i = 0; i < 3; i++)
            eager_(input_);
    });
    std::string failure;
    device_->begin();
    capturing_ = true;
    try {
        output_ = eager_(input_);
    } catch (const std::exception &ex) {
        end_failed_capture();
        std::string line;
        if (is_out_of_memory(ex.what(), &line))
            throw; /* the memory is released and the chunk retried smaller by the caller */
        failure = ex.what();
    }
    if (failure.empty()) {
        capturing_ = false;
        try {
            device_->end();
            captured_ = true;
        } catch (const std::exception &ex) {
            failure = ex.what();
            reset();
        }
    }
    if (!failure.empty()) {
        disabled_ = true;
        warn_("CUDA graph capture failed, running without graphs: " +
              failure.substr(0, failure.find('\n')));
        return eager_(x);
    }
    device_->replay();
    return output_;
}

/* Ends the capture whatever state it is in; an error ending it is expected and dropped. */
void GraphRunner::end_failed_capture()
{
    try {
        device_->end();
    } catch (const std::exception &) {
    }
    capturing_ = false;
    reset();
}

void GraphRunner::reset()
{
    device_->reset();
    captured_ = false;
    input_ = at::Tensor();
    output_ = at::Tensor();
    seen_shape_.clear();
}

} // namespace vsr_torch
