// Builds unit blocks from a model's structure JSON, for pruners that need units outside a score
// call: a regularizer receives only the tensors and the structure. It follows the rules the host
// uses for units_json, described in docs/abi.md ("Pruning units"); the host has already checked
// the structure, so this code only guards against indexing outside a tensor.
#pragma once

#include "pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <map>
#include <span>
#include <string>
#include <vector>

namespace recprune::pruners {

namespace detail {

inline uint32_t find_tensor(std::span<const recprune_tensor_t> tensors, const std::string& name) {
    for (uint32_t index = 0; index < tensors.size(); ++index) {
        if (name == tensors[index].name) return index;
    }
    throw InvalidArgument("invalid model structure: tensor \"" + name +
                          "\" is not a tensor of the model; fix the model's get_structure");
}

inline std::vector<Slice> read_slices(std::span<const recprune_tensor_t> tensors,
                                      const json& entry, bool regular) {
    std::vector<Slice> slices;
    for (const json& object : entry.at("slices")) {
        Slice slice;
        slice.tensor = find_tensor(tensors, object.at("tensor").get<std::string>());
        slice.axis = object.at("axis").get<uint32_t>();
        slice.start = object.at("start").get<uint64_t>();
        slice.step = regular ? object.at("step").get<uint64_t>() : 0;
        slice.width = object.at("width").get<uint64_t>();
        if (slice.axis >= tensors[slice.tensor].rank) {
            throw InvalidArgument("invalid model structure: tensor " +
                                  std::string(tensors[slice.tensor].name) + ": axis " +
                                  std::to_string(slice.axis) + " is not below its rank; fix the "
                                  "model's get_structure");
        }
        slices.push_back(slice);
    }
    return slices;
}

inline void append_block(std::vector<Block>& blocks, uint64_t& offset, Block block) {
    if (block.count == 0) return;
    block.offset = offset;
    offset += block.count;
    blocks.push_back(std::move(block));
}

}  // namespace detail

/// Returns the unit blocks of `granularity`, in the order the host's units_json lists them.
inline std::vector<Block> blocks_from_structure(recprune_granularity_t granularity,
                                                std::span<const recprune_tensor_t> tensors,
                                                const json& structure) {
    std::vector<Block> blocks;
    uint64_t offset = 0;
    switch (granularity) {
    case RECPRUNE_GRANULARITY_WEIGHT:
        for (uint32_t index = 0; index < tensors.size(); ++index) {
            const recprune_tensor_t& tensor = tensors[index];
            if (tensor.role != RECPRUNE_TENSOR_ROLE_EMBEDDING &&
                tensor.role != RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT) {
                continue;
            }
            Block block{tensor.name, index, RECPRUNE_NO_FIELD, 0, tensor.element_count, {}};
            block.slices.push_back(Slice{index, 0, 0, 1, 1, true});
            detail::append_block(blocks, offset, std::move(block));
        }
        break;
    case RECPRUNE_GRANULARITY_NEURON:
        if (!structure.contains("neurons")) break;
        for (size_t layer = 0; layer < structure.at("neurons").size(); ++layer) {
            const json& entry = structure.at("neurons")[layer];
            Block block{entry.at("layer").get<std::string>(), static_cast<uint32_t>(layer),
                        RECPRUNE_NO_FIELD, 0, entry.at("count").get<uint64_t>(), {}};
            block.slices = detail::read_slices(tensors, entry, true);
            detail::append_block(blocks, offset, std::move(block));
        }
        break;
    case RECPRUNE_GRANULARITY_EMBEDDING_DIM:
        if (structure.contains("embedding_dims")) {
            const json& entry = structure.at("embedding_dims");
            Block block{"embedding_dims", 0, RECPRUNE_NO_FIELD, 0,
                        entry.at("count").get<uint64_t>(), {}};
            block.slices = detail::read_slices(tensors, entry, true);
            detail::append_block(blocks, offset, std::move(block));
        }
        break;
    case RECPRUNE_GRANULARITY_FIELD:
        if (!structure.contains("fields")) break;
        for (const json& entry : structure.at("fields")) {
            Block block{entry.at("name").get<std::string>(), 0, entry.at("field").get<uint32_t>(),
                        0, 1, {}};
            block.slices = detail::read_slices(tensors, entry, false);
            detail::append_block(blocks, offset, std::move(block));
        }
        break;
    case RECPRUNE_GRANULARITY_EMBEDDING_ROW: {
        std::map<uint32_t, std::vector<uint32_t>> tensors_by_field;
        for (uint32_t index = 0; index < tensors.size(); ++index) {
            if (tensors[index].role == RECPRUNE_TENSOR_ROLE_EMBEDDING &&
                tensors[index].element_count > 0) {
                tensors_by_field[tensors[index].field].push_back(index);
            }
        }
        for (const auto& [field, indices] : tensors_by_field) {
            Block block{tensors[indices.front()].name, field, field, 0,
                        tensors[indices.front()].shape[0], {}};
            for (uint32_t index : indices) block.slices.push_back(Slice{index, 0, 0, 1, 1, false});
            detail::append_block(blocks, offset, std::move(block));
        }
        break;
    }
    default:
        break;
    }
    return blocks;
}

}  // namespace recprune::pruners
