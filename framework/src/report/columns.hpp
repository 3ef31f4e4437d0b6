// Column access for reports. A group column is a row key such as "pruner" or
// "target_sparsity", or a dotted path such as "pruner.params.granularity". A value column is a
// metric name ("auc", read from metrics.<split>.auc.value) or a dotted path to a number
// ("sparsity.all_parameters.sparsity").
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace recprune::report {

/// The value of one group column in one row.
struct KeyValue {
    std::string identity;           ///< tells groups apart: the value as JSON text
    std::string label;              ///< shown in tables
    std::optional<double> number;   ///< set for numbers, so they sort and plot numerically
};

/// Returns the path a column name stands for: "sparsity" is "target_sparsity", any other
/// name is itself.
std::string canonical_column(const std::string& name);

/// Returns the value at a dotted path such as "pruner.params.scope", or nullptr when a step is
/// missing or not an object.
const boost::json::value* find_path(const boost::json::object& row, const std::string& path);

/// Reads group column `column` of every row. A plugin object ({"name", "params", ...}) is
/// labelled by its name followed by the parameters that differ between rows of that name, so
/// "magnitude(granularity=neuron)" and "magnitude(granularity=weight)" stay apart. A missing
/// value reads as "-".
std::vector<KeyValue> read_key_column(const std::vector<const boost::json::object*>& rows,
                                      const std::string& column);

/// Returns true when `column` names a metric rather than a path into the row.
bool is_metric_column(const std::string& column);

/// Reads value column `column` of one row: metrics.<split>.<column>.value for a metric, else
/// the number at the dotted path. Returns nothing when the value is missing, null or not a
/// number.
std::optional<double> read_value(const boost::json::object& row, const std::string& column,
                                 const std::string& split);

/// Returns the text of a number as the shortest form that reads back to the same double.
std::string number_text(double value);

}  // namespace recprune::report
