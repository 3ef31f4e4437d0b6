// Discovery on the search path: duplicates, files other users can write, lookups by name.
#include "plugin_test_support.hpp"

#include "core/errors.hpp"
#include "plugin/plugin_registry.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using recprune::ConfigError;
using recprune::plugin::PluginRegistry;
using recprune::test::contains;
using recprune::test::fixture_plugin;
using recprune::test::ScratchDir;

namespace {

const recprune::plugin::RejectedPlugin* rejection_of(const PluginRegistry& registry,
                                                     const std::filesystem::path& path) {
    for (const auto& rejected : registry.rejected()) {
        if (rejected.path == path) return &rejected;
    }
    return nullptr;
}

std::string find_error(const PluginRegistry& registry, recprune_kind_t kind,
                       const std::string& name) {
    try {
        registry.find(kind, name);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

// Copies a fixture plugin into `folder` and gives it mode `permissions`.
std::filesystem::path copy_with_mode(const std::string& stem, const std::filesystem::path& folder,
                                     std::filesystem::perms permissions) {
    auto target = folder / fixture_plugin(stem).filename();
    std::filesystem::copy_file(fixture_plugin(stem), target);
    std::filesystem::permissions(target, permissions);
    return target;
}

}  // namespace

TEST_CASE("registry: a second file with a taken name is rejected naming both files") {
    auto first = fixture_plugin("pruner_fixture_duplicate_a");
    auto second = fixture_plugin("pruner_fixture_duplicate_b");
    PluginRegistry registry;
    registry.add(first, false);
    registry.add(second, false);

    REQUIRE(registry.plugins().size() == 1);
    CHECK(registry.plugins().front()->path() == first);
    REQUIRE(registry.rejected().size() == 1);
    CHECK(registry.rejected().front().path == second);
    CHECK(registry.rejected().front().message ==
          "plugin rejected: " + second.string() + ": duplicate name \"fixture_duplicate\", "
          "already loaded from " + first.string() + "; remove one copy or rename the plugin");
    CHECK(registry.find(RECPRUNE_KIND_PRUNER, "fixture_duplicate")->path() == first);
}

TEST_CASE("registry: discovery keeps good plugins and explains every rejection") {
    PluginRegistry registry;
    registry.discover({RECPRUNE_TEST_FIXTURE_PLUGIN_DIR}, false);

    // Files sort by name, so duplicate_a wins over duplicate_b whatever the folder order is.
    for (const char* name : {"fixture_good", "fixture_older_minor", "fixture_duplicate",
                             "fixture_failing_score"}) {
        CHECK_MESSAGE(registry.find_or_null(RECPRUNE_KIND_PRUNER, name) != nullptr, name);
    }
    for (const char* name : {"fixture_constant", "fixture_schema", "fixture_throwing_model",
                             "fixture_silent_failure"}) {
        CHECK_MESSAGE(registry.find_or_null(RECPRUNE_KIND_MODEL, name) != nullptr, name);
    }
    CHECK(registry.find(RECPRUNE_KIND_PRUNER, "fixture_duplicate")->path() ==
          fixture_plugin("pruner_fixture_duplicate_a"));

    struct Expected {
        const char* stem;
        const char* reason;
    };
    const Expected expected[] = {
        {"pruner_fixture_not_a_library", ": cannot load: "},
        {"pruner_fixture_no_entry", ": no entry symbol recprune_plugin_entry"},
        {"pruner_fixture_abi_major_two", ": ABI major 2, host 1"},
        {"pruner_fixture_newer_minor", " is newer than the host's "},
        {"pruner_fixture_small_descriptor", ": descriptor is "},
        {"pruner_fixture_missing_score", ": missing function pruner score"},
        {"pruner_fixture_schema_not_json", ": bad schema: 1:44: incomplete JSON"},
        {"pruner_fixture_schema_no_parameters", ": bad schema: no \"parameters\" object"},
        {"pruner_fixture_schema_bad_type", ": bad schema: parameter level has no valid"},
        {"pruner_fixture_schema_duplicate", ": bad schema: 1:67: duplicate key \"level\""},
        {"pruner_fixture_duplicate_b", ": duplicate name \"fixture_duplicate\""},
    };
    for (const auto& [stem, reason] : expected) {
        const auto* rejected = rejection_of(registry, fixture_plugin(stem));
        REQUIRE_MESSAGE(rejected != nullptr, stem);
        CHECK_MESSAGE(contains(rejected->message, reason), rejected->message);
    }
    CHECK(registry.rejected().size() == std::size(expected));
}

TEST_CASE("registry: a plugin file writable by others is rejected unless allowed") {
    ScratchDir scratch;
    using std::filesystem::perms;
    auto path = copy_with_mode("pruner_fixture_good", scratch.path(),
                               perms::owner_all | perms::group_read | perms::others_read |
                                   perms::others_write);

    PluginRegistry strict;
    strict.add(path, false);
    CHECK(strict.plugins().empty());
    REQUIRE(strict.rejected().size() == 1);
    CHECK(strict.rejected().front().message ==
          "plugin rejected: " + path.string() + ": writable by other users; chmod o-w it or "
          "pass --allow-insecure-plugins");

    PluginRegistry allowing;
    allowing.add(path, true);
    CHECK(allowing.rejected().empty());
    REQUIRE(allowing.plugins().size() == 1);
    CHECK(allowing.plugins().front()->name() == "fixture_good");

    // The same file made private again loads without the switch.
    std::filesystem::permissions(path, perms::others_write, std::filesystem::perm_options::remove);
    PluginRegistry fixed;
    fixed.add(path, false);
    CHECK(fixed.plugins().size() == 1);
}

TEST_CASE("registry: a plugin folder writable by others is skipped unless allowed") {
    ScratchDir scratch;
    using std::filesystem::perms;
    auto folder = scratch.path() / "shared";
    std::filesystem::create_directories(folder);
    copy_with_mode("pruner_fixture_good", folder, perms::owner_all | perms::group_read |
                                                      perms::others_read);
    std::filesystem::permissions(folder, perms::others_write, std::filesystem::perm_options::add);

    PluginRegistry strict;
    strict.discover({folder}, false);
    CHECK(strict.plugins().empty());
    REQUIRE(strict.rejected().size() == 1);
    CHECK(strict.rejected().front().message ==
          "plugin folder rejected: " + folder.string() + ": writable by other users; chmod o-w "
          "it or pass --allow-insecure-plugins");

    PluginRegistry allowing;
    allowing.discover({folder}, true);
    CHECK(allowing.rejected().empty());
    CHECK(allowing.find_or_null(RECPRUNE_KIND_PRUNER, "fixture_good") != nullptr);
}

TEST_CASE("registry: an unknown name lists the known plugins of that kind") {
    PluginRegistry registry;
    registry.discover({RECPRUNE_TEST_FIXTURE_PLUGIN_DIR}, false);
    std::string message = find_error(registry, RECPRUNE_KIND_MODEL, "fixture_constnat");
    CHECK(contains(message, "unknown model \"fixture_constnat\"; known: fixture_constant, "
                            "fixture_half_logits, fixture_schema, fixture_silent_failure, "
                            "fixture_throwing_model, fixture_unload_probe (searched "
                            RECPRUNE_TEST_FIXTURE_PLUGIN_DIR
                            "); check the spelling or add its folder with --plugin-dir"));
}

TEST_CASE("registry: a rejected name reports its rejection, not unknown") {
    PluginRegistry registry;
    registry.discover({RECPRUNE_TEST_FIXTURE_PLUGIN_DIR}, false);
    auto path = fixture_plugin("pruner_fixture_abi_major_two");
    CHECK(find_error(registry, RECPRUNE_KIND_PRUNER, "fixture_abi_major_two") ==
          "plugin rejected: " + path.string() + ": ABI major 2, host 1; rebuild it with this SDK");
}

TEST_CASE("registry: a plugin asked for as the wrong kind names its kind") {
    PluginRegistry registry;
    registry.add(fixture_plugin("model_fixture_constant"), false);
    CHECK(find_error(registry, RECPRUNE_KIND_PRUNER, "fixture_constant") ==
          "unknown pruner \"fixture_constant\": it is a model plugin; move it to the right list");
}

TEST_CASE("registry: the search path puts --plugin-dir first, then RECPRUNE_PLUGIN_PATH") {
    ScratchDir scratch;
    auto command_line = scratch.path() / "first";
    auto from_env_a = scratch.path() / "second";
    auto from_env_b = scratch.path() / "third";
    for (const auto& dir : {command_line, from_env_a, from_env_b}) {
        std::filesystem::create_directories(dir);
    }
    std::string env = from_env_a.string() + "::" + from_env_b.string() + ":" + command_line.string();
    ::setenv("RECPRUNE_PLUGIN_PATH", env.c_str(), 1);
    auto dirs = PluginRegistry::search_path({command_line});
    ::unsetenv("RECPRUNE_PLUGIN_PATH");

    // The folder given twice appears once, at its first place; the empty entry is ignored.
    REQUIRE(dirs.size() >= 4);
    CHECK(dirs[0] == std::filesystem::weakly_canonical(command_line));
    CHECK(dirs[1] == std::filesystem::weakly_canonical(from_env_a));
    CHECK(dirs[2] == std::filesystem::weakly_canonical(from_env_b));
    CHECK(dirs[3] == std::filesystem::weakly_canonical(RECPRUNE_TEST_PLUGIN_DIR));
    CHECK(std::count(dirs.begin(), dirs.end(), dirs[0]) == 1);
}
