#include "data/raw_table.hpp"

#include "core/errors.hpp"

#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <unordered_set>

namespace recprune::data {
namespace {

const char* type_name(uint32_t type) {
    switch (type) {
        case RECPRUNE_COLUMN_TYPE_CATEGORICAL:
            return "categorical";
        case RECPRUNE_COLUMN_TYPE_MULTI_HOT:
            return "multi-hot";
        case RECPRUNE_COLUMN_TYPE_NUMERIC:
            return "numeric";
        default:
            return "unknown";
    }
}

[[noreturn]] void fail_column(const std::string& column, const std::string& why) {
    throw PluginError("invalid dataset table: column \"" + column + "\": " + why +
                      "; fix the dataset plugin");
}

void check_column(const RawColumn& column, uint64_t row_count) {
    switch (column.type) {
        case RECPRUNE_COLUMN_TYPE_NUMERIC:
            if (column.numeric.size() != row_count) {
                fail_column(column.name, "has " + std::to_string(column.numeric.size()) +
                                             " numeric values for " + std::to_string(row_count) +
                                             " rows");
            }
            break;
        case RECPRUNE_COLUMN_TYPE_CATEGORICAL:
            if (column.keys.size() != row_count) {
                fail_column(column.name, "has " + std::to_string(column.keys.size()) +
                                             " keys for " + std::to_string(row_count) + " rows");
            }
            break;
        case RECPRUNE_COLUMN_TYPE_MULTI_HOT: {
            if (column.offsets.size() != row_count + 1) {
                fail_column(column.name, "has " + std::to_string(column.offsets.size()) +
                                             " offsets, expected row_count + 1 = " +
                                             std::to_string(row_count + 1));
            }
            if (column.offsets.front() != 0 || column.offsets.back() != column.keys.size()) {
                fail_column(column.name, "offsets run from " +
                                             std::to_string(column.offsets.front()) + " to " +
                                             std::to_string(column.offsets.back()) +
                                             ", expected 0 to the key count " +
                                             std::to_string(column.keys.size()));
            }
            for (size_t row = 0; row < row_count; ++row) {
                if (column.offsets[row + 1] < column.offsets[row]) {
                    fail_column(column.name, "offsets decrease at row " + std::to_string(row));
                }
            }
            break;
        }
        default:
            fail_column(column.name, "has unknown type " + std::to_string(column.type));
    }
    bool numeric_role =
        (column.roles & (RECPRUNE_COLUMN_ROLE_LABEL | RECPRUNE_COLUMN_ROLE_TIMESTAMP)) != 0;
    if (numeric_role && column.type != RECPRUNE_COLUMN_TYPE_NUMERIC) {
        fail_column(column.name, std::string("is ") + type_name(column.type) +
                                     " but has the label or timestamp role, which needs a "
                                     "numeric column");
    }
}

// A plugin that gives no name still gets a unique one for messages.
std::string unnamed_column(uint32_t index) {
    std::string name(1, '#');
    name.append(std::to_string(index));
    return name;
}

}  // namespace

uint64_t RawTable::columnar_bytes() const {
    uint64_t bytes = 0;
    for (const RawColumn& column : columns) {
        bytes += column.numeric.size() * sizeof(double) + column.keys.size() * sizeof(uint64_t) +
                 column.offsets.size() * sizeof(uint64_t);
    }
    return bytes;
}

int RawTable::find_role(recprune_column_role_t role) const {
    for (size_t index = 0; index < columns.size(); ++index) {
        if (columns[index].has_role(role)) return static_cast<int>(index);
    }
    return -1;
}

void validate_table(const RawTable& table) {
    std::unordered_set<std::string_view> names;
    for (const RawColumn& column : table.columns) {
        if (column.name.empty()) fail_column(column.name, "has an empty name");
        if (!names.insert(column.name).second) fail_column(column.name, "appears twice");
        check_column(column, table.row_count);
    }
}

namespace {

// Copies (owner empty) or borrows (owner set) the arrays of a plugin's table.
RawTable take_table(const recprune_table_t& table, const std::shared_ptr<const void>& owner) {
    RawTable out;
    out.row_count = table.row_count;
    if (table.column_count > 0 && table.columns == nullptr) {
        throw PluginError("invalid dataset table: column_count is " +
                          std::to_string(table.column_count) +
                          " but columns is NULL; fix the dataset plugin");
    }
    auto take = [&](auto& target, const auto* source, uint64_t count) {
        if (count == 0) return;
        if (owner) {
            target = std::remove_reference_t<decltype(target)>::borrow(source, count, owner);
        } else {
            target.assign(source, source + count);
        }
    };
    out.columns.reserve(table.column_count);
    for (uint32_t index = 0; index < table.column_count; ++index) {
        const recprune_column_t& source = table.columns[index];
        RawColumn column;
        column.name = source.name != nullptr ? source.name : "";
        if (column.name.empty()) column.name = unnamed_column(index);
        column.type = source.type;
        column.roles = source.roles;
        const uint64_t rows = table.row_count;
        auto require = [&](const void* pointer, const char* array, uint64_t count) {
            if (pointer == nullptr && count > 0) {
                fail_column(column.name, std::string(array) + " is NULL for " +
                                             std::to_string(count) + " values");
            }
        };
        switch (source.type) {
            case RECPRUNE_COLUMN_TYPE_NUMERIC:
                require(source.numeric, "numeric", rows);
                take(column.numeric, source.numeric, rows);
                break;
            case RECPRUNE_COLUMN_TYPE_CATEGORICAL:
                require(source.keys, "keys", rows);
                take(column.keys, source.keys, rows);
                break;
            case RECPRUNE_COLUMN_TYPE_MULTI_HOT:
                require(source.offsets, "offsets", rows + 1);
                require(source.keys, "keys", source.value_count);
                take(column.offsets, source.offsets, rows + 1);
                take(column.keys, source.keys, source.value_count);
                break;
            default:
                fail_column(column.name, "has unknown type " + std::to_string(source.type));
        }
        out.columns.push_back(std::move(column));
    }
    if (table.metadata_json != nullptr && table.metadata_json[0] != '\0') {
        out.metadata_json = table.metadata_json;
    }
    validate_table(out);
    return out;
}

}  // namespace

RawTable copy_table(const recprune_table_t& table) {
    return take_table(table, nullptr);
}

RawTable adopt_table(const recprune_table_t& table, std::shared_ptr<const void> owner) {
    if (!owner) throw std::invalid_argument("adopt_table: owner is empty");
    return take_table(table, owner);
}

}  // namespace recprune::data
