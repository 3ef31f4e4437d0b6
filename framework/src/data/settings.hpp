// The data settings of a grid's dataset entry: task, split, vocabulary, numeric handling,
// label threshold and the bad-line policy. Every one has a default and is recorded, resolved,
// in each result row.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace recprune::data {

/// How rows are divided into train, validation and test.
struct SplitSettings {
    /// "random" (by row), "time" (one global time cut) or "leave_one_out" (per user, the last
    /// interaction is the test row and, when validation > 0, the one before it validation).
    std::string method = "random";
    /// Fractions of all rows (after the user filter) for "random" and "time"; the training part
    /// gets the rest. For "leave_one_out", validation > 0 turns the validation part on.
    double validation = 0.1;
    double test = 0.1;
    uint64_t seed = 42;
    /// Users with fewer interactions are dropped before splitting (0 keeps everyone).
    uint64_t min_user_interactions = 0;
};

/// How NUMERIC feature columns reach the model.
struct NumericSettings {
    /// "log_squared": value v > 2 becomes the token floor(ln(v)^2), other values the integer
    ///   floor(v) (the Criteo competition transform); categorical field.
    /// "quantile": token = index of the training quantile bucket (`buckets` buckets);
    ///   categorical field.
    /// "log1p": dense input ln(1 + max(v, 0)), missing = 0 (the DLRM transform).
    /// "standardize": dense input (v - mean) / std with training statistics, missing = 0.
    /// "auto": the plugin's "numeric_hint" metadata when given, else "quantile".
    std::string method = "auto";
    uint32_t buckets = 16;
};

/// Training and evaluation of the "topk" task (implicit feedback).
struct TopKSettings {
    /// Negatives sampled per positive training row in every epoch, from the items that have a
    /// training row and that the user has no training row with (4 in He et al., "Neural
    /// Collaborative Filtering", WWW 2017). 0 trains on the data's own rows only.
    uint32_t train_negatives = 4;
    /// "leave_one_out": each user's positives of the evaluated part are ranked among
    /// `eval_negatives` sampled items the user has no row with in any part.
    /// "full_ranking": they are ranked among every item the user has no training row with.
    std::string protocol = "leave_one_out";
    /// Sampled negatives per user for "leave_one_out" (99 as in He et al.).
    uint32_t eval_negatives = 99;
};

struct DataSettings {
    /// "ctr", "rating" or "topk"; empty = the plugin's "task_hint" metadata, else "ctr".
    std::string task;
    SplitSettings split;
    /// Categorical values seen fewer times in the training part map to the out-of-vocabulary
    /// id 0. The missing-value key keeps its own entry whenever it occurs in training.
    uint64_t min_count = 1;
    NumericSettings numeric;
    /// Labels y >= threshold are positives for "ctr" and "topk"; unset = the plugin's
    /// "positive_threshold" metadata, else 0.5 for labels that are all 0 or 1.
    std::optional<double> positive_threshold;
    /// "fail" stops at the first malformed line; "skip" drops such lines and counts them.
    std::string on_bad_line = "fail";
    /// Grid keys "train_negatives", "protocol" and "eval_negatives"; only for task "topk".
    TopKSettings topk;

    /// Returns the settings as JSON, with every default written out. The top-K keys appear
    /// only for task "topk", so the settings (and the cell ids derived from them) of the other
    /// tasks do not depend on them.
    boost::json::object to_json() const;
};

/// Reads the data-setting keys of a grid dataset entry ("name" and "params" are ignored).
/// Appends one message per problem to `problems`, each naming its JSON path under
/// `json_path`, and keeps the default for every setting that has a problem.
DataSettings parse_data_settings(const boost::json::object& dataset_entry,
                                 const std::string& json_path, std::vector<std::string>& problems);

/// Returns the plugin parameters with the bad-line policy added as "on_bad_line", which every
/// in-tree dataset plugin accepts; the runner passes this to the plugin's create().
boost::json::object plugin_params_with_settings(const boost::json::object& params,
                                                const DataSettings& settings);

}  // namespace recprune::data
