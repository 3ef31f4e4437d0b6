// Helpers for the tests that run the recprune executable: start it with its output in files,
// wait with a deadline, kill it, and read and compare result tables.
#pragma once

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace recprune::test {

inline std::filesystem::path recprune_binary() {
    return std::filesystem::path(RECPRUNE_TEST_BINARY_DIR) / "bin" / "recprune";
}

inline std::filesystem::path scaleout_grid(const std::string& name) {
    return std::filesystem::path(RECPRUNE_TEST_FIXTURES_DIR) / "scaleout" / name;
}

/// The folder holding the fixture_crash pruner.
inline std::filesystem::path crash_plugin_dir() {
    return std::filesystem::path(RECPRUNE_TEST_FIXTURE_PLUGIN_DIR) / "crash";
}

inline std::string file_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// A temporary folder removed with everything in it at the end of the scope.
class TempFolder {
public:
    TempFolder() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "recprune-scaleout-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;
    ~TempFolder() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// A child process whose standard output and error go to files.
class ChildProcess {
public:
    ChildProcess(const std::vector<std::string>& arguments, const std::filesystem::path& log_stem)
        : out_path_(log_stem.string() + ".out"), err_path_(log_stem.string() + ".err") {
        std::vector<std::string> copy = arguments;
        std::vector<char*> argv;
        for (auto& argument : copy) argv.push_back(argument.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int error =
            ::posix_spawn(&pid_, copy.front().c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (error != 0) throw std::runtime_error("cannot start " + copy.front());
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    /// True while the process runs; reaps it when it has ended.
    bool running() {
        if (pid_ <= 0) return false;
        const pid_t done = ::waitpid(pid_, &status_, WNOHANG);
        if (done == pid_) pid_ = -1;
        return pid_ > 0;
    }

    /// Waits up to `limit`; returns false (and leaves it running) when it did not end.
    bool wait(std::chrono::duration<double> limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (running()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    }

    /// Sends SIGKILL and reaps. Returns true when the signal ended a process still running.
    bool kill() {
        if (!running()) return false;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        pid_ = -1;
        return WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL;
    }

    /// Sends `signal_number` without waiting.
    void send(int signal_number) {
        if (running()) ::kill(pid_, signal_number);
    }

    /// Exit code, or -signal when a signal ended it; call after the process ended.
    int exit_code() const {
        if (WIFEXITED(status_)) return WEXITSTATUS(status_);
        if (WIFSIGNALED(status_)) return -WTERMSIG(status_);
        return -1000;
    }
    std::string out() const { return file_text(out_path_); }
    std::string err() const { return file_text(err_path_); }

private:
    std::string out_path_;
    std::string err_path_;
    pid_t pid_ = -1;
    int status_ = 0;
};

/// What a finished command printed and returned.
struct CommandResult {
    int exit_code = 0;
    std::string out;
    std::string err;
};

/// Runs a command to its end; fails the test when it takes longer than `limit`.
inline CommandResult run_command(const std::vector<std::string>& arguments,
                                 const std::filesystem::path& log_stem,
                                 std::chrono::seconds limit = std::chrono::seconds(180)) {
    ChildProcess child(arguments, log_stem);
    if (!child.wait(limit)) {
        child.kill();
        FAIL("command timed out after " << limit.count() << " s: " << arguments.front() << " "
                                        << (arguments.size() > 1 ? arguments[1] : ""));
    }
    return CommandResult{child.exit_code(), child.out(), child.err()};
}

/// `recprune run GRID -o OUTPUT -q` plus `extra` arguments, with the dataset cache in the
/// folder beside OUTPUT so that tests neither share nor leave a cache.
inline std::vector<std::string> run_arguments(const std::filesystem::path& grid,
                                              const std::filesystem::path& output,
                                              const std::vector<std::string>& extra = {}) {
    std::vector<std::string> arguments{recprune_binary().string(),
                                       "run",
                                       grid.string(),
                                       "-o",
                                       output.string(),
                                       "--cache-dir",
                                       (output.parent_path() / ".cache").string(),
                                       "-q"};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return arguments;
}

/// The complete lines of a results.jsonl (each ended by a newline), in file order.
inline std::vector<std::string> complete_lines(const std::filesystem::path& path) {
    std::vector<std::string> lines;
    const std::string text = file_text(path);
    size_t begin = 0;
    while (true) {
        const size_t end = text.find('\n', begin);
        if (end == std::string::npos) break;
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return lines;
}

inline std::string cell_id_of_line(const std::string& line) {
    return std::string(boost::json::parse(line).at("cell_id").as_string());
}

/// The parts of each row of a results.json that must not depend on how the grid ran
/// (status, metric values, sparsity), by cell id.
inline std::map<std::string, boost::json::value> outcomes_of(const std::filesystem::path& table) {
    std::map<std::string, boost::json::value> outcomes;
    const auto document = boost::json::parse(file_text(table));
    for (const auto& row : document.at("rows").as_array()) {
        boost::json::object outcome;
        for (const char* key : {"status", "metrics", "sparsity"}) {
            if (const auto* value = row.as_object().if_contains(key)) outcome[key] = *value;
        }
        outcomes[std::string(row.at("cell_id").as_string())] = outcome;
    }
    return outcomes;
}

}  // namespace recprune::test
