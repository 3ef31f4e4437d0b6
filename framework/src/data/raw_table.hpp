// The host's columnar copy of a dataset plugin's table: one array per column, no per-row
// objects, so it can be cached as flat arrays and shared read-only between cells.
#pragma once

#include "data/column_array.hpp"

#include "recprune/abi.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace recprune::data {

/// One raw column. Which arrays are filled depends on `type` (a recprune_column_type_t):
/// NUMERIC fills `numeric` (NaN = missing); CATEGORICAL fills `keys` (one per row); MULTI_HOT
/// fills `keys` and `offsets` (row_count + 1 entries). The arrays may borrow the memory of a
/// plugin's table or of a mapped cache file instead of owning a copy.
struct RawColumn {
    std::string name;
    uint32_t type = RECPRUNE_COLUMN_TYPE_CATEGORICAL;
    /// OR of recprune_column_role_t flags.
    uint32_t roles = 0;
    ColumnArray<double> numeric;
    ColumnArray<uint64_t> keys;
    ColumnArray<uint64_t> offsets;

    bool has_role(recprune_column_role_t role) const { return (roles & role) != 0; }
};

/// A dataset as parsed by its plugin, before any split or vocabulary.
struct RawTable {
    uint64_t row_count = 0;
    std::vector<RawColumn> columns;
    /// The plugin's metadata JSON object as text ("{}" when it gave none).
    std::string metadata_json = "{}";

    /// Bytes held by the column arrays (the "columnar bytes" memory is measured against).
    uint64_t columnar_bytes() const;
    /// Index of the first column carrying `role`, or -1.
    int find_role(recprune_column_role_t role) const;
};

/// Copies a plugin's table into host-owned arrays and checks it: known column types, unique
/// non-empty names, arrays present and sized for row_count, offsets that start at 0, never
/// decrease and end at value_count. Throws PluginError naming the column on any violation.
RawTable copy_table(const recprune_table_t& table);

/// Runs the checks of copy_table but borrows the plugin's arrays instead of copying them, so a
/// large table is not held twice. `owner` must keep the plugin's dataset handle (and so its
/// arrays) alive; the returned table holds it until the table and every copy of its columns
/// are gone.
RawTable adopt_table(const recprune_table_t& table, std::shared_ptr<const void> owner);

/// Runs the same checks as copy_table on a host-owned table (for tables read from a cache).
void validate_table(const RawTable& table);

}  // namespace recprune::data
