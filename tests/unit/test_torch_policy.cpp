/*
 * The TorchScript engine's decisions without a GPU: the compute precision chosen for CPU and
 * CUDA devices, out-of-memory recognised in the TorchScript interpreter's error text, vsrup.json
 * parsing, and the CUDA-graph bookkeeping (graph_runner.h) driven through a fake device that
 * records what a real one would be asked, with forward() failing at chosen moments.
 */
#include <ATen/ATen.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "graph_runner.h"
#include "model_meta.h"
#include "policy.h"

#undef CHECK /* c10/util/Logging.h has one of its own */
#include "check.h"

using namespace vsr_torch;

static void test_precision()
{
    ModelMeta fp32_file, fp16_file, forbids;
    fp16_file.float16 = true;
    forbids.fp16_allowed = false;
    Compute c;
    std::string why;
    /* CUDA: auto is float16 whatever the file holds, unless the model forbids it. */
    CHECK(choose_precision(VSR_PRECISION_AUTO, true, fp32_file, &c, &why) && c == Compute::Float16,
          "auto on cuda with a float32 file");
    CHECK(choose_precision(VSR_PRECISION_AUTO, true, fp16_file, &c, &why) && c == Compute::Float16,
          "auto on cuda with a float16 file");
    CHECK(choose_precision(VSR_PRECISION_AUTO, true, forbids, &c, &why) && c == Compute::Float32,
          "auto on cuda, fp16 forbidden");
    CHECK(choose_precision(VSR_PRECISION_FP32, true, fp16_file, &c, &why) && c == Compute::Float32,
          "fp32 asked on cuda");
    CHECK(!choose_precision(VSR_PRECISION_FP16, true, forbids, &c, &why) &&
              why.find("\"fp16\": false") != std::string::npos,
          "fp16 asked, model forbids it: %s", why.c_str());
    /* CPU: float32, and float16 asked is an error. */
    CHECK(choose_precision(VSR_PRECISION_AUTO, false, fp16_file, &c, &why) && c == Compute::Float32,
          "auto on the cpu with a float16 file");
    CHECK(!choose_precision(VSR_PRECISION_FP16, false, fp32_file, &c, &why) &&
              why.find("CUDA") != std::string::npos,
          "fp16 on the cpu: %s", why.c_str());
}

static void test_out_of_memory_text()
{
    /* What libtorch 2.x's interpreter throws (a std::runtime_error) for an OOM in forward(). */
    const std::string interpreter =
        "The following operation failed in the TorchScript interpreter.\n"
        "Traceback of TorchScript (most recent call last):\n"
        "  File \"code/__torch__/models/basicvsrpp.py\", line 40, in forward\n"
        "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.11 GiB total "
        "capacity)\n";
    std::string line;
    CHECK(is_out_of_memory(interpreter, &line) &&
              line.rfind("RuntimeError: CUDA out of memory", 0) == 0,
          "interpreter OOM, line '%s'", line.c_str());
    CHECK(is_out_of_memory("DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                           "1000000 bytes.",
                           &line),
          "CPU allocator OOM");
    CHECK(!is_out_of_memory("The following operation failed in the TorchScript interpreter.\n"
                            "RuntimeError: shape '[1, 3]' is invalid for input of size 7\n",
                            &line),
          "a shape error is not an OOM");
}

static void test_meta()
{
    const std::string base = R"("name": "m", "arch": "a", "scale": 4, "temporal": true,
        "min_frames": 2, "min_size": [16, 32], "multiple": 4)";
    ModelMeta m = parse_meta("{" + base + R"(, "dtype": "float16", "fp32_modules": ["spynet"],
        "notes": {"nested": [1, -2.5e-3, null]}})");
    CHECK(m.scale == 4 && m.temporal && m.min_h == 16 && m.min_w == 32 && m.float16 &&
              m.fp16_allowed && m.fp32_modules.size() == 1,
          "a full vsrup.json");
    m = parse_meta("{" + base + R"(, "dtype": "float32", "fp16": false})");
    CHECK(!m.fp16_allowed, "\"fp16\": false");
    const char *bad[] = {
        R"({"name": "m",)",
        "[1, 2]",
        R"({"name": "m", "arch": "a", "scale": "4"})",
    };
    for (const char *text : bad) {
        bool threw = false;
        try {
            parse_meta(text);
        } catch (const std::runtime_error &) {
            threw = true;
        }
        CHECK(threw, "rejects %s", text);
    }
    bool threw = false;
    try {
        parse_meta("{" + base + R"(, "dtype": "float16", "fp16": false})");
    } catch (const std::runtime_error &ex) {
        threw = std::string(ex.what()).find("fp16") != std::string::npos;
    }
    CHECK(threw, "a float16 file that forbids float16");
}

/* What the runner asked of the device, in order. */
struct FakeLog {
    std::vector<std::string> calls;
    bool capturing = false;
    bool invalid_capture = false; /* end() throws as cudaStreamEndCapture would */
    int empty_cache_during_capture = 0;
};

class FakeDevice final : public GraphDevice
{
  public:
    explicit FakeDevice(FakeLog *log) : log_(log) {}
    void warm_up(const std::function<void()> &fn) override
    {
        log_->calls.push_back("warm_up");
        fn();
    }
    void begin() override
    {
        log_->calls.push_back("begin");
        log_->capturing = true;
    }
    void end() override
    {
        log_->calls.push_back("end");
        log_->capturing = false;
        if (log_->invalid_capture)
            throw std::runtime_error("CUDA error: operation failed due to a previous error "
                                     "during capture");
    }
    void replay() override
    {
        log_->calls.push_back("replay");
    }
    void reset() override
    {
        log_->calls.push_back("reset");
    }

  private:
    FakeLog *log_;
};

struct Harness {
    FakeLog log;
    int forwards = 0;
    int throw_at = -1; /* forward() number that throws */
    std::string error = "boom";
    std::vector<std::string> warnings;
    GraphRunner runner;

    Harness()
        : runner(
              std::make_unique<FakeDevice>(&log),
              [this](const at::Tensor &x) {
                  if (forwards++ == throw_at)
                      throw std::runtime_error(error);
                  return x * 2;
              },
              [this](const std::string &w) { warnings.push_back(w); })
    {
    }
    std::string calls() const
    {
        std::string s;
        for (const std::string &c : log.calls)
            s += (s.empty() ? "" : " ") + c;
        return s;
    }
};

static void test_graph_capture_and_replay()
{
    Harness h;
    const at::Tensor x = at::ones({1, 2, 3, 4, 4});
    h.runner.run(x); /* first time: eager */
    CHECK(h.calls().empty() && h.forwards == 1, "first run eager: %s", h.calls().c_str());
    at::Tensor y = h.runner.run(x); /* second: warm-up, capture, replay */
    CHECK(h.calls() == "warm_up begin end replay" && h.runner.captured(), "capture: %s",
          h.calls().c_str());
    CHECK(at::equal(y, x * 2), "captured output");
    const int before = h.forwards;
    h.runner.run(x * 3);
    CHECK(h.forwards == before && h.log.calls.back() == "replay", "replays without forward()");
    h.runner.run(at::ones({1, 1, 3, 4, 4})); /* another shape (the last chunk): eager */
    CHECK(h.forwards == before + 1, "another shape runs eagerly");
}

static void test_graph_exception_during_capture()
{
    Harness h;
    const at::Tensor x = at::ones({1, 2, 3, 4, 4});
    h.runner.run(x);
    h.throw_at = 1 + 3; /* after the eager run and the three warm-ups: inside the capture */
    h.error = "The following operation failed in the TorchScript interpreter.\n"
              "RuntimeError: operation not permitted when stream is capturing";
    at::Tensor y = h.runner.run(x);
    CHECK(h.calls() == "warm_up begin end reset", "capture ended then dropped: %s",
          h.calls().c_str());
    CHECK(!h.log.capturing && !h.runner.capturing(), "no capture left live");
    CHECK(h.runner.disabled() && h.warnings.size() == 1 &&
              h.warnings[0].find("running without graphs") != std::string::npos,
          "warned once and fell back (%zu warnings)", h.warnings.size());
    CHECK(at::equal(y, x * 2), "the chunk still ran, eagerly");
    const size_t calls = h.log.calls.size();
    h.runner.run(x);
    h.runner.run(x);
    CHECK(h.log.calls.size() == calls, "no more captures after the fallback");
}

static void test_graph_oom_during_capture()
{
    Harness h;
    const at::Tensor x = at::ones({1, 2, 3, 4, 4});
    h.runner.run(x);
    h.throw_at = 4;
    h.error = "The following operation failed in the TorchScript interpreter.\n"
              "RuntimeError: CUDA out of memory. Tried to allocate 8.00 GiB";
    bool rethrown = false;
    try {
        h.runner.run(x);
    } catch (const std::runtime_error &) {
        /* the engine empties the cache here: the capture must be over */
        rethrown = !h.runner.capturing() && !h.log.capturing;
    }
    CHECK(rethrown, "an OOM in capture is rethrown after the capture ended: %s", h.calls().c_str());
    CHECK(!h.runner.disabled() && h.warnings.empty(), "graphs stay on after an OOM");
}

static void test_graph_invalid_capture()
{
    Harness h;
    const at::Tensor x = at::ones({1, 2, 3, 4, 4});
    h.runner.run(x);
    h.log.invalid_capture = true; /* forward() worked but synchronised: the capture is invalid */
    at::Tensor y = h.runner.run(x);
    CHECK(h.calls() == "warm_up begin end reset" && h.runner.disabled() && h.warnings.size() == 1,
          "invalid capture dropped: %s", h.calls().c_str());
    CHECK(at::equal(y, x * 2), "eager result after an invalid capture");
}

int main()
{
    test_precision();
    test_out_of_memory_text();
    test_meta();
    test_graph_capture_and_replay();
    test_graph_exception_during_capture();
    test_graph_oom_during_capture();
    test_graph_invalid_capture();
    return check_summary();
}
