// The job plan of a run and the order the scheduler hands jobs out in.
#include "scaleout/cell_scheduler.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using recprune::grid::Cell;
using recprune::grid::Grid;
using recprune::scaleout::CellScheduler;
using recprune::scaleout::plan_jobs;

namespace {

Cell dense_cell(const std::string& group, int epochs = 3) {
    Cell cell;
    cell.id = group;
    cell.group_id = group;
    cell.dense = true;
    cell.training.epochs = epochs;
    return cell;
}

Cell pruned_cell(const std::string& id, const std::string& group, int finetune_epochs = 1) {
    Cell cell;
    cell.id = id;
    cell.group_id = group;
    cell.schedule.finetune_epochs = finetune_epochs;
    return cell;
}

// Grid order as the grid module writes it: dense cells first, then pruned cells.
Grid two_groups() {
    Grid grid;
    grid.cells = {dense_cell("g1"), dense_cell("g2"), pruned_cell("a", "g1"),
                  pruned_cell("b", "g1", 4), pruned_cell("c", "g2")};
    return grid;
}

std::vector<double> estimates_of(const Grid& grid) {
    std::vector<double> estimates;
    for (const auto& cell : grid.cells) {
        estimates.push_back(recprune::scaleout::estimate_cost(cell, 100));
    }
    return estimates;
}

std::shared_ptr<const recprune::run::DenseBaseline> baseline() {
    auto result = std::make_shared<recprune::run::DenseBaseline>();
    result->ok = true;
    return result;
}

}  // namespace

TEST_CASE("scheduler: estimates count passes over the training rows") {
    // Dense: 3 epochs plus half a pass of overhead, over 100 rows.
    CHECK(recprune::scaleout::estimate_cost(dense_cell("g", 3), 100) == doctest::Approx(350.0));
    // One-shot with 4 fine-tuning epochs: 4.5 passes.
    CHECK(recprune::scaleout::estimate_cost(pruned_cell("a", "g", 4), 100) ==
          doctest::Approx(450.0));
    // Iterative with 3 steps of 2 epochs: 6.5 passes.
    Cell iterative = pruned_cell("i", "g", 2);
    iterative.schedule.name = "iterative";
    iterative.schedule.steps = 3;
    CHECK(recprune::scaleout::estimate_cost(iterative, 100) == doctest::Approx(650.0));
}

TEST_CASE("scheduler: dense jobs first, then the longest ready cell") {
    const Grid grid = two_groups();
    const std::vector<bool> all(5, true);
    const std::vector<bool> none(5, false);
    CellScheduler scheduler(plan_jobs(grid, all, none, estimates_of(grid)));
    REQUIRE(scheduler.plan().jobs.size() == 5);

    // g1 is first: both dense jobs have 3.5 passes, and g1's longest cell (b, 4.5 passes) is
    // longer than g2's (c, 1.5 passes).
    auto first = scheduler.try_next();
    REQUIRE(first);
    CHECK(grid.cells[scheduler.job(first->job).cell].id == "g1");
    auto second = scheduler.try_next();
    REQUIRE(second);
    CHECK(grid.cells[scheduler.job(second->job).cell].id == "g2");
    // No pruned cell can start before its group's dense weights exist.
    CHECK_FALSE(scheduler.try_next());

    scheduler.complete(second->job, baseline());
    auto third = scheduler.try_next();
    REQUIRE(third);
    CHECK(grid.cells[scheduler.job(third->job).cell].id == "c");
    CHECK(third->baseline != nullptr);

    scheduler.complete(first->job, baseline());
    auto fourth = scheduler.try_next();
    auto fifth = scheduler.try_next();
    REQUIRE(fourth);
    REQUIRE(fifth);
    CHECK(grid.cells[scheduler.job(fourth->job).cell].id == "b");
    CHECK(grid.cells[scheduler.job(fifth->job).cell].id == "a");
    CHECK_FALSE(scheduler.finished());
    for (const auto& assignment : {third, fourth, fifth}) {
        scheduler.complete(assignment->job, nullptr);
    }
    CHECK(scheduler.finished());
    CHECK_FALSE(scheduler.next());
}

TEST_CASE("scheduler: a group's baseline is dropped after its last cell") {
    const Grid grid = two_groups();
    const std::vector<bool> all(5, true);
    const std::vector<bool> none(5, false);
    CellScheduler scheduler(plan_jobs(grid, all, none, estimates_of(grid)));
    auto dense_one = scheduler.next();
    auto dense_two = scheduler.next();
    auto weights = baseline();
    std::weak_ptr<const recprune::run::DenseBaseline> watch = weights;
    scheduler.complete(dense_two->job, std::move(weights));
    auto cell_c = scheduler.next();
    REQUIRE(cell_c);
    CHECK_FALSE(watch.expired());

    // The assignment still holds the weights; once it and the scheduler let go, they are freed.
    scheduler.complete(cell_c->job, nullptr);
    cell_c.reset();
    CHECK(watch.expired());
    scheduler.complete(dense_one->job, baseline());
}

TEST_CASE("scheduler: finished dense rows train again only for their cells") {
    const Grid grid = two_groups();
    const std::vector<bool> all(5, true);
    // Both dense rows and cell c are finished; cells a and b still need g1's weights.
    const std::vector<bool> finished{true, true, false, false, true};
    const auto plan = plan_jobs(grid, all, finished, estimates_of(grid));
    REQUIRE(plan.jobs.size() == 3);
    CHECK(plan.jobs[0].dense);
    CHECK(grid.cells[plan.jobs[0].cell].id == "g1");
    CHECK_FALSE(plan.jobs[0].write_row);
    CHECK(plan.reused_cells == std::vector<size_t>{0, 1, 4});
    CHECK(plan.owned_cells == 5);
}

TEST_CASE("scheduler: a shard trains the dense models its cells need") {
    const Grid grid = two_groups();
    // This shard owns cell c only; g2 belongs to another shard, which writes its row.
    const std::vector<bool> owned{false, false, false, false, true};
    const std::vector<bool> none(5, false);
    const auto plan = plan_jobs(grid, owned, none, estimates_of(grid));
    REQUIRE(plan.jobs.size() == 2);
    CHECK(grid.cells[plan.jobs[0].cell].id == "g2");
    CHECK_FALSE(plan.jobs[0].write_row);
    CHECK(grid.cells[plan.jobs[1].cell].id == "c");
    CHECK(plan.jobs[1].write_row);
    CHECK(plan.owned_cells == 1);
}

TEST_CASE("scheduler: stop hands out no further job") {
    const Grid grid = two_groups();
    const std::vector<bool> all(5, true);
    const std::vector<bool> none(5, false);
    CellScheduler scheduler(plan_jobs(grid, all, none, estimates_of(grid)));
    auto first = scheduler.next();
    REQUIRE(first);
    scheduler.stop();
    CHECK_FALSE(scheduler.next());
    CHECK_FALSE(scheduler.finished());
    scheduler.complete(first->job, baseline());
    CHECK(scheduler.finished());
    CHECK_FALSE(scheduler.try_next());
}
