#include "model_meta.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vsr_torch
{
namespace
{

using json = nlohmann::json;

[[noreturn]] void fail(const std::string &what)
{
    throw std::runtime_error(what);
}

const json &member(const json &doc, const char *key)
{
    auto it = doc.find(key);
    if (it == doc.end())
        fail(std::string("key \"") + key + "\" is missing");
    return *it;
}

std::string string_member(const json &doc, const char *key)
{
    const json &v = member(doc, key);
    if (!v.is_string())
        fail(std::string("\"") + key + "\" must be a string");
    return v.get<std::string>();
}

bool bool_member(const json &doc, const char *key)
{
    const json &v = member(doc, key);
    if (!v.is_boolean())
        fail(std::string("\"") + key + "\" must be true or false");
    return v.get<bool>();
}

int positive_int(const json &v, const char *key, int max)
{
    const double d = v.is_number() ? v.get<double>() : 0.0;
    if (!v.is_number() || d != std::floor(d) || d < 1 || d > max)
        fail(std::string("\"") + key + "\" must be an integer in 1.." + std::to_string(max));
    return int(d);
}

} // namespace

ModelMeta parse_meta(const std::string &text)
{
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error &ex) {
        /* "[json.exception.parse_error.101] parse error at line 1, column 9: ..." */
        std::string what = ex.what();
        const size_t at = what.find("parse error");
        fail(at == std::string::npos ? what : what.substr(at));
    }
    if (!doc.is_object())
        fail("must be one JSON object");
    ModelMeta meta;
    meta.name = string_member(doc, "name");
    meta.arch = string_member(doc, "arch");
    meta.scale = positive_int(member(doc, "scale"), "scale", 16);
    meta.temporal = bool_member(doc, "temporal");
    meta.min_frames = positive_int(member(doc, "min_frames"), "min_frames", 1024);
    const json &min_size = member(doc, "min_size");
    if (!min_size.is_array() || min_size.size() != 2)
        fail("\"min_size\" must be an array [h, w]");
    meta.min_h = positive_int(min_size[0], "min_size", 65536);
    meta.min_w = positive_int(min_size[1], "min_size", 65536);
    meta.multiple = positive_int(member(doc, "multiple"), "multiple", 4096);
    const std::string dtype = string_member(doc, "dtype");
    if (dtype != "float32" && dtype != "float16")
        fail("\"dtype\" must be \"float32\" or \"float16\", not \"" + dtype + "\"");
    meta.float16 = dtype == "float16";
    if (doc.contains("fp16"))
        meta.fp16_allowed = bool_member(doc, "fp16");
    if (doc.contains("fp32_modules")) {
        const json &names = doc["fp32_modules"];
        if (!names.is_array())
            fail("\"fp32_modules\" must be an array of names");
        for (const json &v : names) {
            if (!v.is_string())
                fail("\"fp32_modules\" must be an array of names");
            meta.fp32_modules.push_back(v.get<std::string>());
        }
    }
    if (meta.float16 && !meta.fp16_allowed)
        fail("\"dtype\" is \"float16\" but \"fp16\" is false");
    return meta;
}

} // namespace vsr_torch
