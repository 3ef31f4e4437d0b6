#include "data/settings.hpp"

#include "core/join.hpp"
#include "core/json_io.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string_view>

namespace recprune::data {
namespace {

// Collects problems for one entry; each reader keeps the default when the value is wrong.
class SettingsReader {
public:
    SettingsReader(std::vector<std::string>& problems) : problems_(problems) {}

    void problem(const std::string& path, const std::string& why, const std::string& fix) {
        problems_.push_back("invalid grid: " + path + ": " + why + "; " + fix);
    }

    void read_choice(const boost::json::value& value, const std::string& path,
                     std::initializer_list<std::string_view> choices, std::string& out) {
        const std::string list = join(choices);
        if (!value.is_string()) {
            problem(path, json_io::serialize(value) + " is not a string", "use one of " + list);
            return;
        }
        std::string_view text = value.get_string();
        for (std::string_view choice : choices) {
            if (text == choice) {
                out = std::string(text);
                return;
            }
        }
        problem(path, json_io::serialize(value) + " is not one of " + list, "use one of " + list);
    }

    void read_fraction(const boost::json::value& value, const std::string& path, double& out) {
        if (!value.is_number()) {
            problem(path, json_io::serialize(value) + " is not a number",
                    "give a fraction such as 0.1");
            return;
        }
        double fraction = json_io::as_double(value);
        if (!(fraction >= 0.0 && fraction < 1.0)) {
            problem(path, json_io::serialize(value) + " is outside [0, 1)",
                    "give a fraction such as 0.1");
            return;
        }
        out = fraction;
    }

    template <typename Unsigned>
    void read_count(const boost::json::value& value, const std::string& path, Unsigned minimum,
                    Unsigned& out) {
        uint64_t count = 0;
        if (value.is_uint64()) {
            count = value.get_uint64();
        } else if (value.is_int64() && value.get_int64() >= 0) {
            count = static_cast<uint64_t>(value.get_int64());
        } else {
            problem(path, json_io::serialize(value) + " is not a non-negative integer",
                    "give a whole number such as " + std::to_string(minimum + 1));
            return;
        }
        if (count < minimum || count > std::numeric_limits<Unsigned>::max()) {
            problem(path,
                    std::to_string(count) + " is outside [" + std::to_string(minimum) + ", " +
                        std::to_string(std::numeric_limits<Unsigned>::max()) + "]",
                    "give a whole number of at least " + std::to_string(minimum));
            return;
        }
        out = static_cast<Unsigned>(count);
    }

    const boost::json::object* read_object(const boost::json::value& value,
                                           const std::string& path) {
        if (!value.is_object()) {
            problem(path, json_io::serialize(value) + " is not an object",
                    "write it as {\"key\": value, ...}");
            return nullptr;
        }
        return &value.get_object();
    }

    void unknown_key(const std::string& path, std::string_view key,
                     std::initializer_list<std::string_view> known) {
        problem(path, "unknown key \"" + std::string(key) + "\"", "use one of " + join(known));
    }

private:
    std::vector<std::string>& problems_;
};

void read_split(SettingsReader& reader, const boost::json::object& object, const std::string& path,
                SplitSettings& split) {
    for (const auto& [key, value] : object) {
        std::string child = json_io::child_path(path, key);
        if (key == "method") {
            reader.read_choice(value, child, {"random", "time", "leave_one_out"}, split.method);
        } else if (key == "validation") {
            reader.read_fraction(value, child, split.validation);
        } else if (key == "test") {
            reader.read_fraction(value, child, split.test);
        } else if (key == "seed") {
            reader.read_count<uint64_t>(value, child, 0, split.seed);
        } else if (key == "min_user_interactions") {
            reader.read_count<uint64_t>(value, child, 0, split.min_user_interactions);
        } else {
            reader.unknown_key(child, key,
                               {"method", "validation", "test", "seed", "min_user_interactions"});
        }
    }
    if (split.method != "leave_one_out" && split.validation + split.test >= 1.0) {
        reader.problem(path,
                       "validation " + json_io::serialize(split.validation) + " + test " +
                           json_io::serialize(split.test) + " leaves no training rows",
                       "make the two fractions add up to less than 1");
    }
}

void read_numeric(SettingsReader& reader, const boost::json::object& object,
                  const std::string& path, NumericSettings& numeric) {
    for (const auto& [key, value] : object) {
        std::string child = json_io::child_path(path, key);
        if (key == "method") {
            reader.read_choice(value, child,
                               {"auto", "log_squared", "quantile", "log1p", "standardize"},
                               numeric.method);
        } else if (key == "buckets") {
            reader.read_count<uint32_t>(value, child, 2, numeric.buckets);
        } else {
            reader.unknown_key(child, key, {"method", "buckets"});
        }
    }
}

}  // namespace

boost::json::object DataSettings::to_json() const {
    boost::json::object out;
    out["task"] = task;
    boost::json::object split_json;
    split_json["method"] = split.method;
    split_json["validation"] = split.validation;
    split_json["test"] = split.test;
    split_json["seed"] = split.seed;
    split_json["min_user_interactions"] = split.min_user_interactions;
    out["split"] = std::move(split_json);
    out["min_count"] = min_count;
    boost::json::object numeric_json;
    numeric_json["method"] = numeric.method;
    numeric_json["buckets"] = numeric.buckets;
    out["numeric"] = std::move(numeric_json);
    if (positive_threshold) {
        out["positive_threshold"] = *positive_threshold;
    } else {
        out["positive_threshold"] = nullptr;
    }
    out["on_bad_line"] = on_bad_line;
    if (task == "topk") {
        out["train_negatives"] = topk.train_negatives;
        out["protocol"] = topk.protocol;
        out["eval_negatives"] = topk.eval_negatives;
    }
    return out;
}

DataSettings parse_data_settings(const boost::json::object& dataset_entry,
                                 const std::string& json_path, std::vector<std::string>& problems) {
    DataSettings settings;
    SettingsReader reader(problems);
    for (const auto& [key, value] : dataset_entry) {
        std::string path = json_io::child_path(json_path, key);
        if (key == "name" || key == "params") continue;
        if (key == "task") {
            reader.read_choice(value, path, {"ctr", "rating", "topk"}, settings.task);
        } else if (key == "split") {
            if (const auto* object = reader.read_object(value, path)) {
                read_split(reader, *object, path, settings.split);
            }
        } else if (key == "min_count") {
            reader.read_count<uint64_t>(value, path, 1, settings.min_count);
        } else if (key == "numeric") {
            if (const auto* object = reader.read_object(value, path)) {
                read_numeric(reader, *object, path, settings.numeric);
            }
        } else if (key == "positive_threshold") {
            if (!value.is_number() || !std::isfinite(json_io::as_double(value))) {
                reader.problem(path, json_io::serialize(value) + " is not a finite number",
                               "give the smallest label that counts as positive, such as 4");
            } else {
                settings.positive_threshold = json_io::as_double(value);
            }
        } else if (key == "on_bad_line") {
            reader.read_choice(value, path, {"fail", "skip"}, settings.on_bad_line);
        } else if (key == "train_negatives") {
            reader.read_count<uint32_t>(value, path, 0, settings.topk.train_negatives);
        } else if (key == "protocol") {
            reader.read_choice(value, path, {"leave_one_out", "full_ranking"},
                               settings.topk.protocol);
        } else if (key == "eval_negatives") {
            reader.read_count<uint32_t>(value, path, 1, settings.topk.eval_negatives);
        } else {
            reader.unknown_key(path, key,
                               {"name", "params", "task", "split", "min_count", "numeric",
                                "positive_threshold", "on_bad_line", "train_negatives",
                                "protocol", "eval_negatives"});
        }
    }

    // The top-K keys change nothing for the other tasks, so a grid that sets them there most
    // likely forgot "task": "topk".
    if (settings.task != "topk") {
        for (std::string_view key : {"train_negatives", "protocol", "eval_negatives"}) {
            if (!dataset_entry.contains(key)) continue;
            reader.problem(json_io::child_path(json_path, key),
                           "\"" + std::string(key) + "\" applies to task \"topk\" only, and the "
                           "task here is \"" + (settings.task.empty() ? "ctr" : settings.task) +
                               "\"",
                           "add \"task\": \"topk\" or remove the key");
        }
    }
    return settings;
}

boost::json::object plugin_params_with_settings(const boost::json::object& params,
                                                const DataSettings& settings) {
    boost::json::object out = params;
    out["on_bad_line"] = settings.on_bad_line;
    return out;
}

}  // namespace recprune::data
