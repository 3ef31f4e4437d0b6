// The up-front memory and disk estimate of a grid and the check against what is available.
#include "run/resource_check.hpp"

#include "core/errors.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace recprune;
using namespace recprune::run;

namespace {

// A prepared dataset with two fields (user: 1001 rows, item: 2001 rows) and 100 training rows.
DatasetSlot make_dataset() {
    DatasetSlot slot;
    slot.data.task = "ctr";
    slot.data.fields = {{"user", 1001, false, 0}, {"item", 2001, false, 0}};
    slot.data.train.row_count = 100;
    slot.data.train.ids.assign(2, std::vector<uint32_t>(100, 1));
    slot.data.train.offsets.assign(2, {});
    slot.data.train.labels.assign(100, 0.0f);
    return slot;
}

// A dense cell and two pruned cells of one group, with an FM of embedding_dim 15.
grid::Grid make_grid() {
    grid::Grid grid;
    grid::Cell dense;
    dense.dense = true;
    dense.group_id = "g1";
    dense.id = "g1";
    dense.model.name = "fm";
    dense.model.params = boost::json::object{{"embedding_dim", 15}};
    grid.cells.push_back(dense);
    for (const char* id : {"p1", "p2"}) {
        grid::Cell pruned = dense;
        pruned.dense = false;
        pruned.id = id;
        grid.cells.push_back(pruned);
    }
    return grid;
}

}  // namespace

TEST_CASE("resource check: estimate counts data, running cells and baselines") {
    std::vector<DatasetSlot> datasets{make_dataset()};
    grid::Grid grid = make_grid();

    ResourceEstimate estimate = estimate_resources(grid, datasets, 2, 3);

    // By hand: data = 2 fields x 100 ids x 4 bytes + 100 labels x 4 bytes = 1200 bytes.
    // Embeddings = (1001 + 2001) rows x (15 + 1) floats x 4 bytes = 192128 bytes.
    // Memory = 1200 + 2 running cells x 8 copies x 192128 + 1 baseline x 192128 = 3267376.
    CHECK(estimate.memory_bytes == 3267376);
    // Disk = 3 cells x 16 KiB.
    CHECK(estimate.disk_bytes == 3 * 16 * 1024);
    CHECK(estimate.memory_detail == "prepared data 1.2 KiB + 2 running cell(s) x 8 copies of "
                                    "187.6 KiB of embeddings + 1 dense baseline(s) 187.6 KiB");
}

TEST_CASE("resource check: a grid over the available memory is refused with the estimate") {
    ResourceEstimate estimate;
    estimate.memory_bytes = 3 * 1024ull * 1024 * 1024;
    estimate.memory_detail = "details";
    estimate.disk_bytes = 1024;

    CHECK_THROWS_WITH_AS(
        check_resources(estimate, {2 * 1024ull * 1024 * 1024, 1ull << 40}, "grid.json"),
        "grid does not fit this machine: grid.json: estimated memory 3.0 GiB (details) exceeds "
        "the 2.0 GiB available; run fewer cells at once with --threads, lower embedding_dim or "
        "raise min_count",
        ConfigError);
}

TEST_CASE("resource check: too little disk is rejected") {
    ResourceEstimate estimate;
    estimate.memory_bytes = 1024;
    estimate.disk_bytes = 5 * 1024 * 1024;
    estimate.disk_detail = "320 result row(s) x 16.0 KiB";

    CHECK_THROWS_WITH_AS(
        check_resources(estimate, {1ull << 40, 1024 * 1024}, "grid.json"),
        "grid does not fit this machine: grid.json: estimated disk space 5.0 MiB (320 result "
        "row(s) x 16.0 KiB) exceeds the 1.0 MiB free for --output; free disk space or give "
        "another --output",
        ConfigError);
}

TEST_CASE("resource check: unknown resources and a fitting grid pass") {
    ResourceEstimate estimate;
    estimate.memory_bytes = 1ull << 50;
    estimate.disk_bytes = 1ull << 50;

    CHECK_NOTHROW(check_resources(estimate, {0, 0}, "grid.json"));
    CHECK_NOTHROW(check_resources(estimate, {1ull << 51, 1ull << 51}, "grid.json"));
}

TEST_CASE("resource check: this machine reports memory and disk space") {
    AvailableResources available = available_resources("/tmp/recprune-not-created-yet/out");

    // Linux has /proc/meminfo; the nearest existing parent (/tmp) has a file system.
    CHECK(available.memory_bytes > 0);
    CHECK(available.disk_bytes > 0);
}
