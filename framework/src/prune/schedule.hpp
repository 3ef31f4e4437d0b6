// Pruning schedules: one-shot, iterative prune and fine-tune, gradual (Zhu and Gupta's cubic
// schedule), lottery-ticket rewinding and retraining from scratch on the kept units (feature
// selection), each with an optional stop rule on the validation metric.
#pragma once

#include "grid/grid.hpp"
#include "prune/masks.hpp"
#include "prune/selection.hpp"
#include "prune/units.hpp"
#include "train/trainer.hpp"

#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <vector>

namespace recprune::prune {

/// Targets of the pruning steps of a schedule, cumulative (each is the sparsity over all units
/// after that step). one_shot: {s}. iterative, lottery, retrain with n steps: equal shares of
/// the remaining units per step, s_i = 1 - (1 - s)^(i/n). gradual with n steps: the cubic
/// schedule s_i = s (1 - (1 - i/n)^3) from Zhu and Gupta, "To prune, or not to prune" (2017),
/// eq. 1 with s_0 = 0.
std::vector<double> step_targets(const grid::ScheduleSettings& schedule, double target);

struct ScheduleStep {
    double target = 0.0;
    Selection selection;
    double validation_score = 0.0;
    bool met_stop_rule = true;
};

struct ScheduleOutcome {
    MaskSet masks;
    std::vector<ScheduleStep> steps;
    bool target_reached = true;
    /// Set when the stop rule ended the schedule: the last target whose step met the rule.
    std::optional<double> stopped_at_sparsity;
    std::string stop_reason;
    double prune_seconds = 0.0;
    double finetune_seconds = 0.0;
    /// Which units ended up pruned: counts per block, and field names at field granularity.
    boost::json::object pruned_units;

    /// The unit sparsity of the masks the schedule kept: that of the last step, or of the last
    /// step that met the stop rule when the rule rolled a step back (0 when none did).
    double kept_unit_sparsity() const;

    boost::json::object to_json() const;
};

/// What a schedule needs from its cell.
struct ScheduleInputs {
    plugin::ModelInstance& model;  ///< holds the dense weights on entry
    train::Trainer& trainer;
    plugin::PrunerInstance& pruner;
    const data::PreparedData& data;
    const grid::ScheduleSettings& schedule;
    const grid::TrainingSettings& training;
    double target_sparsity;
    double dense_validation_score;
    uint64_t seed;
    /// Weights to restart from for lottery and retrain (the rewind point).
    std::function<train::WeightSnapshot()> rewind_weights;
};

/// Runs the schedule; on return the model holds the final pruned weights with masks applied.
ScheduleOutcome run_schedule(ScheduleInputs& inputs);

}  // namespace recprune::prune
