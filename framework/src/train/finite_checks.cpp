#include "train/finite_checks.hpp"

#include "core/errors.hpp"

#include <cmath>
#include <sstream>

namespace recprune::train {
namespace {

constexpr const char* kFix = "lower the learning rate or check the input data";

std::string describe_value(float value) {
    if (std::isnan(value)) return "NaN";
    return value > 0 ? "+inf" : "-inf";
}

std::string tensor_name(const recprune_tensor_t& tensor) {
    return tensor.name != nullptr ? tensor.name : "(unnamed)";
}

// Returns the first element of [begin, end) that is not finite, or `end`.
uint64_t first_not_finite(const float* values, uint64_t begin, uint64_t end) {
    for (uint64_t i = begin; i < end; ++i) {
        if (!std::isfinite(values[i])) return i;
    }
    return end;
}

}  // namespace

std::string TrainingPosition::text() const {
    return "epoch " + std::to_string(epoch) + ", step " + std::to_string(step);
}

void check_grads_finite(std::span<const recprune_tensor_t> tensors,
                        const std::function<std::span<const uint32_t>(uint32_t)>& touched_rows,
                        const TrainingPosition& position) {
    for (uint32_t t = 0; t < tensors.size(); ++t) {
        const recprune_tensor_t& tensor = tensors[t];
        if (tensor.role == RECPRUNE_TENSOR_ROLE_EMBEDDING && tensor.rank == 2) {
            // Only touched rows hold grads after a sparse backward pass; the rest is stale.
            const uint64_t rows = tensor.shape[0];
            const uint64_t width = tensor.shape[1];
            for (uint32_t row : touched_rows(t)) {
                if (row >= rows) {
                    throw CellError("touched row out of range at " + position.text() +
                                    ", tensor " + tensor_name(tensor) + ": row " +
                                    std::to_string(row) + " of a table of " +
                                    std::to_string(rows) +
                                    " rows; the model plugin lists rows it does not have");
                }
                const uint64_t begin = uint64_t{row} * width;
                const uint64_t bad = first_not_finite(tensor.grad, begin, begin + width);
                if (bad != begin + width) {
                    throw CellError("gradient is not finite at " + position.text() +
                                    ", tensor " + tensor_name(tensor) + ", row " +
                                    std::to_string(row) + ": element " +
                                    std::to_string(bad - begin) + " is " +
                                    describe_value(tensor.grad[bad]) + "; " + kFix);
                }
            }
            continue;
        }
        const uint64_t bad = first_not_finite(tensor.grad, 0, tensor.element_count);
        if (bad != tensor.element_count) {
            throw CellError("gradient is not finite at " + position.text() + ", tensor " +
                            tensor_name(tensor) + ": element " + std::to_string(bad) + " is " +
                            describe_value(tensor.grad[bad]) + "; " + kFix);
        }
    }
}

void check_predictions_finite(std::span<const float> predictions, const std::string& part_name,
                              const TrainingPosition& position) {
    const uint64_t bad = first_not_finite(predictions.data(), 0, predictions.size());
    if (bad == predictions.size()) return;
    throw CellError("prediction is not finite after " + position.text() + ": row " +
                    std::to_string(bad) + " of the " + part_name + " part is " +
                    describe_value(predictions[bad]) + "; " + kFix);
}

void check_metric_finite(const std::string& metric, const metrics::MetricValue& value,
                         const std::string& part_name, const TrainingPosition& position) {
    const bool not_finite = value.value.has_value() && !std::isfinite(*value.value);
    if (!not_finite && value.status != metrics::kStatusUndefinedNan &&
        value.status != metrics::kStatusInfinite) {
        return;
    }
    std::ostringstream shown;
    if (value.value.has_value()) {
        shown << *value.value;
    } else {
        shown << "null (" << value.status << (value.reason.empty() ? "" : ": ")
              << value.reason << ")";
    }
    throw CellError("metric is not finite after " + position.text() + ": " + metric +
                    " on the " + part_name + " part is " + shown.str() + "; " + kFix);
}

}  // namespace recprune::train
