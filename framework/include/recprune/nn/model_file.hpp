// The file save() writes and load() reads: a magic line, a JSON header with the plugin name,
// the architecture (ModelConfig) and the tensor list, then each tensor's f32 values in header
// order, little-endian as the CPU stores them.
#pragma once

#include "recprune/nn/config.hpp"
#include "recprune/sdk.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace recprune::nn {

inline constexpr char kModelFileMagic[] = "recprune-model 1\n";

/// Writes `tensors` and `config` of model plugin `plugin` to `path` (through a temporary file
/// renamed at the end, so a crash leaves no half-written model). Throws Error on I/O failure.
inline void write_model_file(const std::string& path, const std::string& plugin,
                             const ModelConfig& config,
                             const std::vector<std::unique_ptr<Tensor>>& tensors) {
    json listing = json::array();
    for (const auto& tensor : tensors) {
        listing.push_back({{"name", tensor->name()}, {"shape", tensor->shape()}});
    }
    const std::string header =
        json{{"plugin", plugin}, {"config", config.to_json()}, {"tensors", listing}}.dump();
    const uint64_t header_size = header.size();

    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(kModelFileMagic, sizeof(kModelFileMagic) - 1);
        out.write(reinterpret_cast<const char*>(&header_size), sizeof(header_size));
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        for (const auto& tensor : tensors) {
            out.write(reinterpret_cast<const char*>(tensor->data()),
                      static_cast<std::streamsize>(tensor->size() * sizeof(float)));
        }
        out.flush();
        if (!out) {
            const std::string reason = std::strerror(errno);
            std::remove(temporary.c_str());
            throw Error(RECPRUNE_STATUS_RUNTIME_ERROR,
                        "model save failed: " + path + ": " + reason +
                            "; check that the folder exists and is writable");
        }
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
        throw Error(RECPRUNE_STATUS_RUNTIME_ERROR, "model save failed: " + path + ": " +
                                                       error.message() +
                                                       "; check that the folder is writable");
    }
}

/// A model file read back: the architecture and the tensor values by position.
struct ModelFile {
    ModelConfig config;
    json tensors;  ///< [{"name", "shape"}] in file order
    std::vector<std::vector<float>> values;
};

namespace detail {

// The values of a tensor entry {"name", "shape"} of a model file header, or no value when the
// count exceeds `limit`. Throws InvalidData through `fail` when the entry is malformed.
template <typename Fail>
std::optional<uint64_t> header_tensor_values(const json& entry, size_t index, uint64_t limit,
                                             const Fail& fail) {
    const std::string place = "tensor " + std::to_string(index) + " of the header";
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
        fail(place + " has no name");
    }
    const json* shape = entry.contains("shape") ? &entry["shape"] : nullptr;
    if (shape == nullptr || !shape->is_array() || shape->empty() || shape->size() > 4) {
        fail(place + " (" + entry["name"].get<std::string>() +
             ") needs a shape of 1 to 4 extents");
    }
    // Saturates at limit + 1, so that a product past 2^64 cannot wrap to a small count.
    uint64_t count = 1;
    for (const json& extent : *shape) {
        if (!extent.is_number_unsigned()) {
            fail(place + " (" + entry["name"].get<std::string>() + ") has the extent " +
                 extent.dump() + ", not a whole number");
        }
        const uint64_t size = extent.get<uint64_t>();
        count = size != 0 && count > limit / size ? limit + 1 : count * size;
    }
    if (count > limit) return std::nullopt;
    return count;
}

}  // namespace detail

/// Reads a file written by write_model_file() for plugin `plugin`. Throws InvalidData naming
/// the file and what is wrong when the file is missing or of another plugin. It also throws
/// when the file does not follow the format: a damaged header, fewer or more bytes than its
/// tensors need. The sizes
/// are checked against the file's size before any tensor is allocated. Messages stop at what is
/// wrong, because only the caller can tell how to get a new file. Non-finite values are read
/// as they are.
inline ModelFile read_model_file(const std::string& path, const std::string& plugin) {
    auto fail = [&](const std::string& why) {
        throw InvalidData("invalid model file: " + path + ": " + why);
    };
    std::error_code error;
    const uint64_t file_size = std::filesystem::file_size(path, error);
    if (error) fail("cannot read it: " + error.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(std::string("cannot open it: ") + std::strerror(errno));

    const uint64_t magic_size = sizeof(kModelFileMagic) - 1;
    if (file_size == 0) fail("the file is empty");
    std::string magic(magic_size, '\0');
    in.read(magic.data(), static_cast<std::streamsize>(magic.size()));
    if (!in || magic != kModelFileMagic) {
        fail("the file does not start with the line \"recprune-model 1\", so it is not a "
             "recprune model file");
    }
    uint64_t header_size = 0;
    in.read(reinterpret_cast<char*>(&header_size), sizeof(header_size));
    if (!in) fail("the file ends inside the header size");
    const uint64_t after_size = file_size - magic_size - sizeof(header_size);
    if (header_size > after_size) {
        fail("the header size is " + std::to_string(header_size) + " bytes, but only " +
             std::to_string(after_size) + " bytes follow it");
    }
    std::string header(header_size, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_size));
    if (!in) fail("cannot read the header of " + std::to_string(header_size) + " bytes");

    const json parsed = json::parse(header, nullptr, false);
    if (parsed.is_discarded()) fail("the header is not valid JSON");
    if (!parsed.is_object()) fail("the header is not a JSON object");
    if (!parsed.contains("plugin") || !parsed["plugin"].is_string()) {
        fail("the header has no \"plugin\" name");
    }
    const std::string saved_plugin = parsed["plugin"].get<std::string>();
    if (saved_plugin != plugin) {
        fail("written by model plugin " + saved_plugin + ", not " + plugin);
    }
    if (!parsed.contains("config") || !parsed["config"].is_object()) {
        fail("the header has no \"config\" object");
    }
    if (!parsed.contains("tensors") || !parsed["tensors"].is_array()) {
        fail("the header has no \"tensors\" array");
    }

    ModelFile file;
    try {
        file.config = ModelConfig::from_json(parsed["config"]);
    } catch (const Error& e) {
        fail(std::string("the header's \"config\" is invalid: ") + e.what());
    } catch (const json::exception&) {
        fail("the header's \"config\" lacks an entry or has one of the wrong type (it needs "
             "\"params\", \"schema\" with \"fields\", and \"removed_fields\")");
    }
    file.tensors = parsed["tensors"];

    // The values the header lists must fill the rest of the file exactly.
    const uint64_t value_bytes = after_size - header_size;
    const uint64_t value_limit = value_bytes / sizeof(float);
    uint64_t listed = 0;
    for (size_t i = 0; i < file.tensors.size(); ++i) {
        const auto count = detail::header_tensor_values(file.tensors[i], i, value_limit, fail);
        if (!count || *count > value_limit - listed) {
            fail("the header lists more tensor values than the " + std::to_string(value_bytes) +
                 " bytes after it hold (from tensor " +
                 file.tensors[i]["name"].get<std::string>() +
                 " on), so the file is cut short or its header is damaged");
        }
        listed += *count;
    }
    if (listed * sizeof(float) != value_bytes) {
        fail(std::to_string(value_bytes - listed * sizeof(float)) +
             " bytes follow the last tensor, but the format ends there");
    }
    for (const json& entry : file.tensors) {
        uint64_t count = 1;
        for (const json& extent : entry["shape"]) count *= extent.get<uint64_t>();
        std::vector<float> values(count);
        in.read(reinterpret_cast<char*>(values.data()),
                static_cast<std::streamsize>(count * sizeof(float)));
        if (!in) fail("cannot read tensor " + entry["name"].get<std::string>());
        file.values.push_back(std::move(values));
    }
    return file;
}

/// Copies the values of `file` into `tensors`, which must have the same names and shapes in
/// the same order (the model was rebuilt from file.config). Throws InvalidData otherwise.
inline void restore_tensors(const ModelFile& file, const std::string& path,
                            std::vector<std::unique_ptr<Tensor>>& tensors) {
    if (file.tensors.size() != tensors.size()) {
        throw InvalidData("invalid model file: " + path + ": the file has " +
                          std::to_string(file.tensors.size()) + " tensors, but its config " +
                          "builds " + std::to_string(tensors.size()) +
                          "; the file is damaged or was saved by another plugin version");
    }
    for (size_t i = 0; i < tensors.size(); ++i) {
        const std::string name = file.tensors[i]["name"].get<std::string>();
        const auto shape = file.tensors[i]["shape"].get<std::vector<uint64_t>>();
        if (name != tensors[i]->name() || shape != tensors[i]->shape()) {
            throw InvalidData("invalid model file: " + path + ": tensor " + std::to_string(i) +
                              " is " + name + " of shape " + json(shape).dump() +
                              ", but its config builds " + tensors[i]->name() + " of shape " +
                              json(tensors[i]->shape()).dump() +
                              "; the file is damaged or was saved by another plugin version");
        }
        std::copy(file.values[i].begin(), file.values[i].end(), tensors[i]->data());
    }
}

/// Reads model file `path` of plugin `plugin`, builds the model with `build(file.config)` and
/// copies the file's values into its tensors. While `build` runs, the model may allocate at
/// most the values the file contains, so that a damaged config cannot exhaust memory. Throws
/// InvalidData naming the file when it is malformed or its config does not build.
template <typename Build>
auto load_model_file(const std::string& path, const std::string& plugin, Build&& build) {
    const ModelFile file = read_model_file(path, plugin);
    uint64_t values = 0;
    for (const auto& tensor : file.values) values += tensor.size();

    struct BudgetScope {
        explicit BudgetScope(uint64_t limit) { recprune::detail::tensor_value_budget() = limit; }
        ~BudgetScope() { recprune::detail::tensor_value_budget().reset(); }
    };
    auto fail = [&](const std::string& why) {
        throw InvalidData("invalid model file: " + path + ": the header's \"config\" does not "
                          "build a model: " + why);
    };
    decltype(build(file.config)) model;
    try {
        BudgetScope scope(values);
        model = build(file.config);
    } catch (const std::bad_alloc&) {
        fail("it needs more memory than is available");
    } catch (const std::length_error&) {
        fail("it needs a tensor larger than memory can hold");
    } catch (const Error& e) {
        fail(e.what());
    } catch (const json::exception&) {
        fail("its \"params\" lack an entry or have one of the wrong type");
    }
    restore_tensors(file, path, model->tensors());
    return model;
}

}  // namespace recprune::nn
