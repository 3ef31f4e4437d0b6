// The up-front check that a grid fits the machine: an estimate of the memory and the disk space
// a run needs, compared with what is available before the first cell starts.
#pragma once

#include "run/cell_runner.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace recprune::run {

/// The estimated needs of a run, with the terms of each number for the message.
struct ResourceEstimate {
    uint64_t memory_bytes = 0;
    uint64_t disk_bytes = 0;
    std::string memory_detail;
    std::string disk_detail;
};

/// The resources of the machine. Zero means unknown, and an unknown resource is not checked.
struct AvailableResources {
    uint64_t memory_bytes = 0;
    uint64_t disk_bytes = 0;
};

/// Estimates the memory and disk a run of `grid` needs with `cells_at_once` cells running side
/// by side, after its datasets are prepared. Memory: the prepared data, plus per running cell
/// the model's embedding tables (vocabulary x (embedding_dim + 1) floats, the linear term
/// included) held kCopiesPerRunningCell times (weights, grads, optimizer moments, snapshots, the
/// dense twin), plus one copy of the dense weights per group. Dense layers are left out, so
/// the number is a lower bound for models whose MLP is as large as their embeddings. Disk:
/// kRowBytesPerCell per cell to run, for results.jsonl, results.json and cells.json.
ResourceEstimate estimate_resources(const grid::Grid& grid,
                                    const std::vector<DatasetSlot>& datasets, int cells_at_once,
                                    size_t cells_to_run);

/// Reads MemAvailable from /proc/meminfo, lowered to the room left under the cgroup v2 limit
/// when one is set, and the free space of the file system that contains `output` (or its nearest
/// existing parent folder).
AvailableResources available_resources(const std::filesystem::path& output);

/// Throws ConfigError, naming `grid_source` with the estimate and what is available, when a
/// known resource is smaller than the estimate.
void check_resources(const ResourceEstimate& estimate, const AvailableResources& available,
                     const std::string& grid_source);

/// Copies of a model's parameters a running cell keeps at its peak: weights, grads, two Adam
/// moments, the best-epoch snapshot, the initial weights, the dense twin's weights and grads.
inline constexpr uint64_t kCopiesPerRunningCell = 8;
/// Bytes a finished cell adds to the output folder: its line in results.jsonl (about 4 KiB for
/// a pruned FM cell of the quickstart), its entry in results.json and in cells.json, rounded up.
inline constexpr uint64_t kRowBytesPerCell = 16 * 1024;

}  // namespace recprune::run
