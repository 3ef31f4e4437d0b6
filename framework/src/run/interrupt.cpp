#include "run/interrupt.hpp"

#include <atomic>
#include <csignal>
#include <thread>

#include <pthread.h>
#include <unistd.h>

namespace recprune::run {
namespace {

std::atomic<int> g_signal{0};

// Sent by stop_interrupt_handling() to end the waiting thread; never recorded as an interrupt.
constexpr int kStopSignal = SIGUSR2;

std::thread g_waiter;

sigset_t waited_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, kStopSignal);
    return signals;
}

// Takes SIGINT and SIGTERM one at a time with sigwait, so no handler ever runs on a thread
// that is in the middle of a computation. The first signal is recorded. The next ends the
// process with the signal's default action, so its exit status still names the signal.
void wait_for_interrupts(sigset_t signals) {
    for (;;) {
        int number = 0;
        if (sigwait(&signals, &number) != 0) continue;
        if (number == kStopSignal) return;
        int expected = 0;
        if (g_signal.compare_exchange_strong(expected, number)) continue;
        std::signal(number, SIG_DFL);
        sigset_t single;
        sigemptyset(&single);
        sigaddset(&single, number);
        pthread_sigmask(SIG_UNBLOCK, &single, nullptr);
        ::raise(number);
        ::_exit(128 + number);  // not reached: the default action ends the process
    }
}

}  // namespace

void install_interrupt_handlers() {
    // Blocked in this thread, and so in every thread it starts later (oneTBB and OpenMP
    // workers among them). With a plain handler, a SIGINT during DeepFM training corrupted
    // the heap in most runs (oneDNN 2.6, AVX-512 host). Why is not known, but no signal
    // reaches a computing thread now.
    const sigset_t signals = waited_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    g_waiter = std::thread(wait_for_interrupts, signals);
}

void stop_interrupt_handling() {
    if (!g_waiter.joinable()) return;
    pthread_kill(g_waiter.native_handle(), kStopSignal);
    g_waiter.join();
}

InterruptHandling::InterruptHandling(bool enabled) : enabled_(enabled) {
    if (enabled_) install_interrupt_handlers();
}

InterruptHandling::~InterruptHandling() {
    if (enabled_) stop_interrupt_handling();
}

void unblock_interrupts_in_child(posix_spawnattr_t& attributes) {
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    short flags = 0;
    posix_spawnattr_getflags(&attributes, &flags);
    posix_spawnattr_setflags(&attributes, static_cast<short>(flags | POSIX_SPAWN_SETSIGMASK));
}

bool interrupted() { return g_signal.load() != 0; }

int interrupt_signal() { return g_signal.load(); }

}  // namespace recprune::run
