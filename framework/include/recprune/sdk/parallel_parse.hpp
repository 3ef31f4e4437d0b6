// Parsing one large line-oriented file on several threads with oneTBB, for dataset plugins
// whose rows are one line each and whose columns hold one value per row (Criteo, Avazu).
//
// The file is read once to cut it into chunks at line ends and count their lines; the columns
// are then sized exactly, and each chunk is read with pread and parsed straight into its own
// row range. So peak memory is the final columns plus one chunk buffer per thread, and the
// rows come out in file order whatever the thread count. Plugins that include this header
// link TBB::tbb.
#pragma once

#include "recprune/sdk/text.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace recprune::text {

struct ParallelParseOptions {
    /// Worker threads; 0 lets oneTBB use every core it may.
    unsigned threads = 0;
    /// Target chunk size; a chunk ends at the first line end past it.
    uint64_t chunk_bytes = 16u << 20;
};

namespace detail {

// What one chunk left behind: rows to drop and, under the skip policy, the bad lines seen.
struct ChunkOutcome {
    std::vector<uint64_t> dropped_rows;
    BadLines bad_lines{"skip"};
    std::exception_ptr failure;
};

inline void resize_column(Column& column, uint64_t rows) {
    if (column.type == RECPRUNE_COLUMN_TYPE_NUMERIC) {
        column.numeric.resize(rows);
    } else {
        column.keys.resize(rows);
    }
}

// Removes `dropped` rows (ascending) from a single-valued column, keeping the order.
template <typename T>
void remove_rows(std::vector<T>& values, const std::vector<uint64_t>& dropped) {
    size_t write = 0;
    size_t next_drop = 0;
    for (size_t read = 0; read < values.size(); ++read) {
        if (next_drop < dropped.size() && dropped[next_drop] == read) {
            ++next_drop;
            continue;
        }
        values[write++] = values[read];
    }
    values.resize(write);
}

}  // namespace detail

/// Parses every line of `path` into the single-valued `columns` and returns the row count.
///
/// `parse_line(std::string_view line, const Location& where, uint64_t row)` writes row `row`
/// of every column and returns true, returns false for a line that is not a row (a header),
/// or throws ParseError for a malformed line. It runs concurrently on different rows, so it
/// may only write its own row. Under the "fail" policy of `bad_lines` the error of the first
/// bad line in file order is thrown; under "skip" bad lines are counted and left out.
template <typename ParseLine>
uint64_t parse_lines_parallel(const std::string& path, std::string_view what,
                              const std::vector<Column*>& columns, BadLines& bad_lines,
                              const ParallelParseOptions& options, ParseLine&& parse_line) {
    std::vector<Chunk> chunks = plan_chunks(path, what, options.chunk_bytes);
    uint64_t line_count = chunks.empty() ? 0 : chunks.back().first_row + chunks.back().line_count;
    for (Column* column : columns) detail::resize_column(*column, line_count);

    FileDescriptor fd = open_for_reading(path, what);
    std::vector<detail::ChunkOutcome> outcomes(chunks.size());
    const bool skip = bad_lines.skipping();
    auto parse_chunk = [&](size_t chunk_index) {
        const Chunk& chunk = chunks[chunk_index];
        detail::ChunkOutcome& outcome = outcomes[chunk_index];
        try {
            std::string buffer;
            LineCursor cursor(read_chunk(fd.get(), path, chunk, buffer), chunk.first_line);
            std::string_view line;
            uint64_t row = chunk.first_row;
            while (cursor.next(line)) {
                const Location where{path, cursor.line_number()};
                try {
                    if (!parse_line(line, where, row)) outcome.dropped_rows.push_back(row);
                } catch (const ParseError& error) {
                    if (!skip) throw;
                    outcome.bad_lines.record(error);
                    outcome.dropped_rows.push_back(row);
                }
                ++row;
            }
        } catch (...) {
            outcome.failure = std::current_exception();
        }
    };
    auto run_all = [&] {
        tbb::parallel_for(tbb::blocked_range<size_t>(0, chunks.size(), 1),
                          [&](const tbb::blocked_range<size_t>& range) {
                              for (size_t index = range.begin(); index != range.end(); ++index) {
                                  parse_chunk(index);
                              }
                          });
    };
    if (options.threads > 0) {
        tbb::task_arena arena(static_cast<int>(options.threads));
        arena.execute(run_all);
    } else {
        run_all();
    }

    // Report in file order, so the outcome does not depend on thread timing.
    std::vector<uint64_t> dropped;
    for (detail::ChunkOutcome& outcome : outcomes) {
        if (outcome.failure) std::rethrow_exception(outcome.failure);
        bad_lines.merge(outcome.bad_lines);
        dropped.insert(dropped.end(), outcome.dropped_rows.begin(), outcome.dropped_rows.end());
    }
    if (!dropped.empty()) {
        for (Column* column : columns) {
            if (column->type == RECPRUNE_COLUMN_TYPE_NUMERIC) {
                detail::remove_rows(column->numeric, dropped);
            } else {
                detail::remove_rows(column->keys, dropped);
            }
        }
    }
    return line_count - dropped.size();
}

}  // namespace recprune::text
