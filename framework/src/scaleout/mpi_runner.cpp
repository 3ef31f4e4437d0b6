#include "scaleout/mpi_runner.hpp"

#include "core/errors.hpp"
#include "core/log.hpp"
#include "scaleout/wire.hpp"

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <set>
#include <thread>

#ifdef RECPRUNE_HAVE_MPI
#include <mpi.h>
#endif

namespace recprune::scaleout {

#ifndef RECPRUNE_HAVE_MPI

bool mpi_built() { return false; }

std::unique_ptr<MpiSession> MpiSession::start() {
    throw ConfigError("invalid option: --mpi: this recprune was built without MPI; install "
                      "openmpi-bin and libopenmpi-dev, configure again with "
                      "-DRECPRUNE_WITH_MPI=ON and rebuild, or use --shard for cluster arrays");
}

MpiSession::~MpiSession() = default;

void MpiSession::abort(int exit_code) { std::exit(exit_code); }

void coordinate_mpi(MpiSession&, CellScheduler&,
                    const std::function<void(const Job&, const JobResult&)>&, int,
                    const ExecutorFactory&) {
    throw ConfigError("invalid option: --mpi: this recprune was built without MPI");
}

void serve_mpi_rank(MpiSession&, int, const ExecutorFactory&) {
    throw ConfigError("invalid option: --mpi: this recprune was built without MPI");
}

#else

namespace {

// Message tags.
constexpr int kHello = 1;   // rank -> 0: u64 slots
constexpr int kAssign = 2;  // 0 -> rank: a job, with the dense baseline when the rank lacks it
constexpr int kResult = 3;  // rank -> 0: a job's row, with the baseline of a dense job
constexpr int kStop = 4;    // 0 -> rank: no more jobs

// How long a rank's main thread sleeps when neither a message nor a result is waiting. Short
// against any cell, long enough that polling costs no measurable CPU.
constexpr auto kIdleSleep = std::chrono::milliseconds(1);

// Sends in flight. Each buffer lives until MPI_Test reports the send complete. Non-blocking
// sends keep two ranks that send large messages to each other at once from waiting on each
// other.
class Outgoing {
public:
    void send(int destination, int tag, std::string bytes) {
        if (bytes.size() > static_cast<size_t>(INT_MAX)) {
            throw std::runtime_error("MPI message of " + std::to_string(bytes.size()) +
                                     " bytes is over the 2 GiB an MPI count can describe");
        }
        pending_.emplace_back();
        auto& entry = pending_.back();
        entry.bytes = std::move(bytes);
        MPI_Isend(entry.bytes.data(), static_cast<int>(entry.bytes.size()), MPI_BYTE,
                  destination, tag, MPI_COMM_WORLD, &entry.request);
    }

    void progress() {
        for (auto it = pending_.begin(); it != pending_.end();) {
            int done = 0;
            MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
            it = done != 0 ? pending_.erase(it) : std::next(it);
        }
    }

    void wait_all() {
        for (auto& entry : pending_) MPI_Wait(&entry.request, MPI_STATUS_IGNORE);
        pending_.clear();
    }

private:
    struct Entry {
        std::string bytes;
        MPI_Request request = MPI_REQUEST_NULL;
    };
    std::list<Entry> pending_;  // a list, so buffers never move while MPI reads them
};

// Receives the message MPI_Iprobe found.
std::string receive_bytes(const MPI_Status& status) {
    int size = 0;
    MPI_Get_count(&status, MPI_BYTE, &size);
    std::string bytes(static_cast<size_t>(size), '\0');
    MPI_Recv(bytes.data(), size, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    return bytes;
}

std::optional<MPI_Status> probe() {
    int found = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &found, &status);
    if (found == 0) return std::nullopt;
    return status;
}

// Runs the slots of a rank on their own thread and keeps the first exception for the main
// thread, which alone may call MPI.
class SlotThread {
public:
    SlotThread(int slots, const ExecutorFactory& factory, WorkQueue& queue)
        : queue_(queue), thread_([this, slots, &factory] {
              try {
                  run_slots(slots, factory, queue_);
              } catch (...) {
                  error_ = std::current_exception();
              }
              ended_ = true;
          }) {}

    ~SlotThread() {
        if (thread_.joinable()) {
            queue_.abort();
            thread_.join();
        }
    }

    bool ended() const { return ended_; }

    // Waits for the slots to end and rethrows their exception, if any.
    void join() {
        thread_.join();
        if (error_) std::rethrow_exception(error_);
    }

private:
    WorkQueue& queue_;
    std::exception_ptr error_;
    std::atomic<bool> ended_{false};
    std::thread thread_;
};

// The queue of a rank other than 0: jobs arrive from the main thread, results go back to it.
class RankQueue : public WorkQueue {
public:
    std::optional<WorkItem> next() override {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return closed_ || !inbox_.empty(); });
        if (inbox_.empty()) return std::nullopt;
        WorkItem item = std::move(inbox_.front());
        inbox_.pop_front();
        return item;
    }

    void done(const WorkItem& item, JobResult result) override {
        std::lock_guard<std::mutex> lock(mutex_);
        outbox_.emplace_back(item, std::move(result));
    }

    void abort() override { close(); }

    void push(WorkItem item) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            inbox_.push_back(std::move(item));
        }
        changed_.notify_one();
    }

    void close() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            closed_ = true;
        }
        changed_.notify_all();
    }

    std::deque<std::pair<WorkItem, JobResult>> take_results() {
        std::lock_guard<std::mutex> lock(mutex_);
        return std::exchange(outbox_, {});
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<WorkItem> inbox_;
    std::deque<std::pair<WorkItem, JobResult>> outbox_;
    bool closed_ = false;
};

std::string encode_result(size_t token, const Job& job, const JobResult& result) {
    ByteWriter out;
    out.put_u64(token);
    out.put_string(result.row_line);
    const bool with_baseline = job.dense && result.baseline != nullptr;
    out.put_u8(with_baseline ? 1 : 0);
    if (with_baseline) out.put_string(encode_baseline(*result.baseline));
    return out.take();
}

}  // namespace

bool mpi_built() { return true; }

std::unique_ptr<MpiSession> MpiSession::start() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized != 0) {
        throw ConfigError("invalid option: --mpi: MPI is already initialised in this process; "
                          "run one grid per mpirun");
    }
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    std::unique_ptr<MpiSession> session(new MpiSession());
    MPI_Comm_rank(MPI_COMM_WORLD, &session->rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &session->size_);
    if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) {
        session->local_size_ = std::max(1, std::atoi(local));
    }
    if (provided < MPI_THREAD_FUNNELED) {
        RECPRUNE_WARN("sched", "MPI gives thread level {}, below MPI_THREAD_FUNNELED; cells run "
                               "on threads that never call MPI, so the run goes on",
                      provided);
    }
    return session;
}

MpiSession::~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized == 0) MPI_Finalize();
}

void MpiSession::abort(int exit_code) {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::exit(exit_code);
}

void coordinate_mpi(MpiSession& session, CellScheduler& scheduler,
                    const std::function<void(const Job&, const JobResult&)>& record,
                    int local_slots, const ExecutorFactory& factory) {
    const int ranks = session.size();
    std::vector<int> free_slots(ranks, 0);
    // Groups whose dense baseline each rank holds, so it is sent once per rank.
    std::vector<std::set<size_t>> holds(ranks);
    std::vector<size_t> jobs_done(ranks, 0);
    std::mutex local_mutex;
    Outgoing outgoing;

    auto record_local = [&](const Job& job, const JobResult& result) {
        record(job, result);
        std::lock_guard<std::mutex> lock(local_mutex);
        ++jobs_done[0];
    };
    // Every rank loads the data before it offers its slots. Rank 0 waits for all of them, so
    // its own slots cannot take every job while a slower rank is still loading.
    for (int hellos = 0; hellos < ranks - 1; ++hellos) {
        MPI_Status status;
        MPI_Probe(MPI_ANY_SOURCE, kHello, MPI_COMM_WORLD, &status);
        const std::string bytes = receive_bytes(status);
        ByteReader in(bytes);
        free_slots[status.MPI_SOURCE] += static_cast<int>(in.get_u64());
    }
    SchedulerQueue local_queue(scheduler, record_local);
    SlotThread local(local_slots, factory, local_queue);

    while (!scheduler.finished()) {
        bool busy = false;

        // Fill the free slots of the other ranks.
        for (int rank = 1; rank < ranks; ++rank) {
            while (free_slots[rank] > 0) {
                auto assignment = scheduler.try_next();
                if (!assignment) break;
                const Job& job = scheduler.job(assignment->job);
                ByteWriter message;
                message.put_u64(assignment->job);
                message.put_u64(job.cell);
                message.put_u64(job.group);
                message.put_u8(job.dense ? 1 : 0);
                message.put_u8(job.write_row ? 1 : 0);
                const bool send_baseline = !job.dense && holds[rank].count(job.group) == 0;
                message.put_u8(send_baseline ? 1 : 0);
                if (send_baseline) {
                    message.put_string(encode_baseline(*assignment->baseline));
                    holds[rank].insert(job.group);
                }
                outgoing.send(rank, kAssign, message.take());
                --free_slots[rank];
                busy = true;
            }
        }

        // Take one message: a rank's slots, or a result.
        if (auto status = probe()) {
            busy = true;
            const int source = status->MPI_SOURCE;
            std::string bytes = receive_bytes(*status);
            ByteReader in(bytes);
            if (status->MPI_TAG == kResult) {
                const size_t index = in.get_u64();
                const Job& job = scheduler.job(index);
                JobResult result;
                result.row_line = in.get_string();
                if (in.get_u8() != 0) result.baseline = decode_baseline(in.get_string());
                if (job.dense) holds[source].insert(job.group);
                record(job, result);
                scheduler.complete(index, std::move(result.baseline));
                ++free_slots[source];
                ++jobs_done[source];
            }
        }
        outgoing.progress();
        if (!busy) std::this_thread::sleep_for(kIdleSleep);
    }

    for (int rank = 1; rank < ranks; ++rank) outgoing.send(rank, kStop, std::string());
    outgoing.wait_all();
    local.join();

    std::string counts;
    for (int rank = 0; rank < ranks; ++rank) {
        counts += (rank == 0 ? "" : ", ") + std::string("rank ") + std::to_string(rank) + ": " +
                  std::to_string(jobs_done[rank]);
    }
    RECPRUNE_INFO("sched", "jobs run per rank: {}", counts);
}

void serve_mpi_rank(MpiSession& session, int slots, const ExecutorFactory& factory) {
    Outgoing outgoing;
    ByteWriter hello;
    hello.put_u64(static_cast<uint64_t>(std::max(1, slots)));
    outgoing.send(0, kHello, hello.take());

    RankQueue queue;
    SlotThread local(slots, factory, queue);
    // Dense baselines this rank has, by group: received from rank 0 or trained here.
    std::map<size_t, std::shared_ptr<const run::DenseBaseline>> baselines;

    bool stopped = false;
    while (!stopped) {
        bool busy = false;
        for (auto& [item, result] : queue.take_results()) {
            if (item.job.dense && result.baseline) baselines[item.job.group] = result.baseline;
            outgoing.send(0, kResult, encode_result(item.token, item.job, result));
            busy = true;
        }
        if (local.ended()) {
            // The slots stopped on an error; rank 0 would wait for their jobs forever.
            try {
                local.join();
            } catch (const std::exception& e) {
                RECPRUNE_ERROR("sched", "rank {}: {}", session.rank(), e.what());
            }
            session.abort(5);
        }
        if (auto status = probe()) {
            busy = true;
            std::string bytes = receive_bytes(*status);
            if (status->MPI_TAG == kStop) {
                stopped = true;
            } else if (status->MPI_TAG == kAssign) {
                ByteReader in(bytes);
                WorkItem item;
                item.token = in.get_u64();
                item.job.cell = in.get_u64();
                item.job.group = in.get_u64();
                item.job.dense = in.get_u8() != 0;
                item.job.write_row = in.get_u8() != 0;
                if (in.get_u8() != 0) {
                    baselines[item.job.group] = decode_baseline(in.get_string());
                }
                if (!item.job.dense) item.baseline = baselines.at(item.job.group);
                queue.push(std::move(item));
            }
        }
        outgoing.progress();
        if (!busy) std::this_thread::sleep_for(kIdleSleep);
    }
    queue.close();
    local.join();
    outgoing.wait_all();
}

#endif

}  // namespace recprune::scaleout
