// Ctrl-C (SIGINT) and SIGTERM during a run. The first one stops the start of new cells, lets
// the running cells finish and write their rows, and writes the table. A second one ends the
// process at once. Finished rows are on disk either way, so a rerun resumes.
#pragma once

namespace recprune::run {

/// Installs the handlers for SIGINT and SIGTERM. Each handler records the signal and restores
/// the default action, so that the next signal of that kind ends the process.
void install_interrupt_handlers();

/// Returns true once SIGINT or SIGTERM has arrived since install_interrupt_handlers().
bool interrupted();

/// Returns the number of the first signal that arrived, or 0.
int interrupt_signal();

}  // namespace recprune::run
