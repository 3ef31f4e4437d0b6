#include "harness/harness.hpp"
#include "harness/host_errors.hpp"
#include "harness/support.hpp"

#include "plugin/parameters.hpp"
#include "plugin/plugin_library.hpp"

#include <boost/json.hpp>

#include <cstdlib>

#include <dlfcn.h>

namespace recprune::fuzz {
namespace {

// Keeps the fixture library mapped for the whole run, so each PluginLibrary::load finds it
// loaded instead of mapping it again.
void keep_fixture_loaded() {
    static void* handle = ::dlopen(descriptor_plugin_path().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        throw std::runtime_error("cannot load the descriptor fixture " +
                                 descriptor_plugin_path().string() + ": " + ::dlerror());
    }
}

// The grid parameters after the fourth NUL of the descriptor text, as a JSON object.
boost::json::object given_parameters(std::string_view input) {
    constexpr size_t kHeaderBytes = 24;
    if (input.size() <= kHeaderBytes) return {};
    std::vector<std::string_view> parts = split_at_nul(input.substr(kHeaderBytes), 5);
    if (parts.size() < 5) return {};
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(parts[4], ec);
    if (ec || !value.is_object()) return {};
    return value.as_object();
}

}  // namespace

void run_descriptor(std::string_view input) {
    init_once();
    keep_fixture_loaded();
    const std::filesystem::path file = scratch_dir() / "descriptor";
    write_bytes(file, input);
    ::setenv("RECPRUNE_FUZZ_DESCRIPTOR_FILE", file.c_str(), 1);

    accept_or_reject([&] {
        std::shared_ptr<plugin::PluginLibrary> library =
            plugin::PluginLibrary::load(descriptor_plugin_path());

        // A plugin that loads has a valid name and kind, and its schema serves the grid checks.
        require(!library->name().empty(), "a plugin loaded without a name");
        require(library->kind() == RECPRUNE_KIND_DATASET || library->kind() == RECPRUNE_KIND_MODEL ||
                    library->kind() == RECPRUNE_KIND_PRUNER,
                "a plugin loaded with an unknown kind");
        std::vector<std::string> problems;
        boost::json::object resolved = plugin::resolve_parameters(
            *library, given_parameters(input), "$.models[0].params", scratch_dir(), problems);
        if (problems.empty()) {
            for (const auto& [key, spec] : library->parameters()) {
                require(resolved.contains(key), "a parameter without a problem has no value");
            }
        }
        for (const std::string& problem : problems) check_rejection_message(problem.c_str());
    });
}

}  // namespace recprune::fuzz
