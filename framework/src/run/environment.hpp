// The run environment recorded in every result table and in the run header.
#pragma once

#include "plugin/plugin_registry.hpp"

#include <boost/json.hpp>

#include <set>
#include <string>

namespace recprune::run {

/// Versions (recprune, ABI, oneDNN, oneTBB, compiler), build type, git commit, CPU model, the ISA
/// oneDNN dispatches to, thread counts, floating-point mode, and each loaded plugin with its
/// version and file.
boost::json::object describe_environment(const plugin::PluginRegistry& registry, int threads,
                                         int cell_threads);

/// Logs the run header (one line per fact group) at info. Of the plugins, only those in
/// `used` ("kind/name", such as "pruner/magnitude") get a line; the others are counted.
void log_run_header(const boost::json::object& environment, const std::set<std::string>& used);

/// Sets flush-to-zero and denormals-are-zero on the calling thread; threads created afterwards
/// inherit it. Denormal inputs slow oneDNN kernels by up to two orders of magnitude.
void enable_flush_to_zero();

}  // namespace recprune::run
