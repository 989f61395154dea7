/*
 * The TorchScript engine: a thin extern "C" shim over libtorch (the program's only C++).
 *
 * open() loads a scripted model with its vsrup.json (DESIGN.md, "Model contract") straight
 * onto the device; run() stacks a chunk into [1, T, 3, H, W], pads it to what the model
 * accepts, runs forward() and quantises the kept frames into the encoder's planes on the
 * device, so only encoder-ready samples travel back to the host.
 *
 * No exception leaves this file: every entry point catches at the boundary into a vsr_err.
 * The shim is its own shared library and does not call back into vsrcore, so it formats its
 * messages itself (set_error) instead of using vsr_err_set.
 */
#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/InferenceMode.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <sys/mman.h>

#ifdef VSR_TORCH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine.h"

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
    s = s.substr(0, s.find('\n'));
    return s;
}

/* ---- vsrup.json: a strict parser for one flat JSON object -------------------------------- */

struct JsonValue {
    enum Kind { NUL, BOOL, NUMBER, STRING, ARRAY, OBJECT } kind = NUL;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<JsonValue> items; /* ARRAY; OBJECT values are parsed and dropped */
};

/* Recursive descent over RFC 8259; throws std::runtime_error naming the offset. */
class JsonParser
{
  public:
    explicit JsonParser(const std::string &text) : s_(text) {}

    std::map<std::string, JsonValue> parse_object_document()
    {
        std::map<std::string, JsonValue> members;
        skip_space();
        parse_members(&members);
        skip_space();
        if (pos_ != s_.size())
            fail("text after the object");
        return members;
    }

  private:
    [[noreturn]] void fail(const char *what) const
    {
        throw std::runtime_error(std::string(what) + " at byte " + std::to_string(pos_));
    }
    void skip_space()
    {
        while (pos_ < s_.size() && s_[pos_] && std::strchr(" \t\r\n", s_[pos_]))
            pos_++;
    }
    bool consume(char c)
    {
        if (pos_ < s_.size() && s_[pos_] == c) {
            pos_++;
            return true;
        }
        return false;
    }
    void expect(char c)
    {
        if (!consume(c)) {
            char what[32];
            std::snprintf(what, sizeof(what), "expected '%c'", c);
            fail(what);
        }
    }
    bool consume_word(const char *word)
    {
        size_t n = std::strlen(word);
        if (s_.compare(pos_, n, word) != 0)
            return false;
        pos_ += n;
        return true;
    }

    /* '{' [string ':' value (',' string ':' value)*] '}'; a repeated key keeps the last. */
    void parse_members(std::map<std::string, JsonValue> *members)
    {
        expect('{');
        skip_space();
        if (consume('}'))
            return;
        do {
            skip_space();
            std::string key = parse_string();
            skip_space();
            expect(':');
            (*members)[key] = parse_value();
            skip_space();
        } while (consume(','));
        expect('}');
    }

    JsonValue parse_value()
    {
        skip_space();
        JsonValue v;
        if (pos_ >= s_.size())
            fail("unexpected end");
        char c = s_[pos_];
        if (c == '"') {
            v.kind = JsonValue::STRING;
            v.string = parse_string();
        } else if (c == '[') {
            v.kind = JsonValue::ARRAY;
            pos_++;
            skip_space();
            if (!consume(']')) {
                do {
                    v.items.push_back(parse_value());
                    skip_space();
                } while (consume(','));
                expect(']');
            }
        } else if (c == '{') {
            v.kind = JsonValue::OBJECT;
            std::map<std::string, JsonValue> unused;
            parse_members(&unused);
        } else if (consume_word("true") || consume_word("false")) {
            v.kind = JsonValue::BOOL;
            v.boolean = c == 't';
        } else if (consume_word("null")) {
            v.kind = JsonValue::NUL;
        } else {
            v.kind = JsonValue::NUMBER;
            v.number = parse_number();
        }
        return v;
    }

    double parse_number()
    {
        size_t start = pos_;
        consume('-');
        if (consume('0')) {
        } else if (!digits()) {
            fail("bad value");
        }
        if (consume('.') && !digits())
            fail("bad number");
        if (consume('e') || consume('E')) {
            if (!consume('+'))
                consume('-');
            if (!digits())
                fail("bad number");
        }
        return std::strtod(s_.substr(start, pos_ - start).c_str(), nullptr);
    }
    bool digits()
    {
        size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
            pos_++;
        return pos_ > start;
    }

    std::string parse_string()
    {
        expect('"');
        std::string out;
        for (;;) {
            if (pos_ >= s_.size())
                fail("unterminated string");
            unsigned char c = s_[pos_++];
            if (c == '"')
                return out;
            if (c < 0x20)
                fail("control character in string");
            if (c != '\\') {
                out += char(c);
                continue;
            }
            if (pos_ >= s_.size())
                fail("unterminated string");
            char e = s_[pos_++];
            const char *plain = std::strchr("\"\\/bfnrt", e);
            if (e && plain) {
                out += "\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"];
            } else if (e == 'u') {
                append_utf8(out, parse_hex4());
            } else {
                fail("bad escape");
            }
        }
    }
    unsigned parse_hex4()
    {
        if (pos_ + 4 > s_.size())
            fail("bad \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
            char h = s_[pos_++];
            int d = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
            if (d < 0)
                fail("bad \\u escape");
            v = v * 16 + unsigned(d);
        }
        return v;
    }
    /* Surrogate pairs are not joined: names in vsrup.json do not need astral characters. */
    static void append_utf8(std::string &out, unsigned cp)
    {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }

    const std::string &s_;
    size_t pos_ = 0;
};

/* ---- The model's metadata ----------------------------------------------------------------- */

struct ModelMeta {
    std::string name, arch;
    int scale = 0, min_frames = 0, min_h = 0, min_w = 0, multiple = 0;
    bool temporal = false, float16 = false;
    std::vector<std::string> fp32_modules;
};

class MetaReader
{
  public:
    explicit MetaReader(const std::map<std::string, JsonValue> &m) : m_(m) {}

    const JsonValue &get(const char *key, JsonValue::Kind kind, const char *kind_name) const
    {
        auto it = m_.find(key);
        if (it == m_.end())
            throw std::runtime_error(std::string("key \"") + key + "\" is missing");
        if (it->second.kind != kind)
            throw std::runtime_error(std::string("\"") + key + "\" must be " + kind_name);
        return it->second;
    }
    static int positive_int(const JsonValue &v, const char *key, int max)
    {
        if (v.kind != JsonValue::NUMBER || v.number != std::floor(v.number) || v.number < 1 ||
            v.number > max)
            throw std::runtime_error(std::string("\"") + key + "\" must be an integer in 1.." +
                                     std::to_string(max));
        return int(v.number);
    }
    int positive_int(const char *key, int max) const
    {
        return positive_int(get(key, JsonValue::NUMBER, "a number"), key, max);
    }
    bool has(const char *key) const
    {
        return m_.count(key) != 0;
    }

  private:
    const std::map<std::string, JsonValue> &m_;
};

ModelMeta parse_meta(const std::string &text)
{
    const auto members = JsonParser(text).parse_object_document();
    const MetaReader r(members);
    ModelMeta meta;
    meta.name = r.get("name", JsonValue::STRING, "a string").string;
    meta.arch = r.get("arch", JsonValue::STRING, "a string").string;
    meta.scale = r.positive_int("scale", 16);
    meta.temporal = r.get("temporal", JsonValue::BOOL, "true or false").boolean;
    meta.min_frames = r.positive_int("min_frames", 1024);
    const JsonValue &min_size = r.get("min_size", JsonValue::ARRAY, "an array [h, w]");
    if (min_size.items.size() != 2)
        throw std::runtime_error("\"min_size\" must be an array [h, w]");
    meta.min_h = MetaReader::positive_int(min_size.items[0], "min_size", 65536);
    meta.min_w = MetaReader::positive_int(min_size.items[1], "min_size", 65536);
    meta.multiple = r.positive_int("multiple", 4096);
    const std::string &dtype = r.get("dtype", JsonValue::STRING, "a string").string;
    if (dtype != "float32" && dtype != "float16")
        throw std::runtime_error("\"dtype\" must be \"float32\" or \"float16\", not \"" + dtype +
                                 "\"");
    meta.float16 = dtype == "float16";
    if (r.has("fp32_modules")) {
        for (const JsonValue &v :
             r.get("fp32_modules", JsonValue::ARRAY, "an array of names").items) {
            if (v.kind != JsonValue::STRING)
                throw std::runtime_error("\"fp32_modules\" must be an array of names");
            meta.fp32_modules.push_back(v.string);
        }
    }
    return meta;
}

/* ---- CPU memory: large blocks on huge pages, reused ---------------------------------------- */

/*
 * Why: a forward pass on the CPU allocates and frees its activations layer by layer, and at
 * video sizes they are large (ESRGAN slim x4 at 720x528: 97 MB per 64-channel map, 1.2 GB for
 * the 48-channel map before its last 4x convolution, plus oneDNN's blocked copies of each).
 * glibc maps every block above 32 MB afresh and unmaps it on free, so each frame faulted in
 * and zeroed about 6.5 GB of 4 KiB pages: 40 % of the CPU time was the kernel's page-fault
 * path, and the 4 KiB pages made the convolutions themselves TLB-bound.
 *
 * While a CPU engine is open, libtorch's CPU allocator (which oneDNN's buffers go through too)
 * is this one: blocks of kBigBlock and up are 2 MiB-aligned transparent huge pages, and a freed
 * block is kept for the next request of the same size, so from the second frame on a forward
 * pass touches no new memory. What a run did not reuse is unmapped when it ends (end_run), so
 * what stays mapped is what the next chunk of the same shape asks for again. Smaller blocks go
 * to c10's own alloc_cpu.
 *
 * libtorch keeps the allocator as a raw pointer for the whole process and tensors may be freed
 * at any time, so there is one instance, created on first use and never destroyed.
 */
class ReusingCpuAllocator final : public c10::Allocator
{
  public:
    static ReusingCpuAllocator &instance()
    {
        static ReusingCpuAllocator *const a = [] {
            auto *created = new ReusingCpuAllocator();
            c10::SetCPUAllocator(created, /*priority=*/1);
            return created;
        }();
        return *a;
    }

    c10::DataPtr allocate(size_t n) const override
    {
        void *p =
            n < kBigBlock ? c10::alloc_cpu(n) : const_cast<ReusingCpuAllocator *>(this)->take(n);
        return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
    }
    c10::DeleterFnPtr raw_deleter() const override
    {
        return &release;
    }
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
    void copy_data(void *dest, const void *src, std::size_t count) const override
    {
        std::memcpy(dest, src, count);
    }
#endif

    /* Caching is on while at least one CPU engine is open. */
    void engine_opened()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        users_++;
    }
    void engine_closed()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--users_ == 0)
            unmap_free_blocks(run_ + 1);
    }
    /* Unmaps every kept block. */
    void release_kept()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        unmap_free_blocks(run_ + 1);
    }
    /* Unmaps the kept blocks that this run did not reuse. */
    void end_run()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        unmap_free_blocks(run_);
        run_++;
    }

  private:
    static constexpr size_t kHugePage = size_t(2) << 20;
    static constexpr size_t kBigBlock = size_t(4) << 20;

    struct FreeBlock {
        void *p;
        uint64_t run; /* the run that freed it */
    };

    ReusingCpuAllocator() = default;

    void *take(size_t n)
    {
        const size_t size = (n + kHugePage - 1) / kHugePage * kHugePage;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = free_.find(size);
            if (it != free_.end()) {
                void *p = it->second.p;
                free_.erase(it);
                in_use_[p] = size;
                return p;
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

    static void release(void *p)
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
    static void *map_huge(size_t size)
    {
        void *raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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

    /* Called with mutex_ held. */
    void unmap_free_blocks(uint64_t freed_before)
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

    std::mutex mutex_;
    std::unordered_map<void *, size_t> in_use_;       /* large blocks handed out, by size */
    std::unordered_multimap<size_t, FreeBlock> free_; /* large blocks kept, by size */
    uint64_t run_ = 0;
    int users_ = 0;
};

/* ---- Engine state -------------------------------------------------------------------------- */

#ifdef VSR_TORCH_CUDA
/* GPU-only state, reused between chunks. */
struct CudaState {
    explicit CudaState(c10::DeviceIndex index)
        : copy_stream(c10::cuda::getStreamFromPool(false, index))
    {
    }
    c10::cuda::CUDAStream copy_stream; /* host->device copies, ordered by events */
    at::Tensor host_in;                /* pinned float32 staging of one chunk */
    at::cuda::CUDAEvent in_copied;     /* host_in may be refilled once this has passed */
    std::vector<at::Tensor> host_out;  /* pinned encoder planes */
    /* CUDA graph of the chunk shape: captured the second time a shape is run. */
    std::vector<int64_t> seen_shape;
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    at::Tensor graph_in, graph_out;
};
#endif

struct TorchEngine {
    ~TorchEngine()
    {
        /* First, so that the module's own blocks are unmapped rather than kept. */
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
    bool cuda_graphs = false;
    bool reuses_cpu_memory = false;
    int last_run_frames = 0; /* input frames of the last run: its shape, H and W being fixed */
#ifdef VSR_TORCH_CUDA
    std::unique_ptr<CudaState> cuda;
#endif
};

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
        set_error(err, "%s: device \"%s\": CUDA requested but this build/machine has none", path,
                  name);
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

bool check_layout(const vsr_pixel_layout &l, vsr_err *err)
{
    const bool bits_ok = l.bits == 8 || l.bits == 10 || l.bits == 12 || l.bits == 16;
    const bool shift_ok = l.chroma_w_shift == 0 || (l.chroma_w_shift == 1 && !l.rgb);
    const bool matrix_ok = l.rgb || (l.kr > 0 && l.kb > 0 && l.kr + l.kb < 1);
    if (bits_ok && shift_ok && matrix_ok)
        return true;
    set_error(err, "torch engine: unsupported output layout (rgb %d, %d bits, chroma shift %d)",
              l.rgb, l.bits, l.chroma_w_shift);
    return false;
}

/* Chooses the compute dtype and converts the module; FP16 convolutions need a GPU. */
bool apply_precision(TorchEngine &e, enum vsr_precision precision, vsr_err *err)
{
    const char *path = e.path.c_str();
    bool half =
        precision == VSR_PRECISION_FP16 || (precision == VSR_PRECISION_AUTO && e.meta.float16);
    if (half && e.device.is_cpu()) {
        if (precision == VSR_PRECISION_FP16) {
            set_error(err, "%s: float16 needs a CUDA device; on the CPU use float32", path);
            return false;
        }
        half = false; /* AUTO on the CPU: a float16 file runs in float32 */
    }
    if (half && !e.meta.float16) {
        e.module.to(torch::kHalf);
        for (const std::string &name : e.meta.fp32_modules) {
            if (!e.module.hasattr(name) || !e.module.attr(name).isModule()) {
                set_error(err,
                          "%s: vsrup.json: fp32_modules names \"%s\", which is not a submodule",
                          path, name.c_str());
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

#ifdef VSR_TORCH_CUDA
void setup_cuda(TorchEngine &e)
{
    /* cuDNN autotuning and TF32: the old setters, present in 1.13 and 2.x (2.9+ warns once). */
    at::globalContext().setBenchmarkCuDNN(true);
    at::globalContext().setAllowTF32CuDNN(true);
    at::globalContext().setAllowTF32CuBLAS(true);
    e.cuda = std::make_unique<CudaState>(e.device.index());
}
#endif

void fill_info(const TorchEngine &e, vsr_engine_info *info)
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
    if (!check_layout(o->out_layout, err))
        return VSR_ERROR;

    auto e = std::make_unique<TorchEngine>();
    e->path = o->model;
    e->layout = o->out_layout;
    e->in_w = o->in_w;
    e->in_h = o->in_h;
    e->cuda_graphs = o->cuda_graphs != 0;
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
    const int threads = o->threads > 0 ? o->threads : int(std::thread::hardware_concurrency());
    at::set_num_threads(std::max(threads, 1));
#ifdef VSR_TORCH_CUDA
    if (e->device.is_cuda())
        setup_cuda(*e);
#endif
    if (e->device.is_cpu()) {
        ReusingCpuAllocator::instance().engine_opened();
        e->reuses_cpu_memory = true;
    }
    fill_info(*e, &engine->info);
    engine->priv = e.release();
    return VSR_OK;
}

/* ---- run: staging, padding, forward -------------------------------------------------------- */

/* Copies n_in frames into a [T, 3, H, W] buffer, repeating the last one up to T. */
void fill_frames(float *dst, const float *const *in, int n_in, int t, size_t frame_floats)
{
    for (int i = 0; i < t; i++)
        std::memcpy(dst + size_t(i) * frame_floats, in[std::min(i, n_in - 1)],
                    frame_floats * sizeof(float));
}

/* The chunk as a float32 [T, 3, H, W] tensor on the engine's device. */
at::Tensor stage_input(TorchEngine &e, const float *const *in, int n_in, int t)
{
    const std::vector<int64_t> shape{t, 3, e.in_h, e.in_w};
    const size_t frame_floats = size_t(3) * size_t(e.in_h) * size_t(e.in_w);
#ifdef VSR_TORCH_CUDA
    if (e.cuda) {
        CudaState &c = *e.cuda;
        c.in_copied.synchronize(); /* the previous chunk's copy has left host_in */
        if (!c.host_in.defined() || c.host_in.sizes() != at::IntArrayRef(shape))
            c.host_in = at::empty(shape, at::TensorOptions().dtype(at::kFloat).pinned_memory(true));
        fill_frames(c.host_in.data_ptr<float>(), in, n_in, t, frame_floats);
        /* Allocated on the compute stream; the copy stream waits until that memory is free. */
        at::Tensor dev = at::empty(shape, at::TensorOptions().dtype(at::kFloat).device(e.device));
        at::cuda::CUDAEvent allocated;
        allocated.record(c10::cuda::getCurrentCUDAStream(e.device.index()));
        allocated.block(c.copy_stream);
        {
            c10::cuda::CUDAStreamGuard guard(c.copy_stream);
            dev.copy_(c.host_in, /*non_blocking=*/true);
            c.in_copied.record(c.copy_stream);
        }
        c.in_copied.block(c10::cuda::getCurrentCUDAStream(e.device.index()));
        return dev;
    }
#endif
    at::Tensor host = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
    fill_frames(host.data_ptr<float>(), in, n_in, t, frame_floats);
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

at::Tensor forward_eager(TorchEngine &e, const at::Tensor &x)
{
    c10::IValue out = e.module.forward({x});
    if (!out.isTensor())
        throw std::runtime_error("forward() did not return a tensor");
    return out.toTensor();
}

#ifdef VSR_TORCH_CUDA
/*
 * Replays a CUDA graph for the recurring chunk shape. A shape is run eagerly the first time
 * (a one-off last chunk never pays for a capture); when it comes back it is warmed up on a
 * side stream (the profiling executor specialises during the first runs) and captured on
 * another pool stream, as capture needs a non-default stream.
 */
at::Tensor forward_graph(TorchEngine &e, const at::Tensor &x)
{
    CudaState &c = *e.cuda;
    const std::vector<int64_t> shape = x.sizes().vec();
    if (c.graph && shape == c.graph_in.sizes().vec()) {
        c.graph_in.copy_(x);
        c.graph->replay();
        return c.graph_out;
    }
    if (c.graph || shape != c.seen_shape) {
        c.seen_shape = shape;
        return forward_eager(e, x);
    }
    const c10::DeviceIndex index = e.device.index();
    c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(index);
    c.graph_in = x.clone();
    at::cuda::CUDAEvent ready;
    ready.record(current);
    c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, index);
    ready.block(side);
    {
        c10::cuda::CUDAStreamGuard guard(side);
        for (int i = 0; i < 3; i++)
            forward_eager(e, c.graph_in);
    }
    side.synchronize();
    auto graph = std::make_unique<at::cuda::CUDAGraph>();
    c10::cuda::CUDAStream capture = c10::cuda::getStreamFromPool(false, index);
    {
        c10::cuda::CUDAStreamGuard guard(capture);
        graph->capture_begin();
        c.graph_out = forward_eager(e, c.graph_in);
        graph->capture_end();
    }
    capture.synchronize();
    c.graph = std::move(graph);
    c.graph->replay();
    return c.graph_out;
}
#endif

at::Tensor forward(TorchEngine &e, const at::Tensor &x)
{
#ifdef VSR_TORCH_CUDA
    if (e.cuda && e.cuda_graphs)
        return forward_graph(e, x);
#endif
    return forward_eager(e, x);
}

/* ---- run: colour, quantisation, copy-out ----------------------------------------------------- */

/* 4:2:2 chroma co-sited with even luma: (c[2x-1] + 2c[2x] + c[2x+1]) / 4, edges repeated. */
at::Tensor subsample_cosited(const at::Tensor &c)
{
    const int64_t w = c.size(-1), cw = (w + 1) / 2;
    /* padded[j] = c[j - 1], with c[-1] = c[0] and c[w] = c[w - 1] */
    const at::Tensor padded = at::cat({c.narrow(-1, 0, 1), c, c.narrow(-1, w - 1, 1)}, -1);
    const at::Tensor left = padded.slice(-1, 0, 2 * cw - 1, 2);
    const at::Tensor centre = padded.slice(-1, 1, 2 * cw, 2);
    const at::Tensor right = padded.slice(-1, 2, 2 * cw + 1, 2);
    return (left + centre * 2.0f + right) / 4.0f;
}

/*
 * RGB [K, 3, H, W] float32 to the encoder's three planes [K, h, w] on the same device, with
 * the definition of vsr_colour_quantise (include/colour.h) in float32. Deep samples come back
 * as int16 holding the uint16 bit pattern (1.13 has no uint16 tensors).
 */
std::vector<at::Tensor> quantise(const at::Tensor &rgb, const vsr_pixel_layout &l)
{
    const at::Tensor x = rgb.clamp(0.0f, 1.0f);
    const at::Tensor r = x.select(1, 0), g = x.select(1, 1), b = x.select(1, 2);
    const float maxv = float((1 << l.bits) - 1);
    std::vector<at::Tensor> planes;
    if (l.rgb) {
        planes = {g * maxv, b * maxv, r * maxv};
    } else {
        const float kr = float(l.kr), kb = float(l.kb), kg = 1.0f - kr - kb;
        const at::Tensor y = r * kr + g * kg + b * kb;
        at::Tensor cb = (b - y) / (2.0f * (1.0f - kb));
        at::Tensor cr = (r - y) / (2.0f * (1.0f - kr));
        if (l.chroma_w_shift) {
            cb = subsample_cosited(cb);
            cr = subsample_cosited(cr);
        }
        if (l.full_range) {
            const float mid = float(1 << (l.bits - 1));
            planes = {y * maxv, cb * maxv + mid, cr * maxv + mid};
        } else {
            const float step = float(1 << (l.bits - 8));
            planes = {(y * 219.0f + 16.0f) * step, (cb * 224.0f + 128.0f) * step,
                      (cr * 224.0f + 128.0f) * step};
        }
    }
    for (at::Tensor &p : planes) {
        p = (p + 0.5f).floor_().clamp_(0.0f, maxv);
        p = l.bits == 8 ? p.to(at::kByte) : p.to(at::kInt).to(at::kShort);
    }
    return planes;
}

/* Planes as contiguous host tensors; on a GPU through reused pinned buffers. */
std::vector<at::Tensor> fetch_planes(TorchEngine &e, const std::vector<at::Tensor> &planes)
{
#ifdef VSR_TORCH_CUDA
    if (e.cuda) {
        CudaState &c = *e.cuda;
        c.host_out.resize(planes.size());
        for (size_t i = 0; i < planes.size(); i++) {
            at::Tensor &h = c.host_out[i];
            if (!h.defined() || h.sizes() != planes[i].sizes() ||
                h.scalar_type() != planes[i].scalar_type())
                h = at::empty(
                    planes[i].sizes(),
                    at::TensorOptions().dtype(planes[i].scalar_type()).pinned_memory(true));
            h.copy_(planes[i], /*non_blocking=*/true);
        }
        c10::cuda::getCurrentCUDAStream(e.device.index()).synchronize();
        return c.host_out;
    }
#else
    (void)e;
#endif
    std::vector<at::Tensor> host;
    for (const at::Tensor &p : planes)
        host.push_back(p.contiguous());
    return host;
}

int plane_width(const vsr_pixel_layout &l, int plane, int w)
{
    const int shift = plane ? l.chroma_w_shift : 0;
    return (w + (1 << shift) - 1) >> shift;
}

void copy_out(const std::vector<at::Tensor> &planes, const vsr_planes *out, int count)
{
    for (size_t p = 0; p < planes.size(); p++) {
        const int64_t rows = planes[p].size(1);
        const size_t row_bytes = size_t(planes[p].size(2)) * planes[p].element_size();
        const auto *src = static_cast<const uint8_t *>(planes[p].data_ptr());
        for (int k = 0; k < count; k++)
            for (int64_t y = 0; y < rows; y++)
                std::memcpy(out[k].data[p] + y * out[k].linesize[p],
                            src + (k * rows + y) * int64_t(row_bytes), row_bytes);
    }
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

void run_chunk(TorchEngine &e, const float *const *in, int n_in, int keep_begin, int keep_count,
               const vsr_planes *out)
{
    const int t = std::max(n_in, e.meta.min_frames);
    const at::Tensor x = pad_frames(e, stage_input(e, in, n_in, t)).to(e.dtype).unsqueeze(0);
    const at::Tensor y = forward(e, x);
    const int64_t s = e.meta.scale;
    if (y.dim() != 5 || y.size(0) != 1 || y.size(1) != t || y.size(2) != 3 ||
        y.size(3) != s * x.size(3) || y.size(4) != s * x.size(4))
        throw std::runtime_error("forward() returned " + c10::str(y.sizes()) + " for input " +
                                 c10::str(x.sizes()) + "; vsrup.json says scale " +
                                 std::to_string(s));
    const at::Tensor kept = y[0].narrow(0, keep_begin, keep_count)
                                .narrow(2, 0, s * e.in_h)
                                .narrow(3, 0, s * e.in_w)
                                .to(at::kFloat);
    copy_out(fetch_planes(e, quantise(kept, e.layout)), out, keep_count);
}

/* After a device OOM: drop what this engine holds on the device and the allocator's cache. */
void release_device_memory(TorchEngine &e)
{
#ifdef VSR_TORCH_CUDA
    if (e.cuda) {
        e.cuda->graph.reset();
        e.cuda->graph_in = at::Tensor();
        e.cuda->graph_out = at::Tensor();
        e.cuda->seen_shape.clear();
        c10::cuda::CUDACachingAllocator::emptyCache();
    }
#else
    (void)e;
#endif
}

int oom(TorchEngine &e, vsr_err *err, const char *why)
{
    release_device_memory(e);
    set_error(err, "%s: out of memory on %s: %s", e.path.c_str(), e.device.str().c_str(), why);
    return VSR_ERROR_OOM;
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

int run_catching(TorchEngine &e, const float *const *in, int n_in, int keep_begin, int keep_count,
                 const vsr_planes *out, vsr_err *err)
{
    try {
        c10::InferenceMode guard;
        run_chunk(e, in, n_in, keep_begin, keep_count, out);
        return VSR_OK;
    } catch (const c10::OutOfMemoryError &ex) {
        return oom(e, err, first_line(ex.what_without_backtrace()).c_str());
    } catch (const std::bad_alloc &) {
        return oom(e, err, "allocation failed");
    } catch (const c10::Error &ex) {
        const std::string why = first_line(ex.what_without_backtrace());
        if (why.find("out of memory") != std::string::npos)
            return oom(e, err, why.c_str());
        set_error(err, "%s: %s", e.path.c_str(), why.c_str());
    } catch (const std::exception &ex) {
        set_error(err, "%s: %s", e.path.c_str(), ex.what());
    }
    return VSR_ERROR;
}

int torch_run(vsr_engine *engine, const float *const *in, int n_in, int keep_begin, int keep_count,
              const vsr_planes *out, vsr_err *err)
{
    auto &e = *static_cast<TorchEngine *>(engine->priv);
    if (!check_run_args(e, in, n_in, keep_begin, keep_count, out, err))
        return VSR_ERROR;
    if (e.reuses_cpu_memory && n_in != e.last_run_frames) {
        /* Another chunk shape: the kept blocks fit none of its requests but would stay mapped
         * beside its working set until it ends. Release them first, so that the peak is one
         * working set, which is what chunk_fit.c measures and budgets. */
        ReusingCpuAllocator::instance().release_kept();
        e.last_run_frames = n_in;
    }
    const int ret = run_catching(e, in, n_in, keep_begin, keep_count, out, err);
    if (e.reuses_cpu_memory)
        ReusingCpuAllocator::instance().end_run();
    return ret;
}

/*
 * For the chunk length (chunk_fit.c): the caching allocator's peak of allocated bytes, and
 * what the engine could use in all: what the allocator holds plus what the device has free.
 */
int torch_device_memory(vsr_engine *engine, int reset, int64_t *peak, int64_t *available)
{
#ifdef VSR_TORCH_CUDA
    auto &e = *static_cast<TorchEngine *>(engine->priv);
    if (!e.device.is_cuda())
        return VSR_ERROR;
    try {
        const c10::DeviceIndex index = e.device.index();
        if (reset)
            c10::cuda::CUDACachingAllocator::resetPeakStats(index);
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
        const size_t aggregate = 0; /* StatType::AGGREGATE; its namespace moved in torch 2.x */
        size_t free_bytes = 0, total_bytes = 0;
        c10::cuda::CUDAGuard guard(index);
        if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess)
            return VSR_ERROR;
        *peak = stats.allocated_bytes[aggregate].peak;
        *available = static_cast<int64_t>(free_bytes) + stats.reserved_bytes[aggregate].current;
        return VSR_OK;
    } catch (const std::exception &) {
        return VSR_ERROR;
    }
#else
    (void)engine;
    (void)reset;
    (void)peak;
    (void)available;
    return VSR_ERROR;
#endif
}

void torch_close(vsr_engine *engine)
{
    delete static_cast<TorchEngine *>(engine->priv);
    engine->priv = nullptr;
}

} // namespace

extern "C" const vsr_engine_ops vsr_engine_torch_ops = {"torch", torch_open, torch_run, torch_close,
                                                        torch_device_memory};
