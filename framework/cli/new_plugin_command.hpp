// The `recprune new-plugin` command: a plugin folder to start from.
#pragma once

#include <string>
#include <vector>

namespace recprune::cli {

/// Runs `recprune new-plugin KIND NAME` with the arguments after the command name. Returns the
/// exit code; ConfigError propagates to main, which maps it to exit code 2.
int command_new_plugin(const std::vector<std::string>& args);

}  // namespace recprune::cli
