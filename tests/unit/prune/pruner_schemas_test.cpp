#include "pruner_harness.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace {

using recprune::prune::testing::PluginPruner;

}  // namespace

TEST_CASE("pruner plugins: every parameter has a type, a default and help") {
    int checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(RECPRUNE_TEST_PLUGIN_DIR)) {
        std::string file = entry.path().filename().string();
        const std::string prefix = "librecprune_pruner_";
        if (file.rfind(prefix, 0) != 0 || entry.path().extension() != ".so") continue;
        std::string name = file.substr(prefix.size(), file.size() - prefix.size() - 3);
        CAPTURE(name);

        PluginPruner pruner(name, "{}");
        const auto& descriptor = pruner.descriptor();
        auto schema = nlohmann::json::parse(descriptor.parameter_schema_json);

        CHECK(std::string(descriptor.name) == name);
        CHECK(descriptor.kind == RECPRUNE_KIND_PRUNER);
        for (const auto& [parameter, spec] : schema.at("parameters").items()) {
            CAPTURE(parameter);
            CHECK(spec.contains("type"));
            CHECK(spec.contains("default"));
            CHECK(spec.contains("help"));
            CHECK_FALSE(spec.value("help", "").empty());
        }
        ++checked;
    }
    // At least random and magnitude are built.
    CHECK(checked >= 2);
}
