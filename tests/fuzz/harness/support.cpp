#include "harness/support.hpp"

#include "harness/harness.hpp"

#include "core/log.hpp"
#include "plugin/plugin_registry.hpp"

#include <cstdlib>
#include <fstream>
#include <mutex>

#include <unistd.h>

namespace recprune::fuzz {
namespace {

// Owns the scratch folder and removes it when the process exits normally.
class ScratchFolder {
public:
    ScratchFolder() {
        std::filesystem::path base = "/dev/shm";
        if (::access(base.c_str(), W_OK) != 0) base = std::filesystem::temp_directory_path();
        std::string pattern = (base / "recprune-fuzz-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("cannot create a scratch folder under " + base.string());
        }
        path_ = pattern;
    }
    ScratchFolder(const ScratchFolder&) = delete;
    ScratchFolder& operator=(const ScratchFolder&) = delete;
    ~ScratchFolder() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace

void require(bool condition, const std::string& what) {
    if (!condition) throw InvariantBroken("fuzz invariant broken: " + what);
}

void init_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        const char* spec = std::getenv("RECPRUNE_LOG");
        log::configure(log::Level::Off, spec != nullptr ? spec : "");
    });
}

const std::filesystem::path& scratch_dir() {
    static ScratchFolder folder;
    return folder.path();
}

std::filesystem::path fresh_folder(const std::filesystem::path& folder) {
    std::filesystem::remove_all(folder);
    std::filesystem::create_directories(folder);
    return folder;
}

void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write the fuzz input to " + path.string());
}

std::filesystem::path plugin_dir() { return RECPRUNE_FUZZ_PLUGIN_DIR; }

std::filesystem::path descriptor_plugin_path() { return RECPRUNE_FUZZ_DESCRIPTOR_PLUGIN; }

const plugin::PluginRegistry& full_registry() {
    static const plugin::PluginRegistry registry = [] {
        plugin::PluginRegistry loaded;
        loaded.discover({plugin_dir()}, false);
        if (loaded.plugins().empty()) {
            throw std::runtime_error("no plugins found in " + plugin_dir().string() +
                                     "; build the plugins before the fuzz targets");
        }
        return loaded;
    }();
    return registry;
}

void check_rejection_message(const char* message) {
    require(message != nullptr && *message != '\0', "an input was rejected without a message");
}

std::vector<std::string_view> split_at_nul(std::string_view input, size_t max_parts) {
    std::vector<std::string_view> parts;
    while (parts.size() + 1 < max_parts) {
        size_t at = input.find('\0');
        if (at == std::string_view::npos) break;
        parts.push_back(input.substr(0, at));
        input.remove_prefix(at + 1);
    }
    parts.push_back(input);
    return parts;
}

const std::vector<Target>& all_targets() {
    static const std::vector<Target> targets = {
        {"grid", run_grid},
        {"text", run_text},
        {"results", run_results},
        {"descriptor", run_descriptor},
        {"dataset_avazu", [](std::string_view input) { run_dataset("avazu", input); }},
        {"dataset_criteo", [](std::string_view input) { run_dataset("criteo", input); }},
        {"dataset_csv", [](std::string_view input) { run_dataset("csv", input); }},
        {"dataset_libsvm", [](std::string_view input) { run_dataset("libsvm", input); }},
        {"dataset_movielens", [](std::string_view input) { run_dataset("movielens", input); }},
        {"dataset_movietweetings",
         [](std::string_view input) { run_dataset("movietweetings", input); }},
    };
    return targets;
}

}  // namespace recprune::fuzz
