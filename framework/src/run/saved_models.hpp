// Evaluates the model files that `recprune run --save-models` kept for a cell, on the cell's
// data and metrics, next to the values its row recorded. A row whose files reproduce its
// metrics shows that the files are the models the row measured.
#pragma once

#include "grid/grid.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace recprune::run {

/// One metric of one part, as the row recorded it and as the saved model gives it.
struct RecomputedMetric {
    std::string model;  ///< "dense", "pruned" or "compacted"
    std::string part;   ///< "validation" or "test"
    std::string metric;
    boost::json::value recorded;    ///< the row's metric value (value, status, ...)
    boost::json::value recomputed;  ///< the same from the saved model
    /// |recomputed - recorded|, 0 when both are undefined with the same status, infinity
    /// when only one is defined or their statuses differ.
    double difference = 0.0;
    double tolerance = 0.0;
    bool agrees() const { return difference <= tolerance; }
};

struct SavedModelEvaluation {
    std::string cell_id;
    std::string cell;  ///< "dataset=... model=... pruner=... sparsity=... seed=..."
    std::vector<RecomputedMetric> metrics;
    /// Metrics of the grid that the row does not have (added to the grid after the run), so
    /// they are not compared.
    std::vector<std::string> not_in_row;
    bool agrees() const;
};

/// Evaluates the saved models `models` (empty: every model the row lists) of cell `cell_id`
/// of `grid`, whose run wrote into `output`. `grid` must be as load_grid returns it, because its
/// cell ids become final here, when the data is prepared. Datasets load through the binary
/// cache in `cache_dir` when it is not empty. `cell_threads` 0 or less takes the row's
/// `threads`, so that oneDNN sums in the run's order.
/// When the compacted model is evaluated and the row also lists the pruned one, compacts the
/// pruned model with the saved plan and requires the result to equal the compacted model.
/// Throws ConfigError when the cell, its row or its files are missing, and DataError when a
/// file does not load, has a NaN or infinite weight, does not fit the cell's data, or the plan
/// does not reproduce the compacted model, with the fix in the message.
SavedModelEvaluation evaluate_saved_models(grid::Grid& grid,
                                           const std::filesystem::path& output,
                                           const std::string& cell_id,
                                           const std::vector<std::string>& models,
                                           const std::filesystem::path& cache_dir,
                                           int cell_threads);

}  // namespace recprune::run
