#include "prune/units.hpp"

#include "core/errors.hpp"
#include "core/join.hpp"
#include "core/json_io.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace recprune::prune {

namespace json = boost::json;

std::string_view granularity_name(recprune_granularity_t granularity) {
    switch (granularity) {
    case RECPRUNE_GRANULARITY_WEIGHT: return "weight";
    case RECPRUNE_GRANULARITY_NEURON: return "neuron";
    case RECPRUNE_GRANULARITY_EMBEDDING_ROW: return "embedding_row";
    case RECPRUNE_GRANULARITY_EMBEDDING_DIM: return "embedding_dim";
    case RECPRUNE_GRANULARITY_FIELD: return "field";
    default: return "unknown";
    }
}

std::optional<recprune_granularity_t> parse_granularity(std::string_view name) {
    for (auto granularity :
         {RECPRUNE_GRANULARITY_WEIGHT, RECPRUNE_GRANULARITY_NEURON,
          RECPRUNE_GRANULARITY_EMBEDDING_ROW, RECPRUNE_GRANULARITY_EMBEDDING_DIM,
          RECPRUNE_GRANULARITY_FIELD}) {
        if (granularity_name(granularity) == name) return granularity;
    }
    return std::nullopt;
}

/// Reads the model's structure JSON into UnitSet blocks, checking every slice against the
/// tensor shapes so that visiting a unit's elements can never index outside a tensor.
class UnitSetBuilder {
public:
    UnitSetBuilder(recprune_granularity_t granularity, std::span<const recprune_tensor_t> tensors,
                   const json::value& structure) {
        set_.granularity_ = granularity;
        for (uint32_t index = 0; index < tensors.size(); ++index) {
            const recprune_tensor_t& tensor = tensors[index];
            TensorShape shape;
            shape.name = tensor.name != nullptr ? tensor.name : "";
            shape.role = tensor.role;
            shape.rank = tensor.rank;
            shape.field = tensor.field;
            for (uint32_t axis = 0; axis < tensor.rank && axis < 4; ++axis) {
                shape.shape[axis] = tensor.shape[axis];
            }
            shape.element_count = tensor.element_count;
            tensor_index_[shape.name] = index;
            set_.shapes_.push_back(std::move(shape));
        }
        if (structure.is_object()) structure_ = structure.as_object();
    }

    UnitSet build() {
        switch (set_.granularity_) {
        case RECPRUNE_GRANULARITY_WEIGHT: add_weights(); break;
        case RECPRUNE_GRANULARITY_NEURON: add_neurons(); break;
        case RECPRUNE_GRANULARITY_EMBEDDING_ROW: add_embedding_rows(); break;
        case RECPRUNE_GRANULARITY_EMBEDDING_DIM: add_embedding_dims(); break;
        case RECPRUNE_GRANULARITY_FIELD: add_fields(); break;
        default:
            throw ConfigError("invalid granularity: " +
                              std::to_string(static_cast<int>(set_.granularity_)) +
                              ": not one of weight, neuron, embedding_row, embedding_dim, field; "
                              "declare one of these in the pruner's info");
        }
        return std::move(set_);
    }

private:
    void add_block(UnitBlock block) {
        if (block.count == 0) return;
        block.offset = set_.size_;
        set_.size_ += block.count;
        set_.blocks_.push_back(std::move(block));
    }

    void add_weights() {
        for (uint32_t index = 0; index < set_.shapes_.size(); ++index) {
            const TensorShape& shape = set_.shapes_[index];
            if (shape.role != RECPRUNE_TENSOR_ROLE_EMBEDDING &&
                shape.role != RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT) {
                continue;
            }
            UnitBlock block;
            block.name = shape.name;
            block.group = index;
            block.count = shape.element_count;
            block.slices.push_back(UnitSlice{index, 0, 0, 1, 1, true});
            add_block(std::move(block));
        }
    }

    void add_neurons() {
        const json::value* neurons = structure_.if_contains("neurons");
        if (neurons == nullptr) return;
        const json::array& layers = expect_array(*neurons, "$.neurons");
        for (size_t layer = 0; layer < layers.size(); ++layer) {
            std::string path = json_io::child_path("$.neurons", layer);
            const json::object& entry = expect_object(layers[layer], path);
            UnitBlock block;
            block.name = read_string(entry, "layer", path);
            block.group = static_cast<uint32_t>(layer);
            block.count = read_count(entry, "count", path);
            block.slices = read_slices(entry, path, block.count, true);
            add_block(std::move(block));
        }
    }

    void add_embedding_dims() {
        const json::value* dims = structure_.if_contains("embedding_dims");
        if (dims == nullptr) return;
        const json::object& entry = expect_object(*dims, "$.embedding_dims");
        UnitBlock block;
        block.name = "embedding_dims";
        block.count = read_count(entry, "count", "$.embedding_dims");
        block.slices = read_slices(entry, "$.embedding_dims", block.count, true);
        add_block(std::move(block));
    }

    void add_fields() {
        const json::value* fields = structure_.if_contains("fields");
        if (fields == nullptr) return;
        const json::array& entries = expect_array(*fields, "$.fields");
        for (size_t index = 0; index < entries.size(); ++index) {
            std::string path = json_io::child_path("$.fields", index);
            const json::object& entry = expect_object(entries[index], path);
            UnitBlock block;
            block.name = read_string(entry, "name", path);
            block.field = static_cast<uint32_t>(read_count(entry, "field", path));
            block.count = 1;
            block.slices = read_slices(entry, path, 1, false);
            add_block(std::move(block));
        }
    }

    void add_embedding_rows() {
        // Rows of a field are the same feature values in every embedding tensor of that field
        // (for example the first-order weights and the factors of a factorization machine).
        std::map<uint32_t, std::vector<uint32_t>> tensors_by_field;
        for (uint32_t index = 0; index < set_.shapes_.size(); ++index) {
            const TensorShape& shape = set_.shapes_[index];
            if (shape.role == RECPRUNE_TENSOR_ROLE_EMBEDDING && shape.element_count > 0) {
                tensors_by_field[shape.field].push_back(index);
            }
        }
        for (const auto& [field, tensor_indices] : tensors_by_field) {
            UnitBlock block;
            block.name = field_name(field, set_.shapes_[tensor_indices.front()].name);
            block.group = field;
            block.field = field;
            block.count = set_.shapes_[tensor_indices.front()].shape[0];
            for (uint32_t index : tensor_indices) {
                const TensorShape& shape = set_.shapes_[index];
                if (shape.shape[0] != block.count) {
                    throw PluginError(
                        "invalid model tensors: " + shape.name + ": " +
                        std::to_string(shape.shape[0]) + " rows, but " +
                        set_.shapes_[tensor_indices.front()].name + " of the same field " +
                        std::to_string(field) + " has " + std::to_string(block.count) +
                        "; give every embedding tensor of a field one row per vocabulary entry");
                }
                block.slices.push_back(UnitSlice{index, 0, 0, 1, 1, false});
            }
            add_block(std::move(block));
        }
    }

    /// Returns the name the structure gives field `field`, else `fallback`.
    std::string field_name(uint32_t field, const std::string& fallback) const {
        const json::value* fields = structure_.if_contains("fields");
        if (fields == nullptr || !fields->is_array()) return fallback;
        for (const json::value& entry : fields->as_array()) {
            if (!entry.is_object()) continue;
            const json::object& object = entry.as_object();
            const json::value* index = object.if_contains("field");
            const json::value* name = object.if_contains("name");
            if (index != nullptr && name != nullptr && name->is_string() && index->is_number() &&
                json_io::as_double(*index) == static_cast<double>(field)) {
                return std::string(name->as_string());
            }
        }
        return fallback;
    }

    /// Reads `entry.slices`. Regular slices (neurons, embedding dimensions) repeat with `step`
    /// for `count` units; field slices are explicit and take no step.
    std::vector<UnitSlice> read_slices(const json::object& entry, const std::string& path,
                                       uint64_t count, bool regular) const {
        std::string slices_path = path + ".slices";
        const json::value* slices = entry.if_contains("slices");
        if (slices == nullptr) fail(slices_path, "is missing", "list the tensor slices");
        const json::array& array = expect_array(*slices, slices_path);
        std::vector<UnitSlice> result;
        for (size_t index = 0; index < array.size(); ++index) {
            std::string slice_path = json_io::child_path(slices_path, index);
            const json::object& object = expect_object(array[index], slice_path);
            UnitSlice slice;
            std::string name = read_string(object, "tensor", slice_path);
            auto found = tensor_index_.find(name);
            if (found == tensor_index_.end()) {
                fail(slice_path + ".tensor", "\"" + name + "\" is not a tensor of the model",
                     "name a tensor that get_tensors returns");
            }
            slice.tensor = found->second;
            slice.axis = static_cast<uint32_t>(read_count(object, "axis", slice_path));
            slice.start = read_count(object, "start", slice_path);
            slice.step = regular ? read_count(object, "step", slice_path) : 0;
            slice.width = read_count(object, "width", slice_path);
            check_slice(slice, count, slice_path);
            result.push_back(slice);
        }
        return result;
    }

    void check_slice(const UnitSlice& slice, uint64_t count, const std::string& path) const {
        const TensorShape& shape = set_.shapes_[slice.tensor];
        if (slice.axis >= shape.rank) {
            fail(path + ".axis",
                 std::to_string(slice.axis) + " is not below the rank " +
                     std::to_string(shape.rank) + " of " + shape.name,
                 "give an axis of the tensor");
        }
        if (slice.width == 0) fail(path + ".width", "0 is not positive", "give a width >= 1");
        if (count == 0) return;
        uint64_t end = slice.start + (count - 1) * slice.step + slice.width;
        if (end > shape.shape[slice.axis]) {
            fail(path,
                 "the last unit ends at index " + std::to_string(end) + " of axis " +
                     std::to_string(slice.axis) + ", past the extent " +
                     std::to_string(shape.shape[slice.axis]) + " of " + shape.name,
                 "check start, step, width and count against the tensor shape");
        }
    }

    [[noreturn]] static void fail(const std::string& path, const std::string& why,
                                  const std::string& fix) {
        throw PluginError("invalid model structure: " + path + ": " + why + "; " + fix +
                          " in the model's get_structure");
    }

    static const json::array& expect_array(const json::value& value, const std::string& path) {
        if (!value.is_array()) fail(path, "is not an array", "give a JSON array");
        return value.as_array();
    }

    static const json::object& expect_object(const json::value& value, const std::string& path) {
        if (!value.is_object()) fail(path, "is not an object", "give a JSON object");
        return value.as_object();
    }

    static std::string read_string(const json::object& object, std::string_view key,
                                   const std::string& path) {
        const json::value* value = object.if_contains(key);
        std::string key_path = json_io::child_path(path, key);
        if (value == nullptr) fail(key_path, "is missing", "add it");
        if (!value->is_string()) fail(key_path, "is not a string", "give a string");
        return std::string(value->as_string());
    }

    static uint64_t read_count(const json::object& object, std::string_view key,
                               const std::string& path) {
        const json::value* value = object.if_contains(key);
        std::string key_path = json_io::child_path(path, key);
        if (value == nullptr) fail(key_path, "is missing", "add it");
        if (value->is_uint64()) return value->as_uint64();
        if (value->is_int64() && value->as_int64() >= 0) {
            return static_cast<uint64_t>(value->as_int64());
        }
        fail(key_path, json_io::serialize(*value) + " is not a non-negative integer",
             "give a whole number >= 0");
    }

    UnitSet set_;
    json::object structure_;
    std::map<std::string, uint32_t> tensor_index_;
};

UnitSet UnitSet::build(recprune_granularity_t granularity,
                       std::span<const recprune_tensor_t> tensors, const json::value& structure) {
    UnitSet set = UnitSetBuilder(granularity, tensors, structure).build();
    if (set.size() == 0) {
        const std::string supported = join_mapped(
            supported_granularities(tensors, structure),
            [](recprune_granularity_t other) { return granularity_name(other); });
        throw ConfigError("no prunable units: granularity " +
                          std::string(granularity_name(granularity)) +
                          ": the model has no unit of this kind; choose a pruner granularity "
                          "the model supports (" +
                          (supported.empty() ? std::string("none") : supported) + ")");
    }
    return set;
}

std::vector<recprune_granularity_t> UnitSet::supported_granularities(
    std::span<const recprune_tensor_t> tensors, const json::value& structure) {
    std::vector<recprune_granularity_t> result;
    for (auto granularity :
         {RECPRUNE_GRANULARITY_WEIGHT, RECPRUNE_GRANULARITY_NEURON,
          RECPRUNE_GRANULARITY_EMBEDDING_ROW, RECPRUNE_GRANULARITY_EMBEDDING_DIM,
          RECPRUNE_GRANULARITY_FIELD}) {
        if (UnitSetBuilder(granularity, tensors, structure).build().size() > 0) {
            result.push_back(granularity);
        }
    }
    return result;
}

size_t UnitSet::block_index(uint64_t unit) const {
    auto after = std::upper_bound(blocks_.begin(), blocks_.end(), unit,
                                  [](uint64_t u, const UnitBlock& block) { return u < block.offset; });
    return static_cast<size_t>(after - blocks_.begin()) - 1;
}

boost::json::object UnitSet::pruned_summary(std::span<const uint8_t> pruned) const {
    json::array blocks;
    json::array names;
    uint64_t pruned_total = 0;
    for (const UnitBlock& block : blocks_) {
        uint64_t pruned_in_block = 0;
        for (uint64_t unit = block.offset; unit < block.offset + block.count; ++unit) {
            if (unit < pruned.size() && pruned[unit] != 0) ++pruned_in_block;
        }
        pruned_total += pruned_in_block;
        blocks.push_back(json::object{{"name", block.name}, {"count", block.count},
                                      {"pruned", pruned_in_block}});
        bool named_units = granularity_ == RECPRUNE_GRANULARITY_FIELD;
        if (named_units && pruned_in_block > 0) names.push_back(json::string(block.name));
    }

    json::object summary;
    summary["granularity"] = granularity_name(granularity_);
    summary["unit_count"] = size_;
    summary["pruned_count"] = pruned_total;
    summary["blocks"] = std::move(blocks);
    if (granularity_ == RECPRUNE_GRANULARITY_FIELD) summary["pruned_names"] = std::move(names);
    return summary;
}

std::string UnitSet::units_json() const {
    json::array blocks;
    for (const UnitBlock& block : blocks_) {
        json::object entry;
        entry["name"] = block.name;
        entry["group"] = block.group;
        entry["offset"] = block.offset;
        entry["count"] = block.count;
        switch (granularity_) {
        case RECPRUNE_GRANULARITY_WEIGHT: entry["tensor"] = block.group; break;
        case RECPRUNE_GRANULARITY_NEURON: entry["layer"] = block.name; break;
        case RECPRUNE_GRANULARITY_EMBEDDING_ROW:
            entry["field"] = block.field;
            entry["rows"] = block.count;
            break;
        case RECPRUNE_GRANULARITY_FIELD: entry["field"] = block.field; break;
        default: break;
        }
        json::array slices;
        for (const UnitSlice& slice : block.slices) {
            json::object object;
            object["tensor"] = slice.tensor;
            object["name"] = shapes_[slice.tensor].name;
            object["axis"] = slice.axis;
            object["start"] = slice.start;
            object["step"] = slice.step;
            object["width"] = slice.width;
            if (slice.flat) object["flat"] = true;
            slices.push_back(std::move(object));
        }
        entry["slices"] = std::move(slices);
        blocks.push_back(std::move(entry));
    }

    json::object root;
    root["granularity"] = granularity_name(granularity_);
    root["unit_count"] = size_;
    root["blocks"] = std::move(blocks);
    return json_io::serialize(root);
}

}  // namespace recprune::prune
