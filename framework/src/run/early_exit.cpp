#include "run/early_exit.hpp"

#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>

#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define RECPRUNE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RECPRUNE_UNDER_ASAN 1
#endif
#endif

namespace recprune::run {
namespace {

struct FatalSignal {
    int number;
    const char* name;
};

constexpr std::array<FatalSignal, 5> kFatalSignals{{{SIGSEGV, "SIGSEGV"},
                                                    {SIGBUS, "SIGBUS"},
                                                    {SIGFPE, "SIGFPE"},
                                                    {SIGILL, "SIGILL"},
                                                    {SIGABRT, "SIGABRT"}}};

// Lock-free, so the handlers may use them.
std::atomic<bool> g_armed{false};
std::atomic<bool> g_reported{false};
static_assert(std::atomic<bool>::is_always_lock_free);

// The lines the handlers write, built before arming and only read while armed. They live at
// namespace scope, so they are constructed before the atexit handler is registered and
// therefore destroyed only after it ran.
std::string g_exit_line;
std::array<std::string, kFatalSignals.size()> g_signal_lines;
std::array<struct sigaction, kFatalSignals.size()> g_previous_actions;

// write(2) until the whole line is out; async-signal-safe.
void write_line(const std::string& line) {
    const char* data = line.data();
    size_t left = line.size();
    while (left > 0) {
        const ssize_t written = ::write(STDERR_FILENO, data, left);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;
        data += written;
        left -= static_cast<size_t>(written);
    }
}

extern "C" void on_exit_while_armed() {
    if (!g_armed.load() || g_reported.exchange(true)) return;
    write_line(g_exit_line);
    // _exit, not a return: the remaining exit handlers and static destructors would tear down
    // state that the other running cells still use.
    ::_exit(kExitEndedWhileCellsRan);
}

extern "C" void on_fatal_signal(int signal_number) {
    if (g_armed.load() && !g_reported.exchange(true)) {
        for (size_t i = 0; i < kFatalSignals.size(); ++i) {
            if (kFatalSignals[i].number == signal_number) write_line(g_signal_lines[i]);
        }
    }
    // The signal stays blocked until this handler returns, and then ends the process with the
    // default action, so the exit status still names the signal.
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    ::sigaction(signal_number, &action, nullptr);
    ::raise(signal_number);
}

// The part after "why", the same for every line.
constexpr const char* kLineEnding =
    ", so results.json was not written; rerun the same command with --isolate: it keeps the "
    "finished rows in that file, runs the rest and records the cell that ended the process as "
    "failed\n";

}  // namespace

EarlyExitNotice::EarlyExitNotice(const std::filesystem::path& rows_path) {
    assert(!g_armed.load() && "only one EarlyExitNotice may live at a time");
    const std::string start = "recprune: run ended early: " + rows_path.string() + ": ";
    g_exit_line = start + "a plugin called exit() while cells were running in this process" +
                  kLineEnding;
    for (size_t i = 0; i < kFatalSignals.size(); ++i) {
        g_signal_lines[i] = start + "the process got signal " +
                            std::to_string(kFatalSignals[i].number) + " (" +
                            kFatalSignals[i].name + ") while cells were running in it, most "
                            "likely from a plugin" + kLineEnding;
    }

    static std::once_flag registered;
    std::call_once(registered, [] { std::atexit(on_exit_while_armed); });
#ifndef RECPRUNE_UNDER_ASAN
    for (size_t i = 0; i < kFatalSignals.size(); ++i) {
        struct sigaction action {};
        action.sa_handler = on_fatal_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(kFatalSignals[i].number, &action, &g_previous_actions[i]);
    }
#endif
    g_armed.store(true);
}

EarlyExitNotice::~EarlyExitNotice() {
    g_armed.store(false);
#ifndef RECPRUNE_UNDER_ASAN
    for (size_t i = 0; i < kFatalSignals.size(); ++i) {
        ::sigaction(kFatalSignals[i].number, &g_previous_actions[i], nullptr);
    }
#endif
}

}  // namespace recprune::run
