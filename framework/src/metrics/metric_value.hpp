// One metric result that may be undefined or infinite, its JSON form, and the mean over the
// defined values of many results (folds, users, seeds).
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace recprune::metrics {

/// Status of a metric that has a finite value.
inline constexpr std::string_view kStatusOk = "ok";
/// AUC (or a user's AUC) when the labels contain one class only, so no positive-negative pair
/// exists.
inline constexpr std::string_view kStatusUndefinedSingleClass = "undefined_single_class";
/// A top-K metric for a user with no relevant item.
inline constexpr std::string_view kStatusUndefinedNoPositive = "undefined_no_positive";
/// A metric over zero rows.
inline constexpr std::string_view kStatusUndefinedEmpty = "undefined_empty";
/// A mean whose inputs were all undefined.
inline constexpr std::string_view kStatusUndefinedNoDefinedValues = "undefined_no_defined_values";
/// A value that came out as NaN from arithmetic elsewhere (see MetricValue::from_double).
inline constexpr std::string_view kStatusUndefinedNan = "undefined_nan";
/// A metric whose true value is +inf or -inf, such as log loss with eps = 0 and a confident
/// wrong prediction. JSON cannot represent infinity, so the value is null.
inline constexpr std::string_view kStatusInfinite = "infinite";

/// A metric result. `value` is set, and finite, exactly when `status` is "ok"; otherwise
/// `reason` states in one sentence why there is no number. Undefined values are never stored as
/// 0, 0.5 or 1, and mean_over_defined() leaves them out.
struct MetricValue {
    std::optional<double> value;
    std::string status{kStatusOk};
    std::string reason;
    /// Further keys of the JSON form, written after "value", "status" and "reason", such as
    /// GAUC's "users_used" and "users_left_out". Empty for most metrics, and mean_over_defined()
    /// ignores it.
    boost::json::object details;

    /// A finite value with status "ok".
    static MetricValue defined(double value);
    /// No value, with the given non-ok status and reason.
    static MetricValue undefined(std::string_view status, std::string reason);
    /// Maps a double that may be NaN or infinite: finite gives "ok", NaN gives "undefined_nan",
    /// +inf or -inf gives "infinite" (the sign is kept in the reason).
    static MetricValue from_double(double value, std::string_view nan_reason = {});

    bool is_defined() const { return value.has_value(); }
};

/// Mean over the defined values, with counts of what was left out.
struct MeanOverDefined {
    MetricValue mean;
    size_t n_defined = 0;
    /// Inputs with no value and an "undefined_*" status; they are left out of the mean.
    size_t n_undefined = 0;
    /// Inputs with status "infinite". One of them makes the mean infinite too, because the
    /// mean of a set containing +inf is +inf; they are not silently dropped.
    size_t n_infinite = 0;
};

/// Averages the defined values in input order (so the same inputs in the same order give the
/// same bits). Undefined inputs are counted and left out. When any input is infinite the mean
/// has status "infinite"; when no input is defined the mean has status
/// "undefined_no_defined_values".
MeanOverDefined mean_over_defined(std::span<const MetricValue> values);

/// {"value": number|null, "status": ..., "reason": ..., details...}; "reason" only when not ok.
/// A value that is set but not finite is written as from_double() would map it, so no NaN or
/// infinity reaches the JSON text. A detail named "value", "status" or "reason" is not written.
boost::json::object to_json(const MetricValue& value);

/// {"value", "status", "reason"?, "n_defined", "n_undefined", "n_infinite"}.
boost::json::object to_json(const MeanOverDefined& mean);

/// Reads the object to_json() writes (the resume path); keys other than "value", "status" and
/// "reason" become details. Throws std::invalid_argument when a key is missing or has the
/// wrong type, or when "value" is null while "status" is "ok".
MetricValue metric_value_from_json(const boost::json::value& json);

}  // namespace recprune::metrics
