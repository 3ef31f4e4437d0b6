// A plugin that calls exit() or crashes while cells run in the recprune process ends the whole
// run: no summary, no results.json, and for exit(0) even a zero exit code. While an
// EarlyExitNotice lives, such an end prints one line to stderr instead of nothing: that the
// process ended while cells were running, where the finished rows are, and to rerun with
// --isolate. Under --isolate and MPI the cells run elsewhere, so the runner arms it only for
// cells run in this process.
#pragma once

#include <filesystem>

namespace recprune::run {

/// Exit code when a plugin calls exit() while cells run: 5, internal error (docs/cli.md).
inline constexpr int kExitEndedWhileCellsRan = 5;

/// Arms the notices for its lifetime; at most one lives at a time.
///
/// - exit() from any thread (an atexit handler, registered once): writes the line and ends the
///   process with _exit(kExitEndedWhileCellsRan), so that static destructors do not run while
///   other cells still use what they destroy.
/// - SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: writes the line with write(2), restores the
///   default action and raises the signal again, so the exit status stays that signal.
///
/// Known limit: a stack overflow ends the process without the line, because the handler has
/// no stack of its own to run on (no sigaltstack in the oneTBB threads that run cells).
/// Known limit: under AddressSanitizer the signal handlers are not installed, because they
/// would replace the sanitizer's own report of the fault. The exit() notice still works.
class EarlyExitNotice {
public:
    /// Builds the lines for `rows_path`, the results.jsonl that contains the finished rows, so
    /// that the handlers only read them, and arms the notices.
    explicit EarlyExitNotice(const std::filesystem::path& rows_path);
    /// Disarms the notices and puts back the signal actions that were there before.
    ~EarlyExitNotice();
    EarlyExitNotice(const EarlyExitNotice&) = delete;
    EarlyExitNotice& operator=(const EarlyExitNotice&) = delete;
};

}  // namespace recprune::run
