#include "run/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace recprune::run {
namespace {

// Lock-free, so the handler may store into it.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_interrupt(int signal_number) {
    int expected = 0;
    g_signal.compare_exchange_strong(expected, signal_number);
    std::signal(signal_number, SIG_DFL);
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return g_signal.load() != 0; }

int interrupt_signal() { return g_signal.load(); }

}  // namespace recprune::run
