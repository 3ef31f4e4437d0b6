// Checks every built model plugin against the pruning core: its structure JSON must build the
// units of each granularity it supports, and pruning them must zero only what they cover.
#include "prune/masks.hpp"
#include "prune/selection.hpp"
#include "prune/sparsity.hpp"
#include "prune/units.hpp"

#include "recprune/abi.h"

#include <boost/json.hpp>
#include <dlfcn.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace {

using recprune::prune::MaskSet;
using recprune::prune::UnitSet;

constexpr const char* kSchema = R"json({"task": "ctr", "fields": [
  {"name": "user", "vocabulary_size": 6, "multi_hot": false, "roles": ["feature", "user"]},
  {"name": "item", "vocabulary_size": 5, "multi_hot": false, "roles": ["feature", "item"]},
  {"name": "genre", "vocabulary_size": 4, "multi_hot": true, "roles": ["feature"]}],
  "dense_count": 0})json";

/// Returns {"name": default, ...} from a plugin's parameter schema.
std::string default_params(const char* schema_json) {
    boost::json::object params;
    boost::json::value schema = boost::json::parse(schema_json);
    for (const auto& [name, spec] : schema.at("parameters").as_object()) {
        if (const auto* fallback = spec.as_object().if_contains("default")) params[name] = *fallback;
    }
    return boost::json::serialize(params);
}

/// A model plugin created with its default parameters on kSchema.
class LoadedModel {
public:
    explicit LoadedModel(const std::filesystem::path& path) {
        library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(library_ != nullptr, dlerror());
        auto entry = reinterpret_cast<recprune_entry_fn>(dlsym(library_, RECPRUNE_ENTRY_SYMBOL));
        REQUIRE(static_cast<bool>(entry));
        descriptor_ = entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR);
        REQUIRE(descriptor_ != nullptr);
        REQUIRE(descriptor_->model != nullptr);
        std::string params = default_params(descriptor_->parameter_schema_json);
        recprune_error_t error{&message_, [](void* data, const char* text) {
                                   *static_cast<std::string*>(data) = text;
                               }};
        recprune_status_t status =
            descriptor_->model->create(nullptr, params.c_str(), kSchema, 1, &model_, &error);
        REQUIRE_MESSAGE(status == RECPRUNE_STATUS_OK, message_);
        const recprune_tensor_t* tensors = nullptr;
        uint32_t count = 0;
        REQUIRE(descriptor_->model->get_tensors(model_, &tensors, &count, &error) ==
                RECPRUNE_STATUS_OK);
        tensors_ = {tensors, count};
        const char* structure = nullptr;
        REQUIRE(descriptor_->model->get_structure(model_, &structure, &error) ==
                RECPRUNE_STATUS_OK);
        structure_ = boost::json::parse(structure);
    }

    ~LoadedModel() {
        if (model_ != nullptr) descriptor_->model->destroy(model_);
        if (library_ != nullptr) dlclose(library_);
    }

    LoadedModel(const LoadedModel&) = delete;
    LoadedModel& operator=(const LoadedModel&) = delete;

    std::span<const recprune_tensor_t> tensors() const { return tensors_; }
    const boost::json::value& structure() const { return structure_; }

private:
    void* library_ = nullptr;
    const recprune_plugin_descriptor_t* descriptor_ = nullptr;
    recprune_model_t model_ = nullptr;
    std::span<const recprune_tensor_t> tensors_;
    boost::json::value structure_;
    std::string message_;
};

std::vector<std::filesystem::path> model_plugins() {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(RECPRUNE_TEST_PLUGIN_DIR)) {
        std::string file = entry.path().filename().string();
        if (file.rfind("librecprune_model_", 0) == 0 && entry.path().extension() == ".so") {
            paths.push_back(entry.path());
        }
    }
    return paths;
}

std::vector<uint8_t> pruned_flags(uint64_t count, const std::vector<uint64_t>& units) {
    std::vector<uint8_t> flags(count, 0);
    for (uint64_t unit : units) flags[unit] = 1;
    return flags;
}

}  // namespace

TEST_CASE("model structures: every model plugin builds its pruning units") {
    std::vector<std::filesystem::path> paths = model_plugins();
    if (paths.empty()) {
        MESSAGE("no model plugin built in " RECPRUNE_TEST_PLUGIN_DIR "; nothing to check");
        return;
    }

    for (const auto& path : paths) {
        CAPTURE(path.filename().string());
        LoadedModel model(path);
        auto granularities = UnitSet::supported_granularities(model.tensors(), model.structure());

        // Every model has weights to prune.
        CHECK_FALSE(granularities.empty());
        for (recprune_granularity_t granularity : granularities) {
            CAPTURE(recprune::prune::granularity_name(granularity));
            UnitSet units = UnitSet::build(granularity, model.tensors(), model.structure());
            boost::json::value description = boost::json::parse(units.units_json());
            CHECK(description.at("unit_count").to_number<uint64_t>() == units.size());

            // Prune half the units in index order; every selected unit covers some element.
            std::vector<double> scores(units.size());
            std::iota(scores.begin(), scores.end(), 0.0);
            MaskSet masks(model.tensors());
            auto selection = recprune::prune::select_units(units, scores, 0.5, false, masks);
            masks.prune_units(units, selection.units);
            auto report = recprune::prune::measure_sparsity(model.tensors(), masks);
            CHECK((report.all_parameters.pruned > 0) == !selection.units.empty());
            CHECK(report.all_parameters.pruned <= report.all_parameters.total);
            CHECK(masks.pruned_unit_flags(units) ==
                  pruned_flags(units.size(), selection.units));
        }
    }
}
