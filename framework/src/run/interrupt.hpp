// Ctrl-C (SIGINT) and SIGTERM during a run. The first one stops the start of new cells, lets
// the running cells finish and write their rows, and writes the table. A second one ends the
// process at once. Finished rows are on disk either way, so a rerun resumes.
#pragma once

#include <spawn.h>

namespace recprune::run {

/// Blocks SIGINT and SIGTERM in the calling thread and every thread started after it, and
/// starts a thread that takes them with sigwait: the first is recorded, the second ends the
/// process. Call it before any other thread starts, since a thread started earlier keeps the
/// signals unblocked and would end the process on the first one.
void install_interrupt_handlers();

/// Ends the thread that install_interrupt_handlers() started and waits for it, so that no
/// thread is left blocked in sigwait when the process exits (LeakSanitizer's exit check
/// failed now and then with one there). The signals stay blocked.
void stop_interrupt_handling();

/// Installs the handlers when `enabled`, and stops their thread when it goes out of scope.
class InterruptHandling {
public:
    explicit InterruptHandling(bool enabled);
    ~InterruptHandling();
    InterruptHandling(const InterruptHandling&) = delete;
    InterruptHandling& operator=(const InterruptHandling&) = delete;

private:
    bool enabled_;
};

/// Sets `attributes` so that a process started with them has no signal blocked (the mask
/// that install_interrupt_handlers() sets is otherwise inherited across exec).
void unblock_interrupts_in_child(posix_spawnattr_t& attributes);

/// Returns true once SIGINT or SIGTERM has arrived since install_interrupt_handlers().
bool interrupted();

/// Returns the number of the first signal that arrived, or 0.
int interrupt_signal();

}  // namespace recprune::run
