// Checks grid parameters against a plugin's schema and fills in defaults.
#pragma once

#include "plugin/plugin_library.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace recprune::plugin {

/// Returns `given` with defaults filled in. Appends one message per problem to `problems`:
/// unknown parameter (with the known ones), wrong type, outside minimum/maximum, not in enum.
/// `json_path` is where `given` sits in the grid, such as "$.models[0].params". Parameters
/// whose schema has "format": "path" are resolved against `base_dir` when relative.
boost::json::object resolve_parameters(const PluginLibrary& plugin,
                                       const boost::json::object& given,
                                       const std::string& json_path,
                                       const std::filesystem::path& base_dir,
                                       std::vector<std::string>& problems);

/// Returns the problem with `value` against one parameter spec, or "" when it fits.
std::string check_parameter_value(const boost::json::object& spec,
                                  const boost::json::value& value);

}  // namespace recprune::plugin
