/* vsrup.json, the metadata a TorchScript model carries (docs/MODELS.md, "Model contract"). */
#ifndef VSR_TORCH_MODEL_META_H
#define VSR_TORCH_MODEL_META_H

#include <string>
#include <vector>

namespace vsr_torch
{

struct ModelMeta {
    std::string name, arch;
    int scale = 0, min_frames = 0, min_h = 0, min_w = 0, multiple = 0;
    bool temporal = false;
    bool float16 = false;     /* the file's weights are float16 */
    bool fp16_allowed = true; /* "fp16": false forbids running it in float16 */
    std::vector<std::string> fp32_modules;
};

/* Parses and checks vsrup.json; throws std::runtime_error saying what is wrong. Unknown keys
 * are ignored. */
ModelMeta parse_meta(const std::string &text);

} // namespace vsr_torch

#endif
