// Joins the output folders of the shards of one grid (`recprune run --shard K/N`) into one
// table, as `recprune merge OUT SHARD_DIR...` does. Each shard folder contains the manifest
// of the whole grid (cells.json), which lists the cells the merge expects. The merge reports
// the cells no folder contains, with the shard that should have run them, and the cells whose
// rows differ between two folders.
#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace recprune::results {

/// A cell the merge could not take cleanly.
struct MergeIssue {
    std::string cell_id;
    std::string cell;    ///< "dataset=... model=... pruner=... sparsity=... seed=..."
    std::string detail;  ///< which shard or folders, and why
};

struct MergeReport {
    size_t expected = 0;    ///< cells of the grid
    size_t merged = 0;      ///< rows written to the output
    size_t failed = 0;      ///< merged rows with status "failed"
    size_t duplicates = 0;  ///< cells found in two folders with the same status and metrics
    size_t extra = 0;       ///< rows of cells that are not in the grid, left out
    std::vector<MergeIssue> missing;
    std::vector<MergeIssue> conflicts;
    std::filesystem::path table_path;

    bool complete() const { return missing.empty() && conflicts.empty(); }
};

/// Merges `inputs` into `output` (results.jsonl with the original row lines, results.json,
/// cells.json). On a conflict the row of the first folder given is kept and the conflict is
/// listed in the report and in the table's "merge" section. Throws ConfigError when a folder
/// has no manifest, the folders come from different grids, or `output` is one of the inputs.
MergeReport merge_results(const std::filesystem::path& output,
                          const std::vector<std::filesystem::path>& inputs);

}  // namespace recprune::results
