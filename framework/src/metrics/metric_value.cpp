#include "metrics/metric_value.hpp"

#include <cassert>
#include <cmath>
#include <stdexcept>

namespace recprune::metrics {

MetricValue MetricValue::defined(double value) {
    assert(std::isfinite(value) && "MetricValue::defined expects a finite value");
    return MetricValue{value, std::string(kStatusOk), {}, {}};
}

MetricValue MetricValue::undefined(std::string_view status, std::string reason) {
    assert(status != kStatusOk && "an undefined MetricValue needs a non-ok status");
    return MetricValue{std::nullopt, std::string(status), std::move(reason), {}};
}

MetricValue MetricValue::from_double(double value, std::string_view nan_reason) {
    if (std::isfinite(value)) return defined(value);
    if (std::isnan(value)) {
        std::string reason = nan_reason.empty() ? "the computed value is NaN"
                                                : std::string(nan_reason);
        return undefined(kStatusUndefinedNan, std::move(reason));
    }
    return undefined(kStatusInfinite,
                     value > 0 ? "the value is +infinity" : "the value is -infinity");
}

MeanOverDefined mean_over_defined(std::span<const MetricValue> values) {
    MeanOverDefined result;
    double sum = 0.0;
    for (const MetricValue& item : values) {
        if (item.status == kStatusInfinite) {
            ++result.n_infinite;
        } else if (item.value.has_value() && std::isfinite(*item.value)) {
            sum += *item.value;
            ++result.n_defined;
        } else {
            ++result.n_undefined;
        }
    }

    if (result.n_infinite > 0) {
        result.mean = MetricValue::undefined(
            kStatusInfinite, std::to_string(result.n_infinite) + " of " +
                                 std::to_string(values.size()) + " values are infinite");
    } else if (result.n_defined == 0) {
        result.mean = MetricValue::undefined(
            kStatusUndefinedNoDefinedValues,
            "none of the " + std::to_string(values.size()) + " values is defined");
    } else {
        result.mean = MetricValue::defined(sum / static_cast<double>(result.n_defined));
    }
    return result;
}

boost::json::object to_json(const MetricValue& value) {
    if (value.value.has_value() && !std::isfinite(*value.value)) {
        MetricValue mapped = MetricValue::from_double(*value.value);
        mapped.details = value.details;
        return to_json(mapped);
    }
    boost::json::object json;
    if (value.value.has_value()) {
        json["value"] = *value.value;
    } else {
        json["value"] = nullptr;
    }
    json["status"] = value.status;
    if (value.status != kStatusOk) json["reason"] = value.reason;
    for (const auto& [key, detail] : value.details) {
        if (key != "value" && key != "status" && key != "reason") json[key] = detail;
    }
    return json;
}

boost::json::object to_json(const MeanOverDefined& mean) {
    boost::json::object json = to_json(mean.mean);
    json["n_defined"] = mean.n_defined;
    json["n_undefined"] = mean.n_undefined;
    json["n_infinite"] = mean.n_infinite;
    return json;
}

MetricValue metric_value_from_json(const boost::json::value& json) {
    const auto* object = json.if_object();
    if (object == nullptr) {
        throw std::invalid_argument(
            "invalid metric value: expected a JSON object with \"value\" and \"status\", found " +
            boost::json::serialize(json) + "; write it with metrics::to_json");
    }
    const auto* status = object->if_contains("status");
    const auto* number = object->if_contains("value");
    if (status == nullptr || !status->is_string() || number == nullptr) {
        throw std::invalid_argument("invalid metric value: " + boost::json::serialize(json) +
                                    ": \"value\" or a string \"status\" is missing; write it "
                                    "with metrics::to_json");
    }

    MetricValue result;
    result.status = std::string(status->get_string());
    if (const auto* reason = object->if_contains("reason"); reason && reason->is_string()) {
        result.reason = std::string(reason->get_string());
    }
    for (const auto& [key, detail] : *object) {
        if (key != "value" && key != "status" && key != "reason") result.details[key] = detail;
    }
    if (number->is_null()) {
        if (result.status == kStatusOk) {
            throw std::invalid_argument("invalid metric value: " + boost::json::serialize(json) +
                                        ": \"value\" is null while \"status\" is \"ok\"; give "
                                        "a number or a status that says why it is missing");
        }
        return result;
    }
    if (!number->is_number()) {
        throw std::invalid_argument("invalid metric value: " + boost::json::serialize(json) +
                                    ": \"value\" is neither a number nor null; give a number");
    }
    result.value = number->to_number<double>();
    return result;
}

}  // namespace recprune::metrics
