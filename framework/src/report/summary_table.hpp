// The plain-text table `recprune run` prints when a grid finishes: one line per dataset, model,
// pruner, schedule and target sparsity, with the test metrics as mean +- standard deviation
// over seeds and the dense baseline of the same dataset and model.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace recprune::report {

/// Formats the rows as an aligned Markdown table.
std::string summary_table(const std::vector<boost::json::object>& rows,
                          const std::vector<std::string>& metrics);

}  // namespace recprune::report
