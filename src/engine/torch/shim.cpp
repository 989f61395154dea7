/*
 * The TorchScript engine: the extern "C" entry points over libtorch (the program's only C++).
 *
 * open() loads a scripted model with its vsrup.json (model_meta.h) straight onto the device;
 * run() stacks a chunk into [1, T, 3, H, W], pads it to what the model accepts, runs forward()
 * and quantises the kept frames into the encoder's planes on the device (quantise.h), so only
 * encoder-ready samples travel back to the host. The CUDA side is in device.h.
 *
 * No exception leaves this file: every entry point catches at the boundary into a vsr_err.
 * The shim is its own shared library and does not call back into vsrcore, so it formats its
 * messages itself (set_error) and reports through the options' log callback.
 */
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpu_allocator.h"
#include "device.h"
#include "engine.h"
#include "graph_runner.h"
#include "model_meta.h"
#include "policy.h"
#include "quantise.h"

namespace vsr_torch
{
namespace
{

#ifdef __GNUC__
__attribute__((format(printf, 2, 3)))
#endif
void set_error(vsr_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

/* libtorch messages carry a C++ backtrace on the following lines; keep the first. */
std::string first_line(const char *text)
{
    std::string s(text);
    return s.substr(0, s.find('\n'));
}

/* A chunk submitted and not yet collected. On the CPU it is done at submit; on CUDA its planes
 * arrive in `planes`, pinned buffers of staging set `set`, once that set's copies are done. */
struct InFlight {
    vsr_engine_chunk chunk; /* the caller's arrays, valid until collected */
    int set = -1;
    std::vector<at::Tensor> planes;
    at::Tensor nonfinite; /* nonfinite_frames() of the kept frames, on the host like planes */
};

struct TorchEngine {
    ~TorchEngine()
    {
        graphs.reset();
        cuda.reset();
        /* Last, so that the module's own blocks are unmapped rather than kept. */
        module = torch::jit::Module();
        if (reuses_cpu_memory)
            ReusingCpuAllocator::instance().engine_closed();
    }
    std::string path;
    torch::jit::Module module;
    torch::Device device{torch::kCPU};
    torch::ScalarType dtype = torch::kFloat;
    ModelMeta meta;
    vsr_pixel_layout layout{};
    int in_w = 0, in_h = 0;
    vsr_engine_log_fn log = nullptr;
    bool reuses_cpu_memory = false;
    int last_run_frames = 0; /* input frames of the last run: its shape, H and W being fixed */
    CudaStatePtr cuda;
    std::unique_ptr<GraphRunner> graphs; /* --cuda-graphs on a CUDA device */
    std::deque<InFlight> in_flight;
    double busy_seconds = 0; /* device time of collected chunks, or time in submit on the CPU */
};

void warn(const TorchEngine &e, const std::string &message)
{
    if (e.log)
        e.log(2 /* VSR_LOG_WARN */, (e.path + ": " + message).c_str());
}

/* "12-15, 20": the output frames whose flag is set, as ranges. */
std::string flagged_frames(const at::Tensor &flags, int64_t first_frame)
{
    const auto *f = flags.data_ptr<uint8_t>();
    const int64_t n = flags.numel();
    std::string text;
    for (int64_t k = 0; k < n; k++) {
        if (!f[k])
            continue;
        int64_t end = k;
        while (end + 1 < n && f[end + 1])
            end++;
        text += (text.empty() ? "" : ", ") + std::to_string(first_frame + k);
        if (end > k)
            text += "-" + std::to_string(first_frame + end);
        k = end;
    }
    return text;
}

/* Once per chunk: the quantiser has mapped them, but the user should know the model failed. */
void warn_nonfinite(const TorchEngine &e, const vsr_engine_chunk &c, const at::Tensor &flags)
{
    const at::Tensor host = flags.contiguous();
    if (!host.any().item<bool>())
        return;
    warn(e, "model produced NaN/inf in frames " + flagged_frames(host, c.first_frame) +
                "; mapped to black (NaN, -inf) and white (+inf)");
}

/* ---- open ---------------------------------------------------------------------------------- */

bool resolve_device(const char *path, const char *name, torch::Device *device, vsr_err *err)
{
    const bool have_cuda = torch::cuda::is_available();
    if (!name || !*name) {
        *device = have_cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
        return true;
    }
    const std::string s(name);
    if (s == "cpu") {
        *device = torch::Device(torch::kCPU);
        return true;
    }
    if (s.compare(0, 4, "cuda") != 0) {
        set_error(err, "%s: unknown device \"%s\" (use cpu, cuda or cuda:N)", path, name);
        return false;
    }
    if (!have_cuda) {
        set_error(err, "%s: device \"%s\": %s", path, name,
                  cuda_compiled() ? "this machine has no CUDA device"
                                  : "this vsrup_torch.so was built without CUDA");
        return false;
    }
    try {
        *device = torch::Device(s);
    } catch (const c10::Error &) {
        set_error(err, "%s: unknown device \"%s\" (use cpu, cuda or cuda:N)", path, name);
        return false;
    }
    if (!device->has_index())
        device->set_index(0);
    if (device->index() >= int(torch::cuda::device_count())) {
        set_error(err, "%s: device \"%s\": this machine has %d CUDA device(s)", path, name,
                  int(torch::cuda::device_count()));
        return false;
    }
    return true;
}

/* Converts the module to the compute dtype chosen by choose_precision. */
bool apply_precision(TorchEngine &e, enum vsr_precision precision, vsr_err *err)
{
    Compute compute;
    std::string why;
    if (!choose_precision(precision, e.device.is_cuda(), e.meta, &compute, &why)) {
        set_error(err, "%s: %s", e.path.c_str(), why.c_str());
        return false;
    }
    const bool half = compute == Compute::Float16;
    if (half && !e.meta.float16) {
        e.module.to(torch::kHalf);
        for (const std::string &name : e.meta.fp32_modules) {
            if (!e.module.hasattr(name) || !e.module.attr(name).isModule()) {
                set_error(err,
                          "%s: vsrup.json: fp32_modules names \"%s\", which is not a submodule",
                          e.path.c_str(), name.c_str());
                return false;
            }
            e.module.attr(name).toModule().to(torch::kFloat);
        }
    } else if (!half && e.meta.float16) {
        e.module.to(torch::kFloat);
    }
    e.dtype = half ? torch::kHalf : torch::kFloat;
    return true;
}

void fill_info(TorchEngine &e, vsr_engine_info *info)
{
    *info = vsr_engine_info{};
    std::snprintf(info->name, sizeof(info->name), "%s", e.meta.name.c_str());
    std::snprintf(info->arch, sizeof(info->arch), "%s", e.meta.arch.c_str());
    info->scale = e.meta.scale;
    info->temporal = e.meta.temporal;
    info->min_frames = e.meta.min_frames;
    info->min_h = e.meta.min_h;
    info->min_w = e.meta.min_w;
    info->multiple = e.meta.multiple;
    std::snprintf(info->device, sizeof(info->device), "%s", e.device.str().c_str());
    if (e.cuda)
        std::snprintf(info->device_id, sizeof(info->device_id), "%s",
                      cuda_device_uuid(*e.cuda).c_str());
    std::snprintf(info->precision, sizeof(info->precision), "%s",
                  e.dtype == torch::kHalf ? "float16" : "float32");
}

bool load_module(TorchEngine &e, vsr_err *err)
{
    const char *path = e.path.c_str();
    std::FILE *f = std::fopen(path, "rb");
    if (!f) {
        set_error(err, "%s: %s", path, std::strerror(errno));
        return false;
    }
    std::fclose(f);

    torch::jit::ExtraFilesMap extra{{"vsrup.json", ""}};
    try {
        e.module = torch::jit::load(e.path, e.device, extra);
    } catch (const c10::Error &ex) {
        const std::string why = first_line(ex.what_without_backtrace());
        if (why.find("zip archive") != std::string::npos)
            set_error(err, "%s: not a TorchScript archive (not a zip file, or a damaged one)",
                      path);
        else
            set_error(err, "%s: not a TorchScript archive this libtorch can load: %s", path,
                      why.c_str());
        return false;
    }
    /* A missing extra file leaves its entry empty. */
    const std::string &json = extra["vsrup.json"];
    if (json.empty()) {
        set_error(err, "%s: no vsrup.json in the archive (export with _extra_files)", path);
        return false;
    }
    try {
        e.meta = parse_meta(json);
    } catch (const std::runtime_error &ex) {
        set_error(err, "%s: vsrup.json: %s", path, ex.what());
        return false;
    }
    if (!e.module.find_method("forward")) {
        set_error(err, "%s: the model has no forward() method", path);
        return false;
    }
    return true;
}

at::Tensor forward_eager(TorchEngine &e, const at::Tensor &x)
{
    c10::IValue out = e.module.forward({x});
    if (!out.isTensor())
        throw std::runtime_error("forward() did not return a tensor");
    return out.toTensor();
}

/* Gives every `band_elements` attribute of the model the device's value (policy.h). */
void set_band_elements(torch::jit::Module &module, int64_t value)
{
    if (value <= 0)
        return;
    for (torch::jit::Module m : module.modules())
        if (m.hasattr("band_elements") && m.attr("band_elements").isInt())
            m.setattr("band_elements", value);
}

void setup_cuda(TorchEngine &e, bool cuda_graphs)
{
    e.cuda = cuda_open(e.device);
    if (!cuda_graphs)
        return;
    TorchEngine *self = &e;
    e.graphs = std::make_unique<GraphRunner>(
        cuda_graph_device(*e.cuda), [self](const at::Tensor &x) { return forward_eager(*self, x); },
        [self](const std::string &message) { warn(*self, message); });
}

int open_engine(vsr_engine *engine, const vsr_engine_options *o, vsr_err *err)
{
    if (!o->model || !*o->model) {
        set_error(err, "torch engine: no model file given");
        return VSR_ERROR;
    }
    if (o->in_w < 1 || o->in_h < 1) {
        set_error(err, "torch engine: bad input size %dx%d", o->in_w, o->in_h);
        return VSR_ERROR;
    }
    std::string why;
    if (!layout_supported(o->out_layout, &why)) {
        set_error(err, "torch engine: %s", why.c_str());
        return VSR_ERROR;
    }

    auto e = std::make_unique<TorchEngine>();
    e->path = o->model;
    e->layout = o->out_layout;
    e->in_w = o->in_w;
    e->in_h = o->in_h;
    e->log = o->log;
    if (!resolve_device(o->model, o->device, &e->device, err) || !load_module(*e, err))
        return VSR_ERROR;
    if (o->scale && o->scale != e->meta.scale) {
        set_error(err, "%s: the model upscales %dx, but %dx was asked for", o->model, e->meta.scale,
                  o->scale);
        return VSR_ERROR;
    }
    if (!apply_precision(*e, o->precision, err))
        return VSR_ERROR;
    e->module.eval();
    set_band_elements(e->module, band_elements_for(e->device.is_cuda()));
    const int threads = o->threads > 0 ? o->threads : int(std::thread::hardware_concurrency());
    at::set_num_threads(std::max(threads, 1));
    if (e->device.is_cuda())
        setup_cuda(*e, o->cuda_graphs != 0);
    if (e->device.is_cpu()) {
        ReusingCpuAllocator::instance().engine_opened();
        e->reuses_cpu_memory = true;
    }
    fill_info(*e, &engine->info);
    engine->info.asynchronous = e->cuda != nullptr; /* on the CPU a chunk is done at submit */
    engine->priv = e.release();
    return VSR_OK;
}

/* ---- run ------------------------------------------------------------------------------------- */

/* Copies n_in frames into a [T, 3, H, W] buffer, repeating the last one up to T. */
void fill_frames(float *dst, const float *const *in, int n_in, int t, size_t frame_floats)
{
    for (int i = 0; i < t; i++)
        std::memcpy(dst + size_t(i) * frame_floats, in[std::min(i, n_in - 1)],
                    frame_floats * sizeof(float));
}

/* The chunk as a float32 [T, 3, H, W] tensor on the engine's device. */
at::Tensor stage_input(TorchEngine &e, int set, const float *const *in, int n_in, int t)
{
    const std::vector<int64_t> shape{t, 3, e.in_h, e.in_w};
    const size_t frame_floats = size_t(3) * size_t(e.in_h) * size_t(e.in_w);
    auto fill = [&](float *dst) { fill_frames(dst, in, n_in, t, frame_floats); };
    if (e.cuda)
        return cuda_stage(*e.cuda, set, shape, fill);
    at::Tensor host = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
    fill(host.data_ptr<float>());
    return host;
}

int64_t padded_size(int64_t size, int64_t min_size, int64_t multiple)
{
    const int64_t s = std::max(size, min_size);
    return (s + multiple - 1) / multiple * multiple;
}

/* Bottom/right edge replication up to the model's minimum size and multiple. */
at::Tensor pad_frames(const TorchEngine &e, const at::Tensor &x)
{
    const int64_t pad_h = padded_size(e.in_h, e.meta.min_h, e.meta.multiple) - e.in_h;
    const int64_t pad_w = padded_size(e.in_w, e.meta.min_w, e.meta.multiple) - e.in_w;
    if (!pad_h && !pad_w)
        return x;
    return at::replication_pad2d(x, {0, pad_w, 0, pad_h});
}

at::Tensor forward(TorchEngine &e, const at::Tensor &x)
{
    return e.graphs ? e.graphs->run(x) : forward_eager(e, x);
}

bool check_run_args(const TorchEngine &e, const float *const *in, int n_in, int keep_begin,
                    int keep_count, const vsr_planes *out, vsr_err *err)
{
    if (!in || !out || n_in < 1 || keep_begin < 0 || keep_count < 1 ||
        keep_begin + keep_count > n_in) {
        set_error(err, "torch engine: bad chunk (%d frames, keep %d from %d)", n_in, keep_count,
                  keep_begin);
        return false;
    }
    const int out_w = e.meta.scale * e.in_w;
    const int bytes = e.layout.bits > 8 ? 2 : 1;
    for (int k = 0; k < keep_count; k++)
        for (int p = 0; p < 3; p++)
            if (!out[k].data[p] || out[k].linesize[p] < plane_width(e.layout, p, out_w) * bytes) {
                set_error(err, "torch engine: output frame %d plane %d is missing or too narrow", k,
                          p);
                return false;
            }
    return true;
}

/*
 * Queues one chunk: staged into the next staging set, forward, quantised, and on CUDA the
 * planes' copies back to the host queued too; on the CPU all of it is done here and the
 * planes are written into the caller's frames at once.
 */
void submit_chunk(TorchEngine &e, const vsr_engine_chunk &c)
{
    const int t = std::max(c.n_in, e.meta.min_frames);
    const int set = e.cuda ? cuda_next_set(*e.cuda) : -1;
    const at::Tensor x =
        pad_frames(e, stage_input(e, set, c.in, c.n_in, t)).to(e.dtype).unsqueeze(0);
    const at::Tensor y = forward(e, x);
    const int64_t s = e.meta.scale;
    if (y.dim() != 5 || y.size(0) != 1 || y.size(1) != t || y.size(2) != 3 ||
        y.size(3) != s * x.size(3) || y.size(4) != s * x.size(4))
        throw std::runtime_error("forward() returned " + c10::str(y.sizes()) + " for input " +
                                 c10::str(x.sizes()) + "; vsrup.json says scale " +
                                 std::to_string(s));
    const at::Tensor kept = y[0].narrow(0, c.keep_begin, c.keep_count)
                                .narrow(2, 0, s * e.in_h)
                                .narrow(3, 0, s * e.in_w)
                                .to(at::kFloat);
    std::vector<at::Tensor> planes = quantise(kept, e.layout);
    const at::Tensor nonfinite = nonfinite_frames(kept);
    InFlight f;
    f.chunk = c;
    if (e.cuda) {
        f.set = set;
        /* Fetched with the planes, so that checking it costs no wait on the device. */
        planes.push_back(nonfinite);
        f.planes = cuda_fetch(*e.cuda, set, planes);
        f.nonfinite = f.planes.back();
        f.planes.pop_back();
    } else {
        for (at::Tensor &p : planes)
            p = p.contiguous();
        copy_out(planes, c.out, c.keep_count);
        warn_nonfinite(e, c, nonfinite);
    }
    e.in_flight.push_back(std::move(f));
}

/*
 * After an out-of-memory: drop what this engine holds on the device and the allocator's cache.
 * Never during a graph capture (the graph runner has ended it before the error reaches here).
 */
int oom(TorchEngine &e, vsr_err *err, const std::string &why)
{
    if (e.graphs && !e.graphs->capturing())
        e.graphs->reset();
    if (e.cuda && !(e.graphs && e.graphs->capturing()))
        cuda_empty_cache();
    set_error(err, "%s: out of memory on %s: %s", e.path.c_str(), e.device.str().c_str(),
              why.c_str());
    return VSR_ERROR_OOM;
}

/* Runs `work`, turning what it throws into VSR_ERROR or, for an allocation failure,
 * VSR_ERROR_OOM after releasing the device memory. */
template <typename Work> int catching(TorchEngine &e, vsr_err *err, Work work)
{
    std::string what;
    try {
        c10::InferenceMode guard;
        work();
        return VSR_OK;
    } catch (const std::bad_alloc &) {
        return oom(e, err, "allocation failed");
    } catch (const c10::Error &ex) {
        what = ex.what_without_backtrace();
    } catch (const std::exception &ex) {
        what = ex.what(); /* TorchScript interpreter errors, OOM inside forward() among them */
    }
    std::string line;
    if (is_out_of_memory(what, &line))
        return oom(e, err, line);
    set_error(err, "%s: %s", e.path.c_str(), first_line(what.c_str()).c_str());
    return VSR_ERROR;
}

/* ---- The vtable ------------------------------------------------------------------------------ */

int torch_open(vsr_engine *engine, const vsr_engine_options *options, vsr_err *err)
{
    try {
        return open_engine(engine, options, err);
    } catch (const c10::Error &ex) {
        set_error(err, "%s: %s", options->model ? options->model : "torch engine",
                  first_line(ex.what_without_backtrace()).c_str());
    } catch (const std::exception &ex) {
        set_error(err, "%s: %s", options->model ? options->model : "torch engine", ex.what());
    }
    return VSR_ERROR;
}

int torch_submit(vsr_engine *engine, const vsr_engine_chunk *chunk, vsr_err *err)
{
    auto &e = *static_cast<TorchEngine *>(engine->priv);
    if (e.in_flight.size() >= VSR_ENGINE_MAX_IN_FLIGHT) {
        set_error(err, "%s: more than %d chunks submitted", e.path.c_str(),
                  VSR_ENGINE_MAX_IN_FLIGHT);
        return VSR_ERROR;
    }
    if (!check_run_args(e, chunk->in, chunk->n_in, chunk->keep_begin, chunk->keep_count, chunk->out,
                        err))
        return VSR_ERROR;
    if (e.reuses_cpu_memory && chunk->n_in != e.last_run_frames) {
        /* Another chunk shape: the kept blocks fit none of its requests but would stay mapped
         * beside its working set until it ends. Release them first, so that the peak is one
         * working set, which is what chunk_fit.c measures and budgets. */
        ReusingCpuAllocator::instance().release_kept();
        e.last_run_frames = chunk->n_in;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const int ret = catching(e, err, [&] { submit_chunk(e, *chunk); });
    if (e.reuses_cpu_memory) {
        ReusingCpuAllocator::instance().end_run();
        e.busy_seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return ret;
}

/* Waits for the oldest chunk and writes its planes into the caller's frames. */
int torch_collect(vsr_engine *engine, vsr_err *err)
{
    auto &e = *static_cast<TorchEngine *>(engine->priv);
    if (e.in_flight.empty()) {
        set_error(err, "%s: nothing submitted to collect", e.path.c_str());
        return VSR_ERROR;
    }
    InFlight f = std::move(e.in_flight.front());
    e.in_flight.pop_front();
    if (f.set < 0)
        return VSR_OK; /* done at submit */
    return catching(e, err, [&] {
        e.busy_seconds += cuda_wait(*e.cuda, f.set);
        copy_out(f.planes, f.chunk.out, f.chunk.keep_count);
        warn_nonfinite(e, f.chunk, f.nonfinite);
    });
}

int torch_run(vsr_engine *engine, const float *const *in, int n_in, int keep_begin, int keep_count,
              const vsr_planes *out, vsr_err *err)
{
    const vsr_engine_chunk chunk{in, n_in, keep_begin, keep_count, out, 0};
    const int ret = torch_submit(engine, &chunk, err);
    return ret < 0 ? ret : torch_collect(engine, err);
}

double torch_busy_seconds(vsr_engine *engine)
{
    return static_cast<TorchEngine *>(engine->priv)->busy_seconds;
}

/* For the chunk length (chunk_fit.c): see vsr_engine_ops.device_memory. */
int torch_device_memory(vsr_engine *engine, int reset, int64_t *peak, int64_t *available)
{
    auto &e = *static_cast<TorchEngine *>(engine->priv);
    try {
        return e.cuda && cuda_memory(*e.cuda, reset != 0, peak, available) ? VSR_OK : VSR_ERROR;
    } catch (const std::exception &) {
        return VSR_ERROR;
    }
}

void torch_close(vsr_engine *engine)
{
    delete static_cast<TorchEngine *>(engine->priv);
    engine->priv = nullptr;
}

} // namespace
} // namespace vsr_torch

extern "C" const vsr_engine_ops vsr_engine_torch_ops = {"torch",
                                                        vsr_torch::torch_open,
                                                        vsr_torch::torch_run,
                                                        vsr_torch::torch_close,
                                                        vsr_torch::torch_device_memory,
                                                        vsr_torch::torch_submit,
                                                        vsr_torch::torch_collect,
                                                        vsr_torch::torch_busy_seconds};

extern "C" void vsr_engine_torch_build_info(char *text, size_t size)
{
    int devices = 0;
    try {
        devices = vsr_torch::cuda_device_count();
    } catch (const std::exception &) {
    }
    const std::string cuda = vsr_torch::cuda_compiled()
                                 ? "CUDA " + vsr_torch::cuda_build_version() + " compiled in"
                                 : std::string("CUDA not compiled in");
    std::snprintf(text, size, "libtorch %s, %s, %s", TORCH_VERSION, cuda.c_str(),
                  devices ? (std::to_string(devices) + " CUDA device(s) present").c_str()
                          : "no CUDA device present");
}
