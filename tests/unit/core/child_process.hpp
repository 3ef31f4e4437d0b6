// Runs test code in a forked child process, for tests that change process-wide state (a file
// size limit, the user id) that must not reach the other tests of the executable.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include <sys/wait.h>
#include <unistd.h>

namespace recprune::test {

/// Runs `body` in a child process and returns the child's exit code and the text `body` passed
/// back. `body` returns {exit code, text} and must not throw; a child killed by signal s gives
/// 128 + s.
template <typename Body>
std::pair<int, std::string> run_in_child(Body&& body) {
    int channel[2];
    if (::pipe(channel) != 0) throw std::runtime_error("run_in_child: pipe failed");
    const pid_t child = ::fork();
    if (child < 0) throw std::runtime_error("run_in_child: fork failed");
    if (child == 0) {
        ::close(channel[0]);
        const auto [code, text] = body();
        ssize_t ignored = ::write(channel[1], text.data(), text.size());
        (void)ignored;
        ::_exit(code);
    }
    ::close(channel[1]);
    std::string text;
    char buffer[512];
    for (ssize_t n; (n = ::read(channel[0], buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
    ::close(channel[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), text};
}

}  // namespace recprune::test
