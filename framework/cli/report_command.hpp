// The `recprune report` command: tables from result files.
#pragma once

#include <string>
#include <vector>

namespace recprune::cli {

/// Runs `recprune report` with the arguments after the command name. Returns the exit code;
/// ConfigError and DataError propagate to main, which maps them to exit codes 2 and 3.
int command_report(const std::vector<std::string>& args);

}  // namespace recprune::cli
