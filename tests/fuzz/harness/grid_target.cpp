#include "harness/harness.hpp"
#include "harness/host_errors.hpp"
#include "harness/support.hpp"

#include "grid/grid.hpp"
#include "plugin/plugin_registry.hpp"

#include <set>

namespace recprune::fuzz {
namespace {

// The folder grids are read from, with the data paths the seeds name, so that path checks
// pass and the fuzzer reaches the expansion.
std::filesystem::path make_base_dir() {
    std::filesystem::path base = fresh_folder(scratch_dir() / "grid");
    std::filesystem::create_directories(base / "data" / "movietweetings");
    write_bytes(base / "data" / "movietweetings" / "ratings.dat", "1::0000001::8::1\n");
    write_bytes(base / "data" / "movietweetings" / "movies.dat", "0000001::A (2000)::Drama\n");
    write_bytes(base / "data" / "file.txt", "1,2\n");
    return base;
}

}  // namespace

void run_grid(std::string_view input) {
    init_once();
    const plugin::PluginRegistry& registry = full_registry();
    static const std::filesystem::path base_dir = make_base_dir();

    accept_or_reject([&] {
        grid::Grid loaded =
            grid::load_grid_text(std::string(input), "fuzz.json", base_dir, registry);

        // An accepted grid has cells with distinct ids, dense cells first, and every cell
        // points at a dataset the grid lists.
        std::set<std::string> ids;
        bool pruned_seen = false;
        for (const grid::Cell& cell : loaded.cells) {
            require(ids.insert(cell.id).second, "two cells share the id " + cell.id);
            require(!(cell.dense && pruned_seen), "a dense cell follows a pruned cell");
            pruned_seen = pruned_seen || !cell.dense;
            require(cell.dataset < loaded.datasets.size(), "a cell names a missing dataset");
            require(cell.dense != cell.pruner.has_value(), "a cell's dense flag and pruner differ");
            require(cell.target_sparsity >= 0.0 && cell.target_sparsity <= 1.0,
                    "a cell's target sparsity is outside 0 to 1");
        }
    });
}

}  // namespace recprune::fuzz
