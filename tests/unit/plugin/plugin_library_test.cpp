// The loader's checks, one fixture plugin per check (tests/fixtures/plugins). Each failure
// checks the message: it names the file, states what is wrong with the values, and gives the
// fix.
#include "plugin_test_support.hpp"

#include "plugin/plugin_library.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>

using recprune::plugin::PluginLibrary;
using recprune::test::contains;
using recprune::test::fixture_plugin;
using recprune::test::load_error;

TEST_CASE("loader: a good plugin loads with its descriptor and schema") {
    auto path = fixture_plugin("pruner_fixture_good");
    auto plugin = PluginLibrary::load(path);
    REQUIRE(plugin != nullptr);
    CHECK(plugin->path() == path);
    CHECK(plugin->kind() == RECPRUNE_KIND_PRUNER);
    CHECK(plugin->name() == "fixture_good");
    CHECK(plugin->version() == "0.0.1");
    CHECK(plugin->description() == "loader test fixture fixture_good");
    CHECK(plugin->abi_minor() == RECPRUNE_ABI_MINOR);

    // fixture_plugin.c, schema 0: one integer parameter "level" with default 3.
    REQUIRE(plugin->parameters().contains("level"));
    const auto& level = plugin->parameters().at("level").as_object();
    CHECK(level.at("type") == "integer");
    CHECK(level.at("default") == 3);
    CHECK((plugin->pruner_api().score != nullptr));

    // The host services handed to the plugin.
    const recprune_host_t* host = plugin->host();
    CHECK(host->struct_size == sizeof(recprune_host_t));
    CHECK(host->abi_major == RECPRUNE_ABI_MAJOR);
    CHECK(host->abi_minor == RECPRUNE_ABI_MINOR);
    void* memory = host->allocate(host->host_data, 100, 64);
    REQUIRE(memory != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(memory) % 64 == 0);
    host->deallocate(host->host_data, memory);
}

TEST_CASE("loader: a file that is not a shared library is rejected") {
    auto path = fixture_plugin("pruner_fixture_not_a_library");
    std::string message = load_error(path);
    CHECK(contains(message, "plugin rejected: " + path.string() + ": cannot load: "));
    CHECK(contains(message, "; rebuild it for this machine or remove it from the plugin path"));
}

TEST_CASE("loader: a library without the entry symbol is rejected") {
    auto path = fixture_plugin("pruner_fixture_no_entry");
    std::string message = load_error(path);
    CHECK(message == "plugin rejected: " + path.string() +
                         ": no entry symbol recprune_plugin_entry; register the plugin class "
                         "with RECPRUNE_REGISTER_PLUGIN");
}

TEST_CASE("loader: another ABI major is rejected") {
    auto path = fixture_plugin("pruner_fixture_abi_major_two");
    std::string message = load_error(path);
    CHECK(message == "plugin rejected: " + path.string() + ": ABI major 2, host " +
                         std::to_string(RECPRUNE_ABI_MAJOR) + "; rebuild it with this SDK");
}

TEST_CASE("loader: a newer ABI minor is rejected") {
    auto path = fixture_plugin("pruner_fixture_newer_minor");
    std::string message = load_error(path);
    const std::string host_version =
        std::to_string(RECPRUNE_ABI_MAJOR) + "." + std::to_string(RECPRUNE_ABI_MINOR);
    const std::string plugin_version =
        std::to_string(RECPRUNE_ABI_MAJOR) + "." + std::to_string(RECPRUNE_ABI_MINOR + 1);
    CHECK(message == "plugin rejected: " + path.string() + ": ABI " + plugin_version +
                         " is newer than the host's " + host_version +
                         "; upgrade recprune or rebuild the plugin with this SDK");
}

TEST_CASE("loader: an older or equal ABI minor is accepted") {
    // The fixture declares the host's minor - 1. While the host's minor is 0 no older minor
    // exists, so the fixture declares 0 and this checks that an equal minor passes.
    auto plugin = PluginLibrary::load(fixture_plugin("pruner_fixture_older_minor"));
    REQUIRE(plugin != nullptr);
    CHECK(plugin->name() == "fixture_older_minor");
    CHECK(plugin->abi_minor() == (RECPRUNE_ABI_MINOR > 0 ? RECPRUNE_ABI_MINOR - 1 : 0));
}

TEST_CASE("loader: a descriptor smaller than ABI 1.0 is rejected") {
    auto path = fixture_plugin("pruner_fixture_small_descriptor");
    std::string message = load_error(path);
    // The fixture declares a descriptor that ends just before the `pruner` pointer.
    const size_t declared = offsetof(recprune_plugin_descriptor_t, pruner);
    const size_t needed = declared + sizeof(void*);
    CHECK(message == "plugin rejected: " + path.string() + ": descriptor is " +
                         std::to_string(declared) + " bytes, ABI 1.0 needs at least " +
                         std::to_string(needed) + "; rebuild it with this SDK");
}

TEST_CASE("loader: a function table with a missing function is rejected") {
    auto path = fixture_plugin("pruner_fixture_missing_score");
    std::string message = load_error(path);
    CHECK(message == "plugin rejected: " + path.string() +
                         " (fixture_missing_score): missing function pruner score; implement "
                         "it or build the plugin with the SDK macro");
}

TEST_CASE("loader: a schema that is not JSON is rejected") {
    auto path = fixture_plugin("pruner_fixture_schema_not_json");
    std::string message = load_error(path);
    // The object is never closed, so the text (43 characters) ends inside it, at column 44.
    CHECK(message == "plugin rejected: " + path.string() +
                         " (fixture_schema_not_json): bad schema: 1:44: incomplete JSON; check "
                         "the brackets, commas and quotes before this point");
}

TEST_CASE("loader: a schema without parameters is rejected") {
    auto path = fixture_plugin("pruner_fixture_schema_no_parameters");
    std::string message = load_error(path);
    CHECK(message == "plugin rejected: " + path.string() +
                         " (fixture_schema_no_parameters): bad schema: no \"parameters\" "
                         "object; list the parameters under \"parameters\"");
}

TEST_CASE("loader: a parameter without a valid type is rejected") {
    auto path = fixture_plugin("pruner_fixture_schema_bad_type");
    std::string message = load_error(path);
    CHECK(message == "plugin rejected: " + path.string() +
                         " (fixture_schema_bad_type): bad schema: parameter level has no valid "
                         "\"type\"; use integer, number, string, boolean, array or object");
}

TEST_CASE("loader: a parameter declared twice is rejected") {
    auto path = fixture_plugin("pruner_fixture_schema_duplicate");
    std::string message = load_error(path);
    // fixture_plugin.c, schema 5: the second "level" key spans columns 61 to 67 of the schema
    // text, and the parser stops at its end.
    CHECK(message == "plugin rejected: " + path.string() +
                         " (fixture_schema_duplicate): bad schema: 1:67: duplicate key "
                         "\"level\" in one object; keep one of them");
}

TEST_CASE("loader: a missing file is rejected as not loadable") {
    auto path = fixture_plugin("pruner_fixture_that_was_never_built");
    std::string message = load_error(path);
    CHECK(contains(message, "plugin rejected: " + path.string() + ": cannot load: "));
}
