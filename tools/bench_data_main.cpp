// Driver of tools/bench_data.sh: one measurement per process, so each peak resident size
// belongs to one step only.
//
//   bench_data parse PLUGIN.so PARAMS_JSON CACHE_FILE
//       loads the dataset through the plugin's C entry point, adopts the table as the host
//       does, writes the binary cache, and prints one JSON line with the parse time.
//   bench_data reload CACHE_FILE
//       reads the cache back and prints one JSON line with the read time.
//
// Both print wall and CPU seconds (CPU time is what a loaded machine cannot inflate),
// "columnar_bytes" and "peak_rss_bytes" (VmHWM from /proc/self/status).
#include "data/cache.hpp"
#include "data/raw_table.hpp"

#include "recprune/abi.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include <dlfcn.h>
#include <time.h>

namespace {

using Clock = std::chrono::steady_clock;

uint64_t peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    }
    return 0;
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds used by the whole process (all threads) so far.
double process_cpu_seconds() {
    timespec now{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

int parse(const std::string& plugin_path, const std::string& params, const std::string& cache) {
    void* library = ::dlopen(plugin_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) throw std::runtime_error(std::string("dlopen: ") + ::dlerror());
    auto entry = reinterpret_cast<recprune_entry_fn>(::dlsym(library, RECPRUNE_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("no entry symbol in " + plugin_path);
    const recprune_dataset_api_t& api = *entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR)->dataset;

    recprune_host_t host{};
    host.struct_size = sizeof(host);
    host.abi_major = RECPRUNE_ABI_MAJOR;
    host.abi_minor = RECPRUNE_ABI_MINOR;
    host.log = [](void*, recprune_log_level_t, const char* message) {
        std::fprintf(stderr, "%s\n", message);
    };
    host.log_enabled = [](void*, recprune_log_level_t level) -> int32_t {
        return level >= RECPRUNE_LOG_LEVEL_WARN;
    };
    std::string message;
    recprune_error_t error{
        &message, [](void* data, const char* text) { *static_cast<std::string*>(data) = text; }};
    auto check = [&](recprune_status_t status) {
        if (status != RECPRUNE_STATUS_OK) throw std::runtime_error(message);
    };

    auto start = Clock::now();
    double cpu_start = process_cpu_seconds();
    recprune_dataset_t dataset = nullptr;
    check(api.create(&host, params.c_str(), &dataset, &error));
    recprune_table_t table{};
    check(api.load(dataset, &table, &error));
    // The host keeps the plugin's handle alive instead of copying its arrays.
    std::shared_ptr<const void> owner(dataset, [&api](const void* handle) {
        api.destroy(static_cast<recprune_dataset_t>(const_cast<void*>(handle)));
    });
    recprune::data::RawTable raw = recprune::data::adopt_table(table, owner);
    owner.reset();
    double parse_seconds = seconds_since(start);
    double parse_cpu_seconds = process_cpu_seconds() - cpu_start;

    start = Clock::now();
    recprune::data::write_cache(cache, "bench", raw);
    double write_seconds = seconds_since(start);

    std::printf(
        "{\"step\": \"parse\", \"rows\": %llu, \"parse_seconds\": %.4f, "
        "\"parse_cpu_seconds\": %.4f, \"cache_write_seconds\": %.4f, "
        "\"columnar_bytes\": %llu, \"peak_rss_bytes\": %llu}\n",
        static_cast<unsigned long long>(raw.row_count), parse_seconds, parse_cpu_seconds,
        write_seconds, static_cast<unsigned long long>(raw.columnar_bytes()),
        static_cast<unsigned long long>(peak_rss_bytes()));
    return 0;
}

int reload(const std::string& cache) {
    auto start = Clock::now();
    double cpu_start = process_cpu_seconds();
    recprune::data::RawTable raw;
    std::string reason;
    if (!recprune::data::read_cache(cache, "bench", raw, reason)) {
        throw std::runtime_error("cache not read: " + reason);
    }
    double seconds = seconds_since(start);
    double cpu_seconds = process_cpu_seconds() - cpu_start;
    std::printf(
        "{\"step\": \"reload\", \"rows\": %llu, \"reload_seconds\": %.4f, "
        "\"reload_cpu_seconds\": %.4f, \"columnar_bytes\": %llu, "
        "\"peak_rss_bytes\": %llu}\n",
        static_cast<unsigned long long>(raw.row_count), seconds, cpu_seconds,
        static_cast<unsigned long long>(raw.columnar_bytes()),
        static_cast<unsigned long long>(peak_rss_bytes()));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::string step = argc > 1 ? argv[1] : "";
        if (step == "parse" && argc == 5) return parse(argv[2], argv[3], argv[4]);
        if (step == "reload" && argc == 3) return reload(argv[2]);
        std::fprintf(stderr,
                     "usage: bench_data parse PLUGIN.so PARAMS_JSON CACHE_FILE\n"
                     "       bench_data reload CACHE_FILE\n");
        return 2;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_data: %s\n", error.what());
        return 1;
    }
}
