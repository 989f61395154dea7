/*
 * The engine's decisions as pure functions, so that they are tested without a GPU
 * (tests/unit/test_torch_policy.cpp).
 */
#ifndef VSR_TORCH_POLICY_H
#define VSR_TORCH_POLICY_H

#include <cstdint>
#include <string>

#include "engine.h"
#include "model_meta.h"

namespace vsr_torch
{

enum class Compute { Float32, Float16 };

/*
 * The compute precision for a model on a device. On CUDA, auto means float16 (the model's
 * fp32_modules stay float32; TF32 and cuDNN autotune are on either way): that is the product's
 * speed. Float32 when asked, when the model forbids float16 ("fp16": false), and on the CPU,
 * where float16 convolutions are slower than float32. Asking for float16 on the CPU or for a
 * model that forbids it is an error: returns false with `why` set.
 */
bool choose_precision(enum vsr_precision asked, bool cuda, const ModelMeta &meta, Compute *out,
                      std::string *why);

/*
 * Whether an exception's text reports an allocation failure. Out-of-memory inside forward()
 * reaches the shim as a TorchScript interpreter error whose first line is "The following
 * operation failed in the TorchScript interpreter." and whose later lines carry
 * "CUDA out of memory" (or the CPU allocator's "can't allocate memory"), so the whole text is
 * searched. On a match, `line` is the line that says so.
 */
bool is_out_of_memory(const std::string &what, std::string *line);

/*
 * The value the engine gives a model's `band_elements` attributes (the model contract in
 * docs/MODELS.md): how many values a model's banded stages (BasicVSR++'s DCN offsets and
 * sampled maps, its 4x tail, SPyNet's groups of pairs) build at once. Bands recompute a few
 * rows of context each: large on CUDA, where memory is plentiful and each band must keep the
 * device busy; small on the CPU, where host memory limits the chunk.
 */
int64_t band_elements_for(bool cuda);

} // namespace vsr_torch

#endif
