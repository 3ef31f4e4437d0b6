// Loads an in-tree dataset plugin straight through its C entry symbol (dlopen), runs
// create/list_sources/load and copies the table, so data tests exercise the real plugin
// without depending on the host's plugin registry.
#pragma once

#include "data/raw_table.hpp"

#include "recprune/abi.h"

#include <boost/json.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

namespace recprune::test {

/// Result of one plugin call: the status and the message the plugin set.
struct PluginCallError : std::runtime_error {
    PluginCallError(recprune_status_t status, const std::string& message)
        : std::runtime_error(message), status(status) {}
    recprune_status_t status;
};

class DatasetPlugin {
public:
    explicit DatasetPlugin(const std::string& name) {
        std::string path =
            std::string(RECPRUNE_TEST_PLUGIN_DIR) + "/librecprune_dataset_" + name + ".so";
        library_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (library_ == nullptr)
            throw std::runtime_error("cannot load " + path + ": " + ::dlerror());
        auto entry = reinterpret_cast<recprune_entry_fn>(::dlsym(library_, RECPRUNE_ENTRY_SYMBOL));
        if (entry == nullptr) throw std::runtime_error("no entry symbol in " + path);
        descriptor_ = entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR);
        if (descriptor_ == nullptr || descriptor_->dataset == nullptr) {
            throw std::runtime_error(path + " is not a dataset plugin");
        }
        host_.struct_size = sizeof(host_);
        host_.abi_major = RECPRUNE_ABI_MAJOR;
        host_.abi_minor = RECPRUNE_ABI_MINOR;
        host_.log = [](void*, recprune_log_level_t, const char*) {};
        host_.log_enabled = [](void*, recprune_log_level_t) -> int32_t { return 0; };
        host_.allocate = [](void*, size_t size, size_t alignment) -> void* {
            return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
        };
        host_.deallocate = [](void*, void* pointer) { std::free(pointer); };
    }
    ~DatasetPlugin() {
        // Plugins are never unloaded (dlclose is a no-op for libraries with unique symbols).
    }

    const recprune_plugin_descriptor_t& descriptor() const { return *descriptor_; }

    /// Creates the dataset with `params`, lists its sources and loads it.
    data::RawTable load(const boost::json::object& params,
                        std::vector<std::string>* sources = nullptr) const {
        const recprune_dataset_api_t& api = *descriptor_->dataset;
        std::string message;
        recprune_error_t error{&message, [](void* data, const char* text) {
                                   *static_cast<std::string*>(data) = text;
                               }};
        std::string params_text = boost::json::serialize(params);
        recprune_dataset_t dataset = nullptr;
        check(api.create(&host_, params_text.c_str(), &dataset, &error), message);
        try {
            const char* sources_json = nullptr;
            check(api.list_sources(dataset, &sources_json, &error), message);
            if (sources != nullptr) {
                sources->clear();
                boost::json::value paths = boost::json::parse(sources_json);
                for (const auto& path : paths.as_array()) {
                    sources->emplace_back(path.as_string());
                }
            }
            recprune_table_t table{};
            check(api.load(dataset, &table, &error), message);
            data::RawTable copy = data::copy_table(table);
            api.destroy(dataset);
            return copy;
        } catch (...) {
            api.destroy(dataset);
            throw;
        }
    }

private:
    static void check(recprune_status_t status, const std::string& message) {
        if (status != RECPRUNE_STATUS_OK) throw PluginCallError(status, message);
    }

    void* library_ = nullptr;
    const recprune_plugin_descriptor_t* descriptor_ = nullptr;
    recprune_host_t host_{};
};

/// Index of the column named `name`; throws when absent.
inline const data::RawColumn& column_named(const data::RawTable& table, const std::string& name) {
    for (const auto& column : table.columns) {
        if (column.name == name) return column;
    }
    throw std::runtime_error("no column " + name);
}

/// Path under the shared datasets folder, or empty when that dataset is absent.
inline std::string shared_dataset(const std::string& name) {
    std::string path = std::string(RECPRUNE_SHARED_DATASETS_DIR) + "/" + name;
    return ::access(path.c_str(), R_OK) == 0 ? path : std::string();
}

}  // namespace recprune::test
