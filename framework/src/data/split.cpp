#include "data/split.hpp"

#include "core/errors.hpp"
#include "data/key_table.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace recprune::data {
namespace {

const RawColumn* column_with_role(const RawTable& table, recprune_column_role_t role) {
    int index = table.find_role(role);
    return index < 0 ? nullptr : &table.columns[static_cast<size_t>(index)];
}

const RawColumn& require_user_column(const RawTable& table, const std::string& why) {
    const RawColumn* users = column_with_role(table, RECPRUNE_COLUMN_ROLE_USER);
    if (users == nullptr || users->type != RECPRUNE_COLUMN_TYPE_CATEGORICAL) {
        throw ConfigError("invalid data settings: " + why +
                          " needs a categorical user column, and this dataset has none; "
                          "choose another split method or a dataset with users");
    }
    return *users;
}

const RawColumn& require_time_column(const RawTable& table) {
    const RawColumn* times = column_with_role(table, RECPRUNE_COLUMN_ROLE_TIMESTAMP);
    if (times == nullptr) {
        throw ConfigError(
            "invalid data settings: split.method \"time\" needs a timestamp "
            "column, and this dataset has none; use \"random\"");
    }
    for (uint64_t row = 0; row < table.row_count; ++row) {
        if (std::isnan(times->numeric[row])) {
            throw DataError("malformed data: timestamp column \"" + times->name +
                            "\" is missing at row " + std::to_string(row) +
                            "; a time split needs every timestamp");
        }
    }
    return *times;
}

// Keeps the rows of users with at least `minimum` interactions.
std::vector<uint64_t> filter_users(const RawTable& table, uint64_t minimum, SplitRows& out) {
    std::vector<uint64_t> rows;
    if (minimum <= 1) {
        rows.resize(table.row_count);
        for (uint64_t row = 0; row < table.row_count; ++row) rows[row] = row;
        return rows;
    }
    const RawColumn& users = require_user_column(table, "split.min_user_interactions");
    KeyTable counts(1024);
    for (uint64_t key : users.keys) {
        uint32_t& count = counts.at(key);
        if (count < UINT32_MAX) ++count;
    }
    KeyTable dropped(1024);
    for (uint64_t row = 0; row < table.row_count; ++row) {
        uint64_t key = users.keys[row];
        if (counts.get(key) >= minimum) {
            rows.push_back(row);
        } else {
            ++out.rows_dropped_by_user_filter;
            dropped.at(key) = 1;
        }
    }
    out.users_dropped_by_user_filter = dropped.size();
    return rows;
}

uint64_t round_count(double fraction, uint64_t total) {
    return static_cast<uint64_t>(std::llround(fraction * static_cast<double>(total)));
}

void split_random(std::vector<uint64_t> rows, const SplitSettings& settings, SplitRows& out) {
    // Fisher-Yates with a platform-independent generator.
    SplitMix64 generator(settings.seed);
    for (uint64_t index = rows.size(); index > 1; --index) {
        std::swap(rows[index - 1], rows[generator.below(index)]);
    }
    uint64_t test_count = round_count(settings.test, rows.size());
    uint64_t validation_count =
        std::min<uint64_t>(round_count(settings.validation, rows.size()), rows.size() - test_count);
    auto begin = rows.begin();
    out.test.assign(begin, begin + static_cast<ptrdiff_t>(test_count));
    out.validation.assign(begin + static_cast<ptrdiff_t>(test_count),
                          begin + static_cast<ptrdiff_t>(test_count + validation_count));
    out.train.assign(begin + static_cast<ptrdiff_t>(test_count + validation_count), rows.end());
}

// One global cut: every test row is at least as late as every other row, and every validation
// row at least as late as every training row. Rows that share the cut's timestamp all go to
// the later part, so the parts may be slightly larger than their fractions.
void split_time(std::vector<uint64_t> rows, const RawTable& table, const SplitSettings& settings,
                SplitRows& out) {
    const ColumnArray<double>& times = require_time_column(table).numeric;
    std::stable_sort(rows.begin(), rows.end(),
                     [&](uint64_t a, uint64_t b) { return times[a] < times[b]; });
    const uint64_t total = rows.size();
    uint64_t end = total;
    auto take_tail = [&](double fraction, std::vector<uint64_t>& part, double& start_time) {
        start_time = std::nan("");
        uint64_t wanted = round_count(fraction, total);
        if (wanted == 0 || end == 0) return;
        uint64_t begin = end - std::min(wanted, end);
        double cut = times[rows[begin]];
        while (begin > 0 && times[rows[begin - 1]] == cut) --begin;
        part.assign(rows.begin() + static_cast<ptrdiff_t>(begin),
                    rows.begin() + static_cast<ptrdiff_t>(end));
        start_time = cut;
        end = begin;
    };
    take_tail(settings.test, out.test, out.test_start_time);
    take_tail(settings.validation, out.validation, out.validation_start_time);
    out.train.assign(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(end));
}

// Per user, the last interaction (by timestamp, then file order) is the test row and, when
// validation is on, the one before it the validation row. A user needs one more interaction
// than the held-out rows, or all of their rows stay in training.
void split_leave_one_out(std::vector<uint64_t> rows, const RawTable& table,
                         const SplitSettings& settings, SplitRows& out) {
    const RawColumn& users = require_user_column(table, "split.method \"leave_one_out\"");
    const RawColumn* times = column_with_role(table, RECPRUNE_COLUMN_ROLE_TIMESTAMP);
    auto time_of = [&](uint64_t row) { return times == nullptr ? 0.0 : times->numeric[row]; };
    std::stable_sort(rows.begin(), rows.end(), [&](uint64_t a, uint64_t b) {
        if (users.keys[a] != users.keys[b]) return users.keys[a] < users.keys[b];
        double time_a = time_of(a), time_b = time_of(b);
        // NaN timestamps sort first, so a row without a time is never held out.
        if (std::isnan(time_a) || std::isnan(time_b))
            return std::isnan(time_a) && !std::isnan(time_b);
        return time_a < time_b;
    });
    const uint64_t held_out = settings.validation > 0.0 ? 2 : 1;
    size_t begin = 0;
    while (begin < rows.size()) {
        size_t end = begin;
        while (end < rows.size() && users.keys[rows[end]] == users.keys[rows[begin]]) ++end;
        size_t count = end - begin;
        size_t train_end = count > held_out ? end - held_out : end;
        out.train.insert(out.train.end(), rows.begin() + static_cast<ptrdiff_t>(begin),
                         rows.begin() + static_cast<ptrdiff_t>(train_end));
        if (count > held_out) {
            out.test.push_back(rows[end - 1]);
            if (held_out == 2) out.validation.push_back(rows[end - 2]);
        }
        begin = end;
    }
}

}  // namespace

SplitRows split_rows(const RawTable& table, const SplitSettings& settings) {
    SplitRows out;
    out.validation_start_time = std::nan("");
    out.test_start_time = std::nan("");
    std::vector<uint64_t> rows = filter_users(table, settings.min_user_interactions, out);
    if (settings.method == "random") {
        split_random(std::move(rows), settings, out);
    } else if (settings.method == "time") {
        split_time(std::move(rows), table, settings, out);
    } else if (settings.method == "leave_one_out") {
        split_leave_one_out(std::move(rows), table, settings, out);
    } else {
        throw ConfigError("invalid data settings: split.method \"" + settings.method +
                          "\" is not one of random, time, leave_one_out; use one of them");
    }
    std::sort(out.train.begin(), out.train.end());
    std::sort(out.validation.begin(), out.validation.end());
    std::sort(out.test.begin(), out.test.end());
    if (out.train.empty()) {
        throw DataError("empty training part: split \"" + settings.method + "\" of " +
                        std::to_string(table.row_count) + " rows (" +
                        std::to_string(out.rows_dropped_by_user_filter) +
                        " dropped by min_user_interactions) left no training rows; lower the "
                        "validation and test fractions or min_user_interactions");
    }
    return out;
}

}  // namespace recprune::data
