#include "policy.h"

#include <cstring>

namespace vsr_torch
{

bool choose_precision(enum vsr_precision asked, bool cuda, const ModelMeta &meta, Compute *out,
                      std::string *why)
{
    if (asked == VSR_PRECISION_FP16 && !cuda) {
        *why = "float16 needs a CUDA device; on the CPU use float32";
        return false;
    }
    if (asked == VSR_PRECISION_FP16 && !meta.fp16_allowed) {
        *why = "vsrup.json says \"fp16\": false: this model must run in float32";
        return false;
    }
    const bool half =
        asked == VSR_PRECISION_FP16 || (asked == VSR_PRECISION_AUTO && cuda && meta.fp16_allowed);
    *out = half ? Compute::Float16 : Compute::Float32;
    return true;
}

bool is_out_of_memory(const std::string &what, std::string *line)
{
    static const char *const markers[] = {"out of memory", "can't allocate memory",
                                          "not enough memory", "OutOfMemoryError"};
    size_t begin = 0;
    while (begin <= what.size()) {
        size_t end = what.find('\n', begin);
        if (end == std::string::npos)
            end = what.size();
        const std::string candidate = what.substr(begin, end - begin);
        for (const char *marker : markers)
            if (candidate.find(marker) != std::string::npos) {
                if (line)
                    *line = candidate;
                return true;
            }
        begin = end + 1;
    }
    return false;
}

int64_t band_elements_for(bool cuda)
{
    /* CUDA: 2^28 (1 GiB per map in float32), so that a frame of a few hundred rows is one to
     * three bands and the context rows each band recomputes cost a few percent at most.
     * CPU: 2^24 (64 MiB), host memory being what limits the chunk; the CPU's convolutions are
     * as fast on such bands. */
    return cuda ? int64_t(1) << 28 : int64_t(1) << 24;
}

} // namespace vsr_torch
