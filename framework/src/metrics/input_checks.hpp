// Argument checks shared by the metric functions. Each throws std::invalid_argument with a
// message that names the metric, the row and the value.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace recprune::metrics::detail {

/// Shortest text that reads back to the same double ("1.5", "1e-15", "nan"), for messages.
inline std::string format_number(double value) {
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
    return std::string(buffer, result.ptr);
}

inline void check_same_length(std::string_view metric, std::string_view first_name,
                              size_t first_size, std::string_view second_name,
                              size_t second_size) {
    if (first_size == second_size) return;
    throw std::invalid_argument("invalid metric input: " + std::string(metric) + ": " +
                                std::to_string(first_size) + " " + std::string(first_name) +
                                " but " + std::to_string(second_size) + " " +
                                std::string(second_name) + "; pass one per row");
}

inline void check_no_nan(std::string_view metric, std::string_view what,
                         std::span<const float> values) {
    for (size_t row = 0; row < values.size(); ++row) {
        if (!std::isnan(values[row])) continue;
        throw std::invalid_argument("invalid metric input: " + std::string(metric) + ": " +
                                    std::string(what) + " at row " + std::to_string(row) +
                                    " is NaN; check the model output for a diverged loss");
    }
}

/// Labels of the binary metrics must be exactly 0 or 1.
inline void check_binary_labels(std::string_view metric, std::span<const float> labels) {
    for (size_t row = 0; row < labels.size(); ++row) {
        if (labels[row] == 0.0f || labels[row] == 1.0f) continue;
        throw std::invalid_argument("invalid metric input: " + std::string(metric) +
                                    ": label at row " + std::to_string(row) + " is " +
                                    format_number(labels[row]) +
                                    ", expected 0 or 1; set positive_threshold for the dataset");
    }
}

}  // namespace recprune::metrics::detail
