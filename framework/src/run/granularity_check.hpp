// Finds, before any data is read, the pruned cells of a grid whose pruner works at a granularity
// the model does not have (neurons of a logistic regression, say). Such cells can only fail, so
// `validate` and `run` name them up front.
#pragma once

#include "grid/grid.hpp"

#include <string>
#include <vector>

namespace recprune::run {

/// One model and pruner pair of a grid that cannot work together.
struct GranularityMismatch {
    std::string model;   ///< JSON path and name of the model entry, as "models[0] (fm)"
    std::string pruner;  ///< the same for the pruner entry
    std::string granularity;
    std::vector<std::string> model_granularities;  ///< what the model offers
    size_t cells = 0;       ///< pruned cells of the grid with this pair
};

/// Returns the pairs of the grid whose model has no unit of the pruner's granularity. Each
/// model is built on a small stand-in schema (user, item and context fields and one dense
/// input), because its units depend on its parameters, not on the data. A model or pruner
/// that cannot be built that way is left out: its cells report their own error when they run.
std::vector<GranularityMismatch> find_granularity_mismatches(const grid::Grid& grid);

/// Builds each model entry of the grid on the stand-in schema. Throws ConfigError naming the
/// JSON path of every parameter a model rejects ("precision": "bf16" on a CPU without AMX,
/// say) and of every model that runs out of memory there. Such a grid then fails before any
/// cell runs, not in every cell.
void check_model_parameters(const grid::Grid& grid);

/// Runs both checks above and builds each model entry only once. Throws as
/// check_model_parameters() does, else returns what find_granularity_mismatches() returns.
std::vector<GranularityMismatch> check_models(const grid::Grid& grid);

/// "M pruned cells pair a model with a granularity it lacks and will fail: ..." for a log or
/// the validate command; empty when `mismatches` is empty.
std::string describe_mismatches(const std::vector<GranularityMismatch>& mismatches);

}  // namespace recprune::run
