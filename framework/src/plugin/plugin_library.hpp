// A loaded plugin shared library and its checked descriptor. Every object a plugin creates holds
// a shared_ptr to its PluginLibrary, so the library stays mapped while any such object lives.
#pragma once

#include "recprune/abi.h"

#include <boost/json.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace recprune::plugin {

class PluginLibrary;

/// Data the host hands every plugin through recprune_host_t::host_data.
struct HostContext {
    std::string log_component;  ///< "plugin:<name>"
};

class PluginLibrary {
public:
    /// Loads `path` and runs every check in order (library loads, entry symbol present, ABI
    /// major and minor, descriptor size, function table complete, schema parses). Throws
    /// PluginError with a message naming the path and the fix.
    static std::shared_ptr<PluginLibrary> load(const std::filesystem::path& path);

    ~PluginLibrary();
    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;

    const std::filesystem::path& path() const { return path_; }
    recprune_kind_t kind() const { return static_cast<recprune_kind_t>(descriptor_.kind); }
    const std::string& name() const { return name_; }
    const std::string& version() const { return version_; }
    const std::string& description() const { return description_; }
    /// The "parameters" object of the plugin's schema.
    const boost::json::object& parameters() const { return parameters_; }
    uint16_t abi_minor() const { return descriptor_.abi_minor; }

    /// Function tables copied up to the plugin's struct_size: a function beyond the size the
    /// plugin declared (an older minor) reads as NULL, never as memory past its table.
    const recprune_dataset_api_t& dataset_api() const { return dataset_api_; }
    const recprune_model_api_t& model_api() const { return model_api_; }
    const recprune_pruner_api_t& pruner_api() const { return pruner_api_; }
    /// Host services for this plugin; valid while the library object lives.
    const recprune_host_t* host() const { return &host_; }

private:
    PluginLibrary() = default;
    void check_descriptor(const recprune_plugin_descriptor_t* raw);
    void check_functions();
    void check_schema();

    struct Impl;
    std::unique_ptr<Impl> impl_;  // the Boost.DLL handle; kept out of this header
    std::filesystem::path path_;
    recprune_plugin_descriptor_t descriptor_{};
    recprune_dataset_api_t dataset_api_{};
    recprune_model_api_t model_api_{};
    recprune_pruner_api_t pruner_api_{};
    std::string name_;
    std::string version_;
    std::string description_;
    boost::json::object parameters_;
    HostContext context_;
    recprune_host_t host_{};
};

/// Lower-case kind name: "dataset", "model", "pruner".
const char* kind_name(recprune_kind_t kind);

}  // namespace recprune::plugin
