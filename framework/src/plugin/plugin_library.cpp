#include "plugin/plugin_library.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/log.hpp"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>

namespace recprune::plugin {
namespace {

log::Level to_level(recprune_log_level_t level) {
    switch (level) {
        case RECPRUNE_LOG_LEVEL_TRACE: return log::Level::Trace;
        case RECPRUNE_LOG_LEVEL_DEBUG: return log::Level::Debug;
        case RECPRUNE_LOG_LEVEL_INFO: return log::Level::Info;
        case RECPRUNE_LOG_LEVEL_WARN: return log::Level::Warn;
        default: return log::Level::Error;
    }
}

void host_log(void* host_data, recprune_log_level_t level, const char* message) {
    const auto* context = static_cast<const HostContext*>(host_data);
    log::write(to_level(level), context->log_component, message ? message : "");
}

int32_t host_log_enabled(void* host_data, recprune_log_level_t level) {
    const auto* context = static_cast<const HostContext*>(host_data);
    return log::enabled(to_level(level), context->log_component) ? 1 : 0;
}

void* host_allocate(void*, size_t size, size_t alignment) {
    if (alignment < sizeof(void*)) alignment = sizeof(void*);
    void* pointer = nullptr;
    if (posix_memalign(&pointer, alignment, size) != 0) return nullptr;
    return pointer;
}

void host_deallocate(void*, void* pointer) { std::free(pointer); }

// Boost.DLL messages end with an unrelated errno text ("...): Bad file descriptor"); keep only
// the dlerror part, which names the actual cause.
std::string dl_reason(const std::string& what) {
    auto begin = what.find("dlerror system message: ");
    if (begin == std::string::npos) return what;
    begin += std::strlen("dlerror system message: ");
    auto end = what.rfind(')');
    return what.substr(begin, end == std::string::npos || end < begin ? std::string::npos
                                                                      : end - begin);
}

const char* const kSchemaTypes[] = {"integer", "number", "string", "boolean", "array", "object"};

bool is_schema_type(std::string_view type) {
    for (const char* known : kSchemaTypes) {
        if (type == known) return true;
    }
    return false;
}

}  // namespace

struct PluginLibrary::Impl {
    boost::dll::shared_library library;
};

const char* kind_name(recprune_kind_t kind) {
    switch (kind) {
        case RECPRUNE_KIND_DATASET: return "dataset";
        case RECPRUNE_KIND_MODEL: return "model";
        case RECPRUNE_KIND_PRUNER: return "pruner";
        default: return "unknown";
    }
}

PluginLibrary::~PluginLibrary() = default;

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::filesystem::path& path) {
    std::shared_ptr<PluginLibrary> plugin(new PluginLibrary());
    plugin->path_ = path;
    plugin->impl_ = std::make_unique<Impl>();
    const std::string where = "plugin rejected: " + path.string() + ": ";

    // 1. The file loads as a shared library.
    try {
        plugin->impl_->library.load(path, boost::dll::load_mode::rtld_now |
                                              boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        throw PluginError(where + "cannot load: " + dl_reason(e.what()) +
                          "; rebuild it for this machine or remove it from the plugin path");
    }

    // 2. It exports the entry symbol.
    if (!plugin->impl_->library.has(RECPRUNE_ENTRY_SYMBOL)) {
        throw PluginError(where + "no entry symbol " + RECPRUNE_ENTRY_SYMBOL +
                          "; register the plugin class with RECPRUNE_REGISTER_PLUGIN");
    }
    auto entry = plugin->impl_->library.get<const recprune_plugin_descriptor_t*(uint16_t,
                                                                                uint16_t)>(
        RECPRUNE_ENTRY_SYMBOL);
    const recprune_plugin_descriptor_t* raw = entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR);
    if (raw == nullptr) {
        throw PluginError(where + "the entry symbol returned no descriptor for ABI " +
                          std::to_string(RECPRUNE_ABI_MAJOR) + "." +
                          std::to_string(RECPRUNE_ABI_MINOR) + "; rebuild it with this SDK");
    }

    // 3-7. Version, size, function table, name and schema.
    plugin->check_descriptor(raw);
    plugin->check_functions();
    plugin->check_schema();

    plugin->context_.log_component = "plugin:" + plugin->name_;
    plugin->host_.struct_size = sizeof(recprune_host_t);
    plugin->host_.abi_major = RECPRUNE_ABI_MAJOR;
    plugin->host_.abi_minor = RECPRUNE_ABI_MINOR;
    plugin->host_.host_data = &plugin->context_;
    plugin->host_.log = &host_log;
    plugin->host_.log_enabled = &host_log_enabled;
    plugin->host_.allocate = &host_allocate;
    plugin->host_.deallocate = &host_deallocate;
    return plugin;
}

void PluginLibrary::check_descriptor(const recprune_plugin_descriptor_t* raw) {
    const std::string where = "plugin rejected: " + path_.string() + ": ";

    // The first three fields exist in every version, so they can be read before the size check.
    if (raw->abi_major != RECPRUNE_ABI_MAJOR) {
        throw PluginError(where + "ABI major " + std::to_string(raw->abi_major) + ", host " +
                          std::to_string(RECPRUNE_ABI_MAJOR) + "; rebuild it with this SDK");
    }
    if (raw->abi_minor > RECPRUNE_ABI_MINOR) {
        throw PluginError(where + "ABI " + std::to_string(raw->abi_major) + "." +
                          std::to_string(raw->abi_minor) + " is newer than the host's " +
                          std::to_string(RECPRUNE_ABI_MAJOR) + "." +
                          std::to_string(RECPRUNE_ABI_MINOR) +
                          "; upgrade recprune or rebuild the plugin with this SDK");
    }
    // Version 1.0 defines every field up to and including `pruner`.
    constexpr size_t kMinimumSize = offsetof(recprune_plugin_descriptor_t, pruner) +
                                    sizeof(const recprune_pruner_api_t*);
    if (raw->struct_size < kMinimumSize) {
        throw PluginError(where + "descriptor is " + std::to_string(raw->struct_size) +
                          " bytes, ABI 1.0 needs at least " + std::to_string(kMinimumSize) +
                          "; rebuild it with this SDK");
    }
    // Copy only what the plugin declared; the rest stays zero.
    std::memcpy(&descriptor_, raw, std::min<size_t>(raw->struct_size, sizeof(descriptor_)));

    if (descriptor_.name == nullptr || *descriptor_.name == '\0') {
        throw PluginError(where + "descriptor has no name; pass a name to "
                                  "RECPRUNE_REGISTER_PLUGIN");
    }
    name_ = descriptor_.name;
    for (char c : name_) {
        bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!allowed) {
            throw PluginError(where + "name \"" + name_ +
                              "\" has characters other than a-z, 0-9 and _; rename the plugin");
        }
    }
    version_ = descriptor_.version ? descriptor_.version : "";
    description_ = descriptor_.description ? descriptor_.description : "";
}

namespace {

// Copies the part of a function table the plugin declared; the rest stays zero (NULL).
template <typename Table>
void copy_declared(Table& target, const Table* source) {
    target = Table{};
    if (source == nullptr) return;
    std::memcpy(&target, source, std::min<size_t>(source->struct_size, sizeof(Table)));
}

}  // namespace

void PluginLibrary::check_functions() {
    copy_declared(dataset_api_, descriptor_.dataset);
    copy_declared(model_api_, descriptor_.model);
    copy_declared(pruner_api_, descriptor_.pruner);
    const std::string where = "plugin rejected: " + path_.string() + " (" + name_ + "): ";
    auto missing = [&](const char* function) {
        return PluginError(where + "missing function " + function +
                           "; implement it or build the plugin with the SDK macro");
    };

    switch (descriptor_.kind) {
        case RECPRUNE_KIND_DATASET: {
            const auto* api = descriptor_.dataset;
            if (api == nullptr) throw missing("table recprune_dataset_api_t");
            if (api->struct_size < sizeof(recprune_dataset_api_t)) {
                throw missing("table recprune_dataset_api_t (too small)");
            }
            if (!api->create) throw missing("dataset create");
            if (!api->destroy) throw missing("dataset destroy");
            if (!api->list_sources) throw missing("dataset list_sources");
            if (!api->load) throw missing("dataset load");
            break;
        }
        case RECPRUNE_KIND_MODEL: {
            const auto* api = descriptor_.model;
            if (api == nullptr) throw missing("table recprune_model_api_t");
            if (api->struct_size < offsetof(recprune_model_api_t, compact)) {
                throw missing("table recprune_model_api_t (too small)");
            }
            if (!api->create) throw missing("model create");
            if (!api->destroy) throw missing("model destroy");
            if (!api->get_tensors) throw missing("model get_tensors");
            if (!api->get_structure) throw missing("model get_structure");
            if (!api->forward) throw missing("model forward");
            if (!api->backward) throw missing("model backward");
            if (!api->touched_rows) throw missing("model touched_rows");
            if (!api->cost) throw missing("model cost");
            break;
        }
        case RECPRUNE_KIND_PRUNER: {
            const auto* api = descriptor_.pruner;
            if (api == nullptr) throw missing("table recprune_pruner_api_t");
            if (api->struct_size < offsetof(recprune_pruner_api_t, regularize)) {
                throw missing("table recprune_pruner_api_t (too small)");
            }
            if (!api->create) throw missing("pruner create");
            if (!api->destroy) throw missing("pruner destroy");
            if (!api->get_info) throw missing("pruner get_info");
            if (!api->score) throw missing("pruner score");
            break;
        }
        default:
            throw PluginError(where + "unknown kind " + std::to_string(descriptor_.kind) +
                              "; use dataset, model or pruner");
    }
}

void PluginLibrary::check_schema() {
    const std::string where = "plugin rejected: " + path_.string() + " (" + name_ + "): ";
    if (descriptor_.parameter_schema_json == nullptr) {
        throw PluginError(where + "bad schema: none given; pass a JSON object such as "
                                  "{\"parameters\": {}}");
    }
    // json_io's parser, not boost::json::parse, because Boost.JSON keeps one value of a
    // repeated key without a word, and a parameter declared twice would load with one of its
    // declarations.
    std::string problem;
    const std::optional<boost::json::value> parsed =
        json_io::try_parse(descriptor_.parameter_schema_json, &problem);
    if (!parsed) throw PluginError(where + "bad schema: " + problem);
    if (!parsed->is_object()) {
        throw PluginError(where + "bad schema: not a JSON object; fix the schema text");
    }
    const boost::json::value& schema = *parsed;
    const boost::json::value* parameters = schema.as_object().if_contains("parameters");
    if (parameters == nullptr || !parameters->is_object()) {
        throw PluginError(where + "bad schema: no \"parameters\" object; list the parameters "
                                  "under \"parameters\"");
    }
    for (const auto& [key, spec] : parameters->as_object()) {
        const std::string param = std::string(key);
        if (!spec.is_object()) {
            throw PluginError(where + "bad schema: parameter " + param +
                              " is not an object; give {\"type\", \"default\", \"help\"}");
        }
        const boost::json::value* type = spec.as_object().if_contains("type");
        if (type == nullptr || !type->is_string() || !is_schema_type(type->as_string())) {
            throw PluginError(where + "bad schema: parameter " + param +
                              " has no valid \"type\"; use integer, number, string, boolean, "
                              "array or object");
        }
    }
    parameters_ = parameters->as_object();
}

}  // namespace recprune::plugin
