// Finds plugin libraries on the search path, loads and checks them, and looks them up by name.
#pragma once

#include "plugin/plugin_library.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace recprune::plugin {

/// A library found on the search path that failed a check; `message` says why and the fix.
struct RejectedPlugin {
    std::filesystem::path path;
    std::string message;
};

class PluginRegistry {
public:
    /// Search path in priority order: `command_line_dirs` (--plugin-dir), then the entries of
    /// RECPRUNE_PLUGIN_PATH (colon-separated), then the build tree, then the install prefix
    /// next to the running executable.
    static std::vector<std::filesystem::path> search_path(
        const std::vector<std::filesystem::path>& command_line_dirs);

    /// Loads every librecprune_*.so in `directories`. A library that fails a check is kept as
    /// rejected with its message; a name already taken by an earlier library is rejected as a
    /// duplicate. With `allow_insecure` false, a file or folder writable by other users is
    /// rejected, because anyone who can write it can run code in this process.
    void discover(const std::vector<std::filesystem::path>& directories, bool allow_insecure);

    /// Adds one library file (tests and --plugin given as a file use this).
    void add(const std::filesystem::path& library_path, bool allow_insecure);

    /// Returns the plugin of `kind` called `name`. Throws ConfigError naming the known plugins
    /// of that kind, or the rejection message when a library of that name was rejected.
    std::shared_ptr<PluginLibrary> find(recprune_kind_t kind, const std::string& name) const;

    /// Returns nullptr instead of throwing.
    std::shared_ptr<PluginLibrary> find_or_null(recprune_kind_t kind,
                                                const std::string& name) const;

    const std::vector<std::shared_ptr<PluginLibrary>>& plugins() const { return plugins_; }
    const std::vector<RejectedPlugin>& rejected() const { return rejected_; }
    const std::vector<std::filesystem::path>& searched() const { return searched_; }

    /// Names of the loaded plugins of `kind`, sorted.
    std::vector<std::string> names(recprune_kind_t kind) const;

private:
    std::vector<std::shared_ptr<PluginLibrary>> plugins_;
    std::vector<RejectedPlugin> rejected_;
    std::vector<std::filesystem::path> searched_;
};

}  // namespace recprune::plugin
