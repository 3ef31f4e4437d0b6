#include "run/granularity_check.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "plugin/instances.hpp"
#include "prune/units.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace recprune::run {
namespace {

// A schema every built-in model accepts: the user and item fields that MF and NeuMF need, a
// context field and a dense input for the CTR models.
std::string stand_in_schema(const std::string& task) {
    boost::json::array fields;
    for (const auto& [name, role] : {std::pair{"user", "user"}, std::pair{"item", "item"},
                                     std::pair{"context", "feature"}}) {
        boost::json::array roles{"feature"};
        if (std::string(role) != "feature") roles.emplace_back(role);
        fields.push_back(boost::json::object{{"name", name},
                                             {"vocabulary_size", 8},
                                             {"multi_hot", false},
                                             {"roles", roles}});
    }
    return json_io::serialize(
        boost::json::object{{"task", task}, {"fields", fields}, {"dense_count", 1}});
}

std::string entry_text(const grid::PluginEntry& entry) {
    return entry.name + json_io::serialize(entry.params);
}

std::string task_of(const grid::Grid& grid, const grid::Cell& cell) {
    const auto* task = grid.datasets.at(cell.dataset).settings.if_contains("task");
    return task != nullptr && task->is_string() ? std::string(task->as_string()) : "ctr";
}

// The JSON path of the parameter that a plugin's "invalid parameter: NAME: ..." message names,
// under the entry at `entry_path`, or the entry's params when the message names none.
std::string parameter_path(const std::string& entry_path, const std::string& message) {
    const std::string marker = "invalid parameter: ";
    const size_t start = message.find(marker);
    if (start == std::string::npos) return entry_path + ".params";
    const size_t name_start = start + marker.size();
    const size_t name_end = message.find(':', name_start);
    if (name_end == std::string::npos || name_end == name_start) return entry_path + ".params";
    const std::string name = message.substr(name_start, name_end - name_start);
    // Only a name such as "precision" or "layers[0]" is a parameter's. Other text after the
    // marker, such as a JSON library's message, is not.
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '[' &&
            c != ']') {
            return entry_path + ".params";
        }
    }
    return entry_path + ".params." + name;
}

}  // namespace

namespace {

// One model entry built on the stand-in schema of its task: the granularities it offers, or
// the message of its failure.
struct StandInModel {
    std::optional<std::vector<recprune_granularity_t>> granularities;
    std::string error;
};

// Builds each model entry of a grid once per task, for both checks below.
class StandInModels {
public:
    const StandInModel& of(const grid::Grid& grid, const grid::Cell& cell) {
        const std::string task = task_of(grid, cell);
        const std::string key = entry_text(cell.model) + task;
        if (auto found = built_.find(key); found != built_.end()) return found->second;
        StandInModel& model = built_[key];
        try {
            plugin::ModelInstance instance(cell.model.library,
                                           json_io::serialize(cell.model.params),
                                           stand_in_schema(task), 1);
            model.granularities = prune::UnitSet::supported_granularities(
                instance.tensors(), json_io::parse(instance.structure_json(), key));
        } catch (const std::exception& error) {
            model.error = error.what();
        }
        return model;
    }

private:
    std::map<std::string, StandInModel> built_;
};

void throw_parameter_problems(const grid::Grid& grid, StandInModels& models) {
    std::set<std::string> reported;
    std::string problems;
    for (const grid::Cell& cell : grid.cells) {
        const std::string& message = models.of(grid, cell).error;
        // A rejected parameter is the grid's fault, and so is running out of memory on a
        // schema of 8 rows per field (hidden_layers of 2e9, say). Other failures may come
        // from the stand-in schema, so the cells report them when they run on real data.
        if (message.find("invalid parameter: ") == std::string::npos &&
            message.rfind("out of memory", 0) != 0) {
            continue;
        }
        const std::string line = "invalid grid: " + grid.source.string() + ": " +
                                  parameter_path(cell.model.json_path, message) + ": model " +
                                  cell.model.name + " rejects its parameters: " + message;
        if (!reported.insert(line).second) continue;
        problems += (problems.empty() ? "" : "\n") + line;
    }
    if (!problems.empty()) throw ConfigError(problems);
}

std::vector<GranularityMismatch> mismatches_of(const grid::Grid& grid, StandInModels& models) {
    std::map<std::string, std::optional<recprune_granularity_t>> pruner_granularity;
    std::map<std::pair<std::string, std::string>, GranularityMismatch> mismatches;
    for (const grid::Cell& cell : grid.cells) {
        if (cell.dense || !cell.pruner) continue;
        const std::string model = entry_text(cell.model);
        const std::string pruner = entry_text(*cell.pruner);
        if (!pruner_granularity.count(pruner)) {
            try {
                plugin::PrunerInstance instance(cell.pruner->library,
                                                json_io::serialize(cell.pruner->params), 1);
                pruner_granularity[pruner] =
                    static_cast<recprune_granularity_t>(instance.info().granularity);
            } catch (const std::exception&) {
                pruner_granularity[pruner] = std::nullopt;
            }
        }
        const auto& offered = models.of(grid, cell).granularities;
        const auto& granularity = pruner_granularity.at(pruner);
        if (!offered || !granularity) continue;
        if (std::find(offered->begin(), offered->end(), *granularity) != offered->end()) continue;
        GranularityMismatch& mismatch = mismatches[{model, pruner}];
        if (mismatch.cells == 0) {
            mismatch.model = cell.model.json_path + " (" + cell.model.name + ")";
            mismatch.pruner = cell.pruner->json_path + " (" + cell.pruner->name + ")";
            mismatch.granularity = std::string(prune::granularity_name(*granularity));
            for (recprune_granularity_t unit_kind : *offered) {
                mismatch.model_granularities.emplace_back(prune::granularity_name(unit_kind));
            }
        }
        ++mismatch.cells;
    }
    std::vector<GranularityMismatch> result;
    for (auto& [key, mismatch] : mismatches) result.push_back(std::move(mismatch));
    return result;
}

}  // namespace

void check_model_parameters(const grid::Grid& grid) {
    StandInModels models;
    throw_parameter_problems(grid, models);
}

std::vector<GranularityMismatch> find_granularity_mismatches(const grid::Grid& grid) {
    StandInModels models;
    return mismatches_of(grid, models);
}

std::vector<GranularityMismatch> check_models(const grid::Grid& grid) {
    StandInModels models;
    throw_parameter_problems(grid, models);
    return mismatches_of(grid, models);
}

std::string describe_mismatches(const std::vector<GranularityMismatch>& mismatches) {
    if (mismatches.empty()) return "";
    size_t cells = 0;
    for (const auto& mismatch : mismatches) cells += mismatch.cells;
    std::string text = std::to_string(cells) +
                       " pruned cells pair a model with a granularity it does not have, so they "
                       "will fail; leave these pairs out of the grid (one grid per model, say):";
    for (const auto& mismatch : mismatches) {
        std::string model_granularities;
        for (const auto& name : mismatch.model_granularities) {
            model_granularities += (model_granularities.empty() ? "" : ", ") + name;
        }
        text += "\n  model " + mismatch.model + " with pruner " + mismatch.pruner +
                ": granularity " + mismatch.granularity + ", but the model has " +
                (model_granularities.empty() ? std::string("no prunable units") : model_granularities) + " (" +
                std::to_string(mismatch.cells) + " cells)";
    }
    return text;
}

}  // namespace recprune::run
