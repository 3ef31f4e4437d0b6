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

/// Reads a file written by write_model_file() for plugin `plugin`. Throws InvalidData when the
/// file is missing, of another plugin, or truncated.
inline ModelFile read_model_file(const std::string& path, const std::string& plugin) {
    auto fail = [&](const std::string& why, const std::string& fix) {
        throw InvalidData("model load failed: " + path + ": " + why + "; " + fix);
    };
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(std::strerror(errno), "check the path");

    std::string magic(sizeof(kModelFileMagic) - 1, '\0');
    in.read(magic.data(), static_cast<std::streamsize>(magic.size()));
    if (!in || magic != kModelFileMagic) {
        fail("not a recprune model file", "pass a file written by save()");
    }
    uint64_t header_size = 0;
    in.read(reinterpret_cast<char*>(&header_size), sizeof(header_size));
    if (!in || header_size > (uint64_t{1} << 32)) fail("damaged header", "save the model again");
    std::string header(header_size, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_size));
    if (!in) fail("truncated header", "save the model again");

    const json parsed = json::parse(header);
    const std::string saved_plugin = parsed.at("plugin").get<std::string>();
    if (saved_plugin != plugin) {
        fail("written by model plugin " + saved_plugin + ", not " + plugin,
             "load it with the " + saved_plugin + " plugin");
    }
    ModelFile file;
    file.config = ModelConfig::from_json(parsed.at("config"));
    file.tensors = parsed.at("tensors");
    for (const json& entry : file.tensors) {
        uint64_t count = 1;
        for (const json& extent : entry.at("shape")) count *= extent.get<uint64_t>();
        std::vector<float> values(count);
        in.read(reinterpret_cast<char*>(values.data()),
                static_cast<std::streamsize>(count * sizeof(float)));
        if (!in) {
            fail("truncated in tensor " + entry.at("name").get<std::string>(),
                 "save the model again");
        }
        file.values.push_back(std::move(values));
    }
    return file;
}

/// Copies the values of `file` into `tensors`, which must have the same names and shapes in
/// the same order (the model was rebuilt from file.config). Throws InvalidData otherwise.
inline void restore_tensors(const ModelFile& file, const std::string& path,
                            std::vector<std::unique_ptr<Tensor>>& tensors) {
    if (file.tensors.size() != tensors.size()) {
        throw InvalidData("model load failed: " + path + ": the file has " +
                        std::to_string(file.tensors.size()) + " tensors, the architecture " +
                        std::to_string(tensors.size()) + "; save it with this plugin version");
    }
    for (size_t i = 0; i < tensors.size(); ++i) {
        const std::string name = file.tensors[i].at("name").get<std::string>();
        if (name != tensors[i]->name() || file.values[i].size() != tensors[i]->size()) {
            throw InvalidData("model load failed: " + path + ": tensor " + std::to_string(i) +
                            " is " + name + " with " + std::to_string(file.values[i].size()) +
                            " values, the architecture expects " + tensors[i]->name() +
                            " with " + std::to_string(tensors[i]->size()) +
                            "; save it with this plugin version");
        }
        std::copy(file.values[i].begin(), file.values[i].end(), tensors[i]->data());
    }
}

}  // namespace recprune::nn
