#include "prune/schedule.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "prune/prune_context.hpp"

#include <chrono>
#include <cmath>

namespace recprune::prune {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Scores the units with the pruner and prunes as many as the step target requires.
Selection prune_step(ScheduleInputs& in, const UnitSet& units, MaskSet& masks, double target,
                     size_t step_index) {
    PruneContextBuilder builder(in.trainer, in.data, units, masks,
                                derive_seed(in.seed, "prune-step:" + std::to_string(step_index)));
    std::vector<double> scores(units.size(), 0.0);
    in.pruner.score(builder.context(), scores, masks.pruned_unit_flags(units));
    bool per_group = in.pruner.info().per_tensor != 0;
    Selection selection = select_units(units, scores, target, per_group, masks);
    masks.prune_units(units, selection.units);
    RECPRUNE_DEBUG("prune", "{}: step {} target {:.6f}: pruned {} more of {} {} units, "
                            "achieved {:.6f}",
                   in.pruner.library().name(), step_index + 1, target, selection.units.size(),
                   units.size(), granularity_name(units.granularity()),
                   selection.achieved_sparsity);
    return selection;
}

void install_masks(ScheduleInputs& in, MaskSet& masks) {
    in.trainer.set_masks(&masks);
    in.trainer.set_row_remap(masks.row_remap(static_cast<uint32_t>(in.data.fields.size())));
}

// True when the validation score has not dropped more than the rule allows from dense.
bool meets_stop_rule(const ScheduleInputs& in, double score) {
    if (!in.schedule.max_metric_drop) return true;
    double drop = grid::higher_is_better(in.trainer.validation_metric())
                      ? in.dense_validation_score - score
                      : score - in.dense_validation_score;
    return drop <= *in.schedule.max_metric_drop;
}

}  // namespace

std::vector<double> step_targets(const grid::ScheduleSettings& schedule, double target) {
    const int n = std::max(1, schedule.steps);
    std::vector<double> targets;
    if (schedule.name == "one_shot" || n == 1) return {target};
    for (int i = 1; i <= n; ++i) {
        double fraction = static_cast<double>(i) / n;
        double s = schedule.name == "gradual"
                       ? target * (1.0 - std::pow(1.0 - fraction, 3.0))
                       : 1.0 - std::pow(1.0 - target, fraction);
        targets.push_back(i == n ? target : s);
    }
    return targets;
}

double ScheduleOutcome::kept_unit_sparsity() const {
    if (stopped_at_sparsity) return *stopped_at_sparsity;
    return steps.empty() ? 0.0 : steps.back().selection.achieved_sparsity;
}

boost::json::object ScheduleOutcome::to_json() const {
    boost::json::array step_list;
    for (const auto& step : steps) {
        boost::json::object entry = step.selection.to_json();
        entry["step_target"] = step.target;
        entry["validation"] = step.validation_score;
        entry["met_stop_rule"] = step.met_stop_rule;
        step_list.push_back(entry);
    }
    boost::json::object out{{"steps", step_list},
                            {"target_reached", target_reached},
                            {"prune_seconds", prune_seconds},
                            {"finetune_seconds", finetune_seconds},
                            {"pruned_units", pruned_units}};
    if (stopped_at_sparsity) {
        out["stopped_at_sparsity"] = *stopped_at_sparsity;
        out["stop_reason"] = stop_reason;
    }
    return out;
}

namespace {

ScheduleOutcome run_steps(ScheduleInputs& in, const UnitSet& units) {
    ScheduleOutcome outcome;
    auto tensors = in.model.tensors();
    outcome.masks = MaskSet(tensors);
    std::vector<double> targets = step_targets(in.schedule, in.target_sparsity);

    // The gradual schedule prunes while it trains: pruning events are spread evenly over the
    // fine-tuning steps, and the remaining steps train at the final sparsity.
    if (in.schedule.name == "gradual") {
        const uint64_t total_steps = in.trainer.steps_per_epoch() *
                                     static_cast<uint64_t>(in.schedule.finetune_epochs);
        const uint64_t interval = std::max<uint64_t>(1, total_steps / (targets.size() + 1));
        size_t next = 0;
        auto prune_now = [&] {
            auto start = std::chrono::steady_clock::now();
            ScheduleStep step;
            step.target = targets[next];
            step.selection = prune_step(in, units, outcome.masks, targets[next], next);
            install_masks(in, outcome.masks);
            outcome.steps.push_back(step);
            ++next;
            outcome.prune_seconds += seconds_since(start);
        };
        prune_now();  // step 1 at the start of training
        uint64_t first_step = 0;
        in.trainer.set_step_callback([&](uint64_t global_step) {
            if (first_step == 0) first_step = global_step;
            uint64_t local = global_step - first_step + 1;
            if (next < targets.size() && local % interval == 0) prune_now();
        });
        auto start = std::chrono::steady_clock::now();
        // With 0 fine-tuning epochs nothing trains, as in the other schedules, and the steps
        // below follow each other at once.
        if (in.schedule.finetune_epochs > 0) in.trainer.train(in.schedule.finetune_epochs, false);
        in.trainer.set_step_callback({});
        while (next < targets.size()) prune_now();  // too few steps per epoch for all events
        outcome.finetune_seconds += seconds_since(start);
        double score = in.trainer.validation_score();
        for (auto& step : outcome.steps) step.validation_score = score;
        outcome.target_reached = outcome.steps.back().selection.target_reached;
        return outcome;
    }

    // Step-wise schedules: prune, then fine-tune (or rewind and retrain), then check the rule.
    train::WeightSnapshot rewind;
    if (in.schedule.name == "lottery" || in.schedule.name == "retrain") rewind = in.rewind_weights();
    MaskSet last_good = outcome.masks;
    train::WeightSnapshot last_good_weights = train::snapshot(tensors);
    for (size_t i = 0; i < targets.size(); ++i) {
        auto prune_start = std::chrono::steady_clock::now();
        ScheduleStep step;
        step.target = targets[i];
        step.selection = prune_step(in, units, outcome.masks, targets[i], i);
        outcome.prune_seconds += seconds_since(prune_start);

        auto train_start = std::chrono::steady_clock::now();
        if (!rewind.empty()) train::restore(tensors, rewind);
        install_masks(in, outcome.masks);
        if (in.schedule.name == "retrain") {
            in.trainer.train(in.training.epochs, true);
        } else if (in.schedule.finetune_epochs > 0) {
            in.trainer.train(in.schedule.finetune_epochs, false);
        }
        outcome.finetune_seconds += seconds_since(train_start);

        step.validation_score = in.trainer.validation_score();
        step.met_stop_rule = meets_stop_rule(in, step.validation_score);
        outcome.steps.push_back(step);
        if (!step.met_stop_rule) {
            // Go back to the last step that met the rule and stop there.
            outcome.stop_reason = "validation " + in.trainer.validation_metric() + " " +
                                  std::to_string(step.validation_score) + " dropped more than " +
                                  std::to_string(*in.schedule.max_metric_drop) +
                                  " from the dense " +
                                  std::to_string(in.dense_validation_score);
            outcome.stopped_at_sparsity = i == 0 ? 0.0 : outcome.steps[i - 1].selection.achieved_sparsity;
            outcome.masks = last_good;
            train::restore(tensors, last_good_weights);
            install_masks(in, outcome.masks);
            RECPRUNE_DEBUG("sched", "stopped at step {}: {}", i + 1, outcome.stop_reason);
            break;
        }
        last_good = outcome.masks;
        last_good_weights = train::snapshot(tensors);
    }
    outcome.target_reached = !outcome.stopped_at_sparsity && !outcome.steps.empty() &&
                             outcome.steps.back().selection.target_reached;
    return outcome;
}

}  // namespace

ScheduleOutcome run_schedule(ScheduleInputs& in) {
    auto tensors = in.model.tensors();
    auto structure = boost::json::parse(in.model.structure_json());
    auto granularity = static_cast<recprune_granularity_t>(in.pruner.info().granularity);
    UnitSet units = UnitSet::build(granularity, tensors, structure);

    // A regularizer must shape the weights before it is thresholded, and the shared dense model
    // was trained without it, so the cell first trains with the penalty alone.
    double penalty_seconds = 0.0;
    if (in.pruner.has_regularizer() && in.schedule.regularize_epochs > 0) {
        auto start = std::chrono::steady_clock::now();
        in.trainer.train(in.schedule.regularize_epochs, false);
        penalty_seconds = seconds_since(start);
    }

    ScheduleOutcome outcome = run_steps(in, units);
    outcome.finetune_seconds += penalty_seconds;
    outcome.pruned_units = units.pruned_summary(outcome.masks.pruned_unit_flags(units));
    return outcome;
}

}  // namespace recprune::prune
