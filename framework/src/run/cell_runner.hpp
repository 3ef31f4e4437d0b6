// Runs one cell: the dense baseline of a group, or a pruned cell that starts from its group's
// dense weights. Every failure inside a cell becomes a "failed" row with its message, so one
// cell never stops its siblings.
#pragma once

#include "data/prepare.hpp"
#include "grid/grid.hpp"
#include "train/trainer.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace recprune::run {

/// A dataset as cells use it: prepared once per grid, shared read-only.
struct DatasetSlot {
    const grid::DatasetEntry* entry = nullptr;
    data::PreparedData data;
};

/// Dense weights and metrics of a group, which its pruned cells start from.
struct DenseBaseline {
    bool ok = false;
    std::string message;
    train::WeightSnapshot weights;
    double validation_score = 0.0;
    boost::json::object test_metrics;
    boost::json::object validation_metrics;
    boost::json::object cost;
};

/// Settings shared by every cell of a run.
struct CellSettings {
    /// oneDNN (OpenMP) threads inside the cell.
    int threads = 1;
    /// Folder that receives each cell's model files in <cell_id>/ (run --save-models); empty
    /// when models are not kept.
    std::filesystem::path model_folder;
};

struct CellOutput {
    boost::json::object row;
    std::shared_ptr<DenseBaseline> baseline;  ///< set for dense cells
};

/// Trains and evaluates the dense model of a group.
CellOutput run_dense_cell(const grid::Cell& cell, const DatasetSlot& dataset,
                          const CellSettings& settings);

/// Prunes from the group's dense weights with the cell's pruner and schedule, then evaluates.
CellOutput run_pruned_cell(const grid::Cell& cell, const DatasetSlot& dataset,
                           const DenseBaseline& baseline, const CellSettings& settings);

/// "dataset=... model=... pruner=... sparsity=... seed=..." for messages.
std::string describe_cell(const grid::Cell& cell, const DatasetSlot& dataset);

}  // namespace recprune::run
