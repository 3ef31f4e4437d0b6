#include "run/resource_check.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <sys/statvfs.h>

namespace recprune::run {
namespace {

std::string format_bytes(uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return text;
}

uint64_t part_bytes(const data::Part& part) {
    uint64_t bytes = 0;
    for (const auto& ids : part.ids) bytes += ids.size() * sizeof(uint32_t);
    for (const auto& offsets : part.offsets) bytes += offsets.size() * sizeof(uint64_t);
    bytes += (part.dense.size() + part.labels.size()) * sizeof(float);
    bytes += (part.users.size() + part.items.size()) * sizeof(uint32_t);
    return bytes;
}

// Embedding floats of `model` on `data`: every field's table with embedding_dim columns plus
// the one-column linear term most CTR models keep. Models without "embedding_dim" (logistic
// regression) count one column.
uint64_t embedding_floats(const grid::PluginEntry& model, const data::PreparedData& data) {
    uint64_t dim = 1;
    if (const auto* given = model.params.if_contains("embedding_dim");
        given != nullptr && given->is_int64() && given->get_int64() > 0) {
        dim = static_cast<uint64_t>(given->get_int64()) + 1;
    }
    uint64_t floats = 0;
    for (const auto& field : data.fields) floats += uint64_t{field.vocabulary_size} * dim;
    return floats;
}

// Bytes of memory the cgroup (v2) of this process may still take, or 0 when unlimited.
uint64_t cgroup_room() {
    std::ifstream limit_file("/sys/fs/cgroup/memory.max");
    std::ifstream current_file("/sys/fs/cgroup/memory.current");
    std::string limit_text;
    uint64_t current = 0;
    if (!(limit_file >> limit_text) || limit_text == "max" || !(current_file >> current)) return 0;
    uint64_t limit = 0;
    const auto [end, error] =
        std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
    if (error != std::errc() || limit == 0) return 0;  // unreadable: treat as unlimited
    return limit > current ? limit - current : 1;
}

uint64_t meminfo_available() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    uint64_t kib = 0;
    std::string unit;
    while (meminfo >> key >> kib) {
        std::getline(meminfo, unit);
        if (key == "MemAvailable:") return kib * 1024;
    }
    return 0;
}

}  // namespace

ResourceEstimate estimate_resources(const grid::Grid& grid,
                                    const std::vector<DatasetSlot>& datasets, int cells_at_once,
                                    size_t cells_to_run) {
    uint64_t data_bytes = 0;
    for (const auto& slot : datasets) {
        data_bytes += part_bytes(slot.data.train) + part_bytes(slot.data.validation) +
                      part_bytes(slot.data.test);
    }

    // The largest model sets the peak of a running cell; every group keeps its dense weights.
    uint64_t largest_model = 0;
    uint64_t baseline_bytes = 0;
    std::set<std::string> groups;
    for (const auto& cell : grid.cells) {
        const uint64_t bytes =
            embedding_floats(cell.model, datasets[cell.dataset].data) * sizeof(float);
        largest_model = std::max(largest_model, bytes);
        if (cell.dense && groups.insert(cell.group_id).second) baseline_bytes += bytes;
    }
    // No more cells run at once than there are cells to run, whatever the -j value.
    const uint64_t running = std::max<uint64_t>(
        1, std::min<uint64_t>(static_cast<uint64_t>(std::max(1, cells_at_once)), cells_to_run));
    const uint64_t cell_bytes = running * kCopiesPerRunningCell * largest_model;

    ResourceEstimate estimate;
    estimate.memory_bytes = data_bytes + cell_bytes + baseline_bytes;
    estimate.memory_detail = "prepared data " + format_bytes(data_bytes) + " + " +
                             std::to_string(running) + " running cell(s) x " +
                             std::to_string(kCopiesPerRunningCell) + " copies of " +
                             format_bytes(largest_model) + " of embeddings + " +
                             std::to_string(groups.size()) + " dense baseline(s) " +
                             format_bytes(baseline_bytes);
    estimate.disk_bytes = static_cast<uint64_t>(cells_to_run) * kRowBytesPerCell;
    estimate.disk_detail = std::to_string(cells_to_run) + " result row(s) x " +
                           format_bytes(kRowBytesPerCell);
    return estimate;
}

AvailableResources available_resources(const std::filesystem::path& output) {
    AvailableResources available;
    available.memory_bytes = meminfo_available();
    if (uint64_t room = cgroup_room(); room != 0) {
        available.memory_bytes =
            available.memory_bytes == 0 ? room : std::min(available.memory_bytes, room);
    }

    std::error_code ec;
    std::filesystem::path existing = std::filesystem::absolute(output, ec);
    while (!existing.empty() && !std::filesystem::exists(existing, ec)) {
        if (existing == existing.parent_path()) break;
        existing = existing.parent_path();
    }
    struct statvfs info {};
    if (!existing.empty() && ::statvfs(existing.c_str(), &info) == 0) {
        available.disk_bytes = static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
    }
    return available;
}

void check_resources(const ResourceEstimate& estimate, const AvailableResources& available,
                     const std::string& grid_source) {
    std::vector<std::string> problems;
    if (available.memory_bytes != 0 && estimate.memory_bytes > available.memory_bytes) {
        problems.push_back("estimated memory " + format_bytes(estimate.memory_bytes) + " (" +
                           estimate.memory_detail + ") exceeds the " +
                           format_bytes(available.memory_bytes) +
                           " available; run fewer cells at once with --threads, lower "
                           "embedding_dim or raise min_count");
    }
    if (available.disk_bytes != 0 && estimate.disk_bytes > available.disk_bytes) {
        problems.push_back("estimated disk space " + format_bytes(estimate.disk_bytes) + " (" +
                           estimate.disk_detail + ") exceeds the " +
                           format_bytes(available.disk_bytes) +
                           " free for --output; free disk space or give another --output");
    }
    if (problems.empty()) return;
    std::string text;
    for (const auto& problem : problems) {
        if (!text.empty()) text += "\n";
        text += "grid does not fit this machine: " + grid_source + ": " + problem;
    }
    throw ConfigError(text);
}

}  // namespace recprune::run
