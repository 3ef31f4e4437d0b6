#include "prune/schedule.hpp"

#include <doctest/doctest.h>

#include <cmath>

using recprune::grid::ScheduleSettings;
using recprune::prune::step_targets;

TEST_CASE("schedule: one-shot has a single step at the target") {
    ScheduleSettings schedule;
    schedule.name = "one_shot";
    schedule.steps = 4;

    auto targets = step_targets(schedule, 0.9);

    REQUIRE(targets.size() == 1);
    CHECK(targets[0] == 0.9);
}

TEST_CASE("schedule: gradual follows the cubic schedule cumulatively") {
    // Zhu and Gupta's s_t = s_f (1 - (1 - t/n)^3) with s_f = 0.875 and n = 2:
    // step 1 = 0.875 x 0.875 = 0.765625 (49 of 64 weights), step 2 = 0.875 (56 of 64).
    ScheduleSettings schedule;
    schedule.name = "gradual";
    schedule.steps = 2;

    auto targets = step_targets(schedule, 0.875);

    REQUIRE(targets.size() == 2);
    CHECK(targets[0] == doctest::Approx(0.765625).epsilon(1e-12));
    CHECK(targets[1] == 0.875);
}

TEST_CASE("schedule: iterative removes an equal share of the rest") {
    // 1 - (1 - 0.875)^(i/3): each step keeps the cube root of 1/8 = 1/2 of what is left, so the
    // targets are 0.5, 0.75, 0.875 (computed by hand).
    ScheduleSettings schedule;
    schedule.name = "iterative";
    schedule.steps = 3;

    auto targets = step_targets(schedule, 0.875);

    REQUIRE(targets.size() == 3);
    CHECK(targets[0] == doctest::Approx(0.5).epsilon(1e-12));
    CHECK(targets[1] == doctest::Approx(0.75).epsilon(1e-12));
    CHECK(targets[2] == 0.875);
}

TEST_CASE("schedule: the last step always reaches the target exactly") {
    for (const char* name : {"iterative", "gradual", "lottery", "retrain"}) {
        ScheduleSettings schedule;
        schedule.name = name;
        schedule.steps = 7;

        auto targets = step_targets(schedule, 0.29);

        CAPTURE(name);
        REQUIRE(targets.size() == 7);
        CHECK(targets.back() == 0.29);
        for (size_t i = 1; i < targets.size(); ++i) CHECK(targets[i] > targets[i - 1]);
    }
}
