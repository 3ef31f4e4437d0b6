#include "plugin/plugin_registry.hpp"

#include "core/errors.hpp"
#include "core/join.hpp"
#include "core/log.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace recprune::plugin {
namespace {

std::filesystem::path executable_dir() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : self.parent_path();
}

/// Returns true when `path` is `folder` or lies below it (after resolving both).
bool is_within(const std::filesystem::path& path, const std::filesystem::path& folder) {
    std::error_code ec;
    const auto inner = std::filesystem::weakly_canonical(path, ec);
    const auto outer = std::filesystem::weakly_canonical(folder, ec);
    if (ec) return false;
    const auto [end, unused] = std::mismatch(outer.begin(), outer.end(), inner.begin(),
                                             inner.end());
    return end == outer.end();
}

bool writable_by_others(const std::filesystem::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return false;
    return (info.st_mode & S_IWOTH) != 0;
}

// A library name reveals its plugin name before loading: librecprune_<kind>_<name>.so. The
// name inside the descriptor is what counts; this one only matches rejected files to requests.
std::string name_from_file(const std::filesystem::path& path) {
    std::string stem = path.stem().string();
    for (const char* prefix : {"librecprune_dataset_", "librecprune_model_",
                               "librecprune_pruner_"}) {
        std::string p = prefix;
        if (stem.rfind(p, 0) == 0) return stem.substr(p.size());
    }
    return stem;
}

}  // namespace

std::vector<std::filesystem::path> PluginRegistry::search_path(
    const std::vector<std::filesystem::path>& command_line_dirs) {
    std::vector<std::filesystem::path> dirs = command_line_dirs;
    if (const char* env = std::getenv("RECPRUNE_PLUGIN_PATH"); env != nullptr) {
        std::stringstream list(env);
        std::string entry;
        while (std::getline(list, entry, ':')) {
            if (!entry.empty()) dirs.emplace_back(entry);
        }
    }
    // The build tree's plugins serve the binary built there. An installed copy skips them, so
    // a later rebuild of the source tree cannot change what the installed recprune loads.
    auto exe = executable_dir();
    if (exe.empty() || is_within(exe, RECPRUNE_BUILD_DIR)) {
        dirs.emplace_back(RECPRUNE_BUILD_PLUGIN_DIR);
    }
    if (!exe.empty()) dirs.push_back(exe.parent_path() / "lib" / "recprune" / "plugins");
    dirs.emplace_back(RECPRUNE_INSTALL_PLUGIN_DIR);

    // The same folder reached twice is searched once.
    std::vector<std::filesystem::path> unique;
    std::set<std::string> seen;
    for (const auto& dir : dirs) {
        std::error_code ec;
        auto canonical = std::filesystem::weakly_canonical(dir, ec);
        std::string key = ec ? dir.string() : canonical.string();
        if (seen.insert(key).second) unique.push_back(ec ? dir : canonical);
    }
    return unique;
}

void PluginRegistry::discover(const std::vector<std::filesystem::path>& directories,
                              bool allow_insecure) {
    for (const auto& dir : directories) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) {
            RECPRUNE_DEBUG("loader", "skipping {}: not a folder", dir.string());
            continue;
        }
        searched_.push_back(dir);
        if (!allow_insecure && writable_by_others(dir)) {
            rejected_.push_back({dir, "plugin folder rejected: " + dir.string() +
                                          ": writable by other users; chmod o-w it or pass "
                                          "--allow-insecure-plugins"});
            RECPRUNE_WARN("loader", "{}", rejected_.back().message);
            continue;
        }
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            const auto& path = entry.path();
            if (path.extension() == ".so" && path.filename().string().rfind("librecprune_", 0) == 0) {
                files.push_back(path);
            }
        }
        // Sorted so that which duplicate wins never depends on directory order.
        std::sort(files.begin(), files.end());
        for (const auto& file : files) add(file, allow_insecure);
    }
}

void PluginRegistry::add(const std::filesystem::path& library_path, bool allow_insecure) {
    std::error_code ec;
    if (!std::filesystem::exists(library_path, ec)) {
        rejected_.push_back({library_path, "plugin rejected: " + library_path.string() +
                                               ": file not found; check --plugin-dir"});
        return;
    }
    if (!allow_insecure && writable_by_others(library_path)) {
        rejected_.push_back({library_path, "plugin rejected: " + library_path.string() +
                                               ": writable by other users; chmod o-w it or "
                                               "pass --allow-insecure-plugins"});
        RECPRUNE_WARN("loader", "{}", rejected_.back().message);
        return;
    }
    try {
        auto plugin = PluginLibrary::load(library_path);
        for (const auto& existing : plugins_) {
            if (existing->name() == plugin->name()) {
                rejected_.push_back(
                    {library_path, "plugin rejected: " + library_path.string() +
                                       ": duplicate name \"" + plugin->name() +
                                       "\", already loaded from " + existing->path().string() +
                                       "; remove one copy or rename the plugin"});
                RECPRUNE_DEBUG("loader", "{}", rejected_.back().message);
                return;
            }
        }
        RECPRUNE_DEBUG("loader", "loaded {} {} {} from {}", kind_name(plugin->kind()),
                       plugin->name(), plugin->version(), library_path.string());
        plugins_.push_back(std::move(plugin));
    } catch (const PluginError& e) {
        rejected_.push_back({library_path, e.what()});
        RECPRUNE_DEBUG("loader", "{}", e.what());
    }
}

std::shared_ptr<PluginLibrary> PluginRegistry::find_or_null(recprune_kind_t kind,
                                                            const std::string& name) const {
    for (const auto& plugin : plugins_) {
        if (plugin->kind() == kind && plugin->name() == name) return plugin;
    }
    return nullptr;
}

std::shared_ptr<PluginLibrary> PluginRegistry::find(recprune_kind_t kind,
                                                    const std::string& name) const {
    if (auto plugin = find_or_null(kind, name)) return plugin;

    // A rejected library of that name explains itself better than "unknown".
    for (const auto& rejected : rejected_) {
        if (name_from_file(rejected.path) == name) throw ConfigError(rejected.message);
    }
    for (const auto& plugin : plugins_) {
        if (plugin->name() == name) {
            throw ConfigError(std::string("unknown ") + kind_name(kind) + " \"" + name +
                              "\": it is a " + kind_name(plugin->kind()) +
                              " plugin; move it to the right list");
        }
    }
    const std::string known = join(names(kind));
    const std::string searched =
        join_mapped(searched_, [](const std::filesystem::path& dir) { return dir.string(); }, ":");
    // A rejected folder may hold the plugin, so its reason comes before "add its folder".
    std::string rejected_folders;
    for (const auto& rejected : rejected_) {
        std::error_code ec;
        if (std::filesystem::is_directory(rejected.path, ec)) {
            rejected_folders += "; the " + rejected.message;
        }
    }
    throw ConfigError(std::string("unknown ") + kind_name(kind) + " \"" + name + "\"; known: " +
                      (known.empty() ? "none" : known) + " (searched " +
                      (searched.empty() ? "no existing folder" : searched) + ")" +
                      (rejected_folders.empty()
                           ? "; check the spelling or add its folder with --plugin-dir"
                           : rejected_folders));
}

std::vector<std::string> PluginRegistry::names(recprune_kind_t kind) const {
    std::vector<std::string> result;
    for (const auto& plugin : plugins_) {
        if (plugin->kind() == kind) result.push_back(plugin->name());
    }
    std::sort(result.begin(), result.end());
    return result;
}

}  // namespace recprune::plugin
