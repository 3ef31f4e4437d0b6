#include "scaleout/worker_process.hpp"

#include "core/json_io.hpp"
#include "core/log.hpp"
#include "results/result_store.hpp"
#include "run/interrupt.hpp"
#include "scaleout/wire.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace recprune::scaleout {
namespace {

// Message types between a slot and its worker process.
constexpr uint32_t kRunJob = 1;
constexpr uint32_t kJobDone = 2;

// The descriptor number the child finds its socket on.
constexpr int kChildSocketFd = 3;

std::string describe_exit(int status) {
    if (WIFSIGNALED(status)) {
        const int signal = WTERMSIG(status);
        const char* name = ::sigabbrev_np(signal);
        return "the worker process was killed by signal " + std::to_string(signal) + " (SIG" +
               (name != nullptr ? name : "?") + ", " + ::strsignal(signal) + ")";
    }
    if (WIFEXITED(status)) {
        return "the worker process exited with code " + std::to_string(WEXITSTATUS(status)) +
               " before it returned the row";
    }
    return "the worker process ended before it returned the row";
}

class WorkerProcessExecutor : public CellExecutor {
public:
    WorkerProcessExecutor(const JobContext& context, WorkerLaunch launch)
        : context_(context), launch_(std::move(launch)) {}

    ~WorkerProcessExecutor() override { stop(); }

    JobResult run(const Job& job, std::shared_ptr<const run::DenseBaseline> baseline) override {
        if (pid_ < 0) start();
        const grid::Cell& cell = context_.grid->cells.at(job.cell);

        ByteWriter request;
        request.put_u64(job.cell);
        request.put_string(cell.id);
        request.put_u8(job.dense ? 1 : 0);
        request.put_u8(job.write_row ? 1 : 0);
        request.put_u64(job.group);
        const bool send_baseline = !job.dense && baseline && cached_group_ != job.group;
        request.put_u8(send_baseline ? 1 : 0);
        if (send_baseline) request.put_string(encode_baseline(*baseline));

        std::string failure;
        uint32_t type = 0;
        std::string payload;
        try {
            send_frame(socket_, kRunJob, request.bytes());
            if (!receive_frame(socket_, type, payload) || type != kJobDone) failure = "ended";
        } catch (const std::runtime_error& e) {
            failure = e.what();
        }
        if (!failure.empty()) return crashed(job, cell);

        ByteReader response(payload);
        JobResult result;
        result.row_line = response.get_string();
        if (response.get_u8() != 0) result.baseline = decode_baseline(response.get_string());
        cached_group_ = job.group;
        return result;
    }

private:
    void start() {
        int sockets[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
            throw std::runtime_error(std::string("cannot create a socket pair for a worker "
                                                 "process: ") +
                                     std::strerror(errno));
        }
        // The child's end must not already sit on descriptor 3, because dup2 onto itself would
        // keep its close-on-exec flag.
        int child_end = ::fcntl(sockets[1], F_DUPFD_CLOEXEC, kChildSocketFd + 1);
        ::close(sockets[1]);

        std::error_code ec;
        const std::string executable = std::filesystem::read_symlink("/proc/self/exe", ec).string();
        std::vector<std::string> arguments{executable, kCellWorkerCommand, "--socket-fd",
                                           std::to_string(kChildSocketFd)};
        arguments.insert(arguments.end(), launch_.arguments.begin(), launch_.arguments.end());
        std::vector<char*> argv;
        for (auto& argument : arguments) argv.push_back(argument.data());
        argv.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, child_end, kChildSocketFd);
        // Plugins may print; their output must not mix with the table the parent prints.
        posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
        // The worker starts with no signal blocked, not with the mask that this process runs
        // under (run/interrupt.hpp): SIGTERM still ends it, and it ignores SIGINT itself.
        posix_spawnattr_t attributes;
        posix_spawnattr_init(&attributes);
        run::unblock_interrupts_in_child(attributes);
        pid_t pid = -1;
        const int error = ::posix_spawn(&pid, executable.c_str(), &actions, &attributes,
                                        argv.data(), environ);
        posix_spawnattr_destroy(&attributes);
        posix_spawn_file_actions_destroy(&actions);
        ::close(child_end);
        if (error != 0) {
            ::close(sockets[0]);
            throw std::runtime_error("cannot start a worker process from " + executable + ": " +
                                     std::strerror(error));
        }
        pid_ = pid;
        socket_ = sockets[0];
        cached_group_.reset();
        RECPRUNE_DEBUG("sched", "started worker process {}", pid_);
    }

    // Closes the socket, which ends the child's request loop, and reaps it.
    int stop() {
        if (pid_ < 0) return 0;
        ::close(socket_);
        socket_ = -1;
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        cached_group_.reset();
        return status;
    }

    JobResult crashed(const Job& job, const grid::Cell& cell) {
        const pid_t pid = pid_;
        const std::string exit_reason = describe_exit(stop());
        RECPRUNE_WARN("sched", "worker process {} ended while running cell {}: {}", pid, cell.id,
                      exit_reason);
        const std::string reason = exit_reason + "; the plugin crashed the process, so rerun this cell "
                                         "without --isolate under a debugger to see where";
        const auto& dataset = context_.datasets->at(cell.dataset);
        JobResult result;
        if (job.dense) {
            auto baseline = std::make_shared<run::DenseBaseline>();
            baseline->ok = false;
            baseline->message = exit_reason;
            result.baseline = baseline;
        }
        if (job.write_row) {
            result.row_line = json_io::serialize(failed_cell_row(cell, dataset, reason));
        }
        return result;
    }

    JobContext context_;
    WorkerLaunch launch_;
    pid_t pid_ = -1;
    int socket_ = -1;
    std::optional<size_t> cached_group_;
};

}  // namespace

std::unique_ptr<CellExecutor> make_worker_process_executor(const JobContext& context,
                                                           const WorkerLaunch& launch) {
    return std::make_unique<WorkerProcessExecutor>(context, launch);
}

boost::json::object failed_cell_row(const grid::Cell& cell, const run::DatasetSlot& dataset,
                                    const std::string& reason) {
    // NOTE: these are the identifying fields of the rows run::run_dense_cell and
    // run::run_pruned_cell write; keep the two in step when either changes.
    boost::json::object row;
    row["schema_version"] = results::kSchemaVersion;
    row["cell_id"] = cell.id;
    row["group_id"] = cell.group_id;
    row["kind"] = cell.dense ? "dense" : "pruned";
    row["status"] = "failed";
    row["dataset"] = cell.parameters.at("dataset");
    row["data"] = cell.parameters.at("data");
    row["dataset_fingerprint"] = dataset.data.fingerprint;
    row["model"] = cell.parameters.at("model");
    row["training"] = cell.parameters.at("training");
    row["seed"] = cell.seed;
    if (!cell.dense) {
        row["pruner"] = cell.parameters.at("pruner");
        row["schedule"] = cell.parameters.at("schedule");
        row["target_sparsity"] = cell.target_sparsity;
    } else {
        row["target_sparsity"] = 0.0;
    }
    row["message"] = "cell failed: " + run::describe_cell(cell, dataset) + ": " + reason;
    return row;
}

int serve_cell_worker(int socket, const JobContext& context) {
    // Die with the parent: a killed run leaves no worker behind. A parent gone before this
    // line closed the socket, which ends the loop below.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);

    std::optional<size_t> cached_group;
    std::shared_ptr<const run::DenseBaseline> cached;
    uint32_t type = 0;
    std::string payload;
    while (receive_frame(socket, type, payload)) {
        if (type != kRunJob) {
            RECPRUNE_ERROR("sched", "worker process: unexpected message type {}", type);
            return 5;
        }
        ByteReader request(payload);
        Job job;
        job.cell = request.get_u64();
        const std::string cell_id = request.get_string();
        job.dense = request.get_u8() != 0;
        job.write_row = request.get_u8() != 0;
        job.group = request.get_u64();
        if (request.get_u8() != 0) {
            cached = decode_baseline(request.get_string());
            cached_group = job.group;
        }
        if (job.cell >= context.grid->cells.size() || context.grid->cells[job.cell].id != cell_id) {
            RECPRUNE_ERROR("sched", "worker process: cell {} is not cell {} of this grid; the "
                                    "grid or data changed during the run, so start it again",
                           cell_id, job.cell);
            return 2;
        }
        if (!job.dense && cached_group != job.group) {
            RECPRUNE_ERROR("sched", "worker process: no dense weights for the group of cell {}",
                           cell_id);
            return 5;
        }

        JobResult result = run_job(context, job, job.dense ? nullptr : cached);
        ByteWriter response;
        response.put_string(result.row_line);
        response.put_u8(job.dense ? 1 : 0);
        if (job.dense) {
            response.put_string(encode_baseline(*result.baseline));
            cached = result.baseline;
            cached_group = job.group;
        }
        send_frame(socket, kJobDone, response.bytes());
    }
    return 0;
}

}  // namespace recprune::scaleout
