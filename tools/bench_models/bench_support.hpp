// Shared parts of the model benchmarks: the benchmark shape, synthetic batches, loading a
// model plugin through the C ABI without the host's registry, and timing with medians.
#pragma once

#include "recprune/abi.h"

#include <nlohmann/json.hpp>

#include <dlfcn.h>
#include <pmmintrin.h>
#include <xmmintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The usual Criteo-like DeepFM benchmark shape: batch 4096, 26 fields of 10,000 rows with
// 16-dim embeddings, FM term, MLP 416-256-128-1.
constexpr int64_t kBatch = 4096;
constexpr uint32_t kFields = 26;
constexpr uint32_t kRows = 10000;
constexpr uint32_t kDim = 16;
constexpr int64_t kHidden1 = 256;
constexpr int64_t kHidden2 = 128;
constexpr int kBatchCount = 8;  // distinct synthetic batches, used in turn

/// Synthetic batches: ids uniform over each field's rows, labels Bernoulli(0.5).
/// Returns `count` values drawn uniformly from [-0.5, 0.5), for tables and gradients whose
/// values only need to be finite and varied.
inline std::vector<float> uniform_floats(std::mt19937_64& rng, size_t count) {
    std::vector<float> values(count);
    for (float& value : values) value = static_cast<float>((rng() >> 11) * 0x1.0p-53 - 0.5);
    return values;
}

struct Batches {
    std::vector<std::vector<std::vector<uint32_t>>> ids;  // [batch][field][row]
    std::vector<std::vector<float>> labels;
    std::vector<std::vector<const uint32_t*>> id_pointers;  // [batch][field]
    std::vector<const uint64_t*> no_offsets = std::vector<const uint64_t*>(kFields, nullptr);

    Batches() {
        std::mt19937_64 rng(2024);
        for (int b = 0; b < kBatchCount; ++b) {
            std::vector<std::vector<uint32_t>> fields(kFields);
            for (auto& field : fields) {
                field.resize(kBatch);
                for (auto& id : field) id = static_cast<uint32_t>(rng() % kRows);
            }
            ids.push_back(std::move(fields));
            std::vector<float> y(kBatch);
            for (auto& label : y) label = static_cast<float>(rng() & 1);
            labels.push_back(std::move(y));
        }
        for (const auto& fields : ids) {
            std::vector<const uint32_t*> pointers;
            for (const auto& field : fields) pointers.push_back(field.data());
            id_pointers.push_back(std::move(pointers));
        }
    }

    /// Returns the ABI view of batch `counter % kBatchCount`.
    recprune_batch_t view(int counter) const {
        const int b = counter % kBatchCount;
        recprune_batch_t batch{};
        batch.struct_size = sizeof(batch);
        batch.field_count = kFields;
        batch.row_count = kBatch;
        batch.ids = id_pointers[b].data();
        batch.offsets = no_offsets.data();
        batch.labels = labels[b].data();
        return batch;
    }
};

/// Returns the data schema of the benchmark shape, as the host passes it to create().
inline std::string benchmark_schema() {
    json fields = json::array();
    for (uint32_t f = 0; f < kFields; ++f) {
        fields.push_back({{"name", "C" + std::to_string(f + 1)},
                          {"vocabulary_size", kRows},
                          {"multi_hot", false},
                          {"roles", {"feature"}}});
    }
    return json{{"task", "ctr"}, {"fields", fields}, {"dense_count", 0}}.dump();
}

/// An error sink that keeps the last message.
struct ErrorText {
    std::string message;
    recprune_error_t sink{&message, [](void* data, const char* text) {
                              *static_cast<std::string*>(data) = text ? text : "";
                          }};
};

inline void check(const char* what, recprune_status_t status, const ErrorText& error) {
    if (status != RECPRUNE_STATUS_OK) {
        throw std::runtime_error(std::string(what) + " failed: " + error.message);
    }
}

/// Host services with silent logging and aligned allocation.
inline const recprune_host_t* bench_host() {
    static const recprune_host_t host = {
        sizeof(recprune_host_t), RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR, nullptr,
        [](void*, recprune_log_level_t, const char*) {},
        [](void*, recprune_log_level_t) -> int32_t { return 0; },
        [](void*, size_t size, size_t alignment) -> void* {
            return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
        },
        [](void*, void* pointer) { std::free(pointer); }};
    return &host;
}

/// Loads `plugin_dir`/librecprune_model_<name>.so and returns its model table. The library
/// stays loaded until the process ends.
inline const recprune_model_api_t& load_model_api(const std::string& plugin_dir,
                                                  const std::string& name) {
    const std::string path = plugin_dir + "/librecprune_model_" + name + ".so";
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) throw std::runtime_error(std::string("cannot load ") + dlerror());
    auto entry = reinterpret_cast<recprune_entry_fn>(dlsym(library, RECPRUNE_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("no entry symbol in " + path);
    return *entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR)->model;
}

inline double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

/// Returns the CPU time of all threads of this process, in seconds.
inline double process_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

/// Options every benchmark driver takes: the precision, the thread count and the timing loop.
struct CommonOptions {
    std::string precision = "f32";
    int threads = 1;
    int steps = 10;
    int repeats = 5;
    int warmup = 3;
};

/// Reads "--key value" pairs into `common` and passes any other key to `extra(key, value)`,
/// which returns false when it does not take that key either.
template <typename Extra>
void parse_options(int argc, char** argv, CommonOptions& common, Extra&& extra) {
    for (int i = 1; i < argc; i += 2) {
        const std::string key = argv[i];
        if (i + 1 >= argc) {
            throw std::invalid_argument("missing value: option " + key +
                                        " has none; see the file header");
        }
        const std::string value = argv[i + 1];
        if (key == "--precision") common.precision = value;
        else if (key == "--threads") common.threads = std::stoi(value);
        else if (key == "--steps") common.steps = std::stoi(value);
        else if (key == "--repeats") common.repeats = std::stoi(value);
        else if (key == "--warmup") common.warmup = std::stoi(value);
        else if (!extra(key, value)) {
            throw std::invalid_argument("invalid option: " + key +
                                        " is unknown; see the file header");
        }
    }
}

/// Median wall-clock and CPU seconds per step.
struct StepTime {
    double wall = 0.0;
    double cpu = 0.0;
};

/// Runs `step` `warmup` times, then `repeats` timed runs of `steps` steps. CPU time is
/// reported next to wall time because on a shared machine other processes stretch the wall
/// time of a single-threaded run but not its CPU time.
template <typename Step>
StepTime time_steps(int warmup, int repeats, int steps, Step&& step) {
    int counter = 0;
    for (int i = 0; i < warmup; ++i) step(counter++);
    std::vector<double> wall, cpu;
    for (int r = 0; r < repeats; ++r) {
        const auto start = Clock::now();
        const double cpu_start = process_cpu_seconds();
        for (int i = 0; i < steps; ++i) step(counter++);
        const std::chrono::duration<double> elapsed = Clock::now() - start;
        wall.push_back(elapsed.count() / steps);
        cpu.push_back((process_cpu_seconds() - cpu_start) / steps);
    }
    return {median(wall), median(cpu)};
}

/// Runs a benchmark's `body` (returning the exit code) with denormals flushed, and turns an
/// exception into a message on stderr and exit code 1.
template <typename Body>
int run_main(const char* program, Body&& body) {
    // Denormals slow oneDNN kernels by up to two orders of magnitude; flush them before any
    // thread pool starts so the OpenMP threads inherit the mode.
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    try {
        return body();
    } catch (const std::exception& e) {
        std::cerr << program << " failed: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace bench
