// Helpers shared by the loader, grid, results and runner tests: where the real and the fixture
// plugins are built, a registry of the real plugins, and a scratch folder removed at the end.
#pragma once

#include "core/errors.hpp"
#include "plugin/plugin_library.hpp"
#include "plugin/plugin_registry.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace recprune::test {

/// Path of fixture plugin librecprune_<stem>.so, such as "pruner_fixture_good".
inline std::filesystem::path fixture_plugin(const std::string& stem) {
    return std::filesystem::path(RECPRUNE_TEST_FIXTURE_PLUGIN_DIR) / ("librecprune_" + stem + ".so");
}

/// Path of the in-tree plugin librecprune_<kind>_<name>.so in the build tree.
inline std::filesystem::path real_plugin(const std::string& kind, const std::string& name) {
    return std::filesystem::path(RECPRUNE_TEST_PLUGIN_DIR) /
           ("librecprune_" + kind + "_" + name + ".so");
}

inline std::filesystem::path fixtures_dir() { return RECPRUNE_TEST_FIXTURES_DIR; }

/// Returns the PluginError message of loading `path`, or "" when the library loads.
inline std::string load_error(const std::filesystem::path& path) {
    try {
        plugin::PluginLibrary::load(path);
    } catch (const PluginError& e) {
        return e.what();
    }
    return "";
}

/// True when `text` contains `part`; used in CHECK so that doctest prints both on failure.
inline bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

/// A registry holding the in-tree plugins the grid and runner tests use, plus the fixture
/// model whose schema has one parameter of every kind.
inline plugin::PluginRegistry make_grid_registry() {
    plugin::PluginRegistry registry;
    registry.add(real_plugin("dataset", "movietweetings"), false);
    registry.add(real_plugin("model", "logistic_regression"), false);
    registry.add(real_plugin("model", "fm"), false);
    registry.add(real_plugin("pruner", "random"), false);
    registry.add(real_plugin("pruner", "magnitude"), false);
    registry.add(fixture_plugin("model_fixture_schema"), false);
    registry.add(fixture_plugin("pruner_fixture_failing_score"), false);
    registry.add(fixture_plugin("pruner_fixture_half_scores"), false);
    for (const auto& rejected : registry.rejected()) {
        FAIL_CHECK("test plugin rejected: " << rejected.message);
    }
    return registry;
}

/// A temporary folder removed with everything in it when the object goes out of scope.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "recprune-runtime-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    const std::filesystem::path& path() const { return path_; }

    /// Writes `bytes` exactly to `name` (folders created) and returns the full path.
    std::filesystem::path write(const std::string& name, std::string_view bytes) const {
        std::filesystem::path file = path_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("cannot write " + file.string());
        return file;
    }

private:
    std::filesystem::path path_;
};

/// Reads a whole file as bytes.
inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace recprune::test
