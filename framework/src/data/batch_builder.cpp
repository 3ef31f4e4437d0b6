#include "data/batch_builder.hpp"

#include <stdexcept>
#include <string>

namespace recprune::data {

BatchBuilder::BatchBuilder(const Part& part, uint32_t field_count, uint32_t dense_count)
    : part_(part), field_count_(field_count), dense_count_(dense_count) {
    if (part.ids.size() != field_count || part.offsets.size() != field_count) {
        throw std::invalid_argument("batch builder: part has " + std::to_string(part.ids.size()) +
                                    " fields, expected " + std::to_string(field_count));
    }
    if (part.dense.size() != part.row_count * dense_count) {
        throw std::invalid_argument("batch builder: part has " + std::to_string(part.dense.size()) +
                                    " dense values, expected rows x " +
                                    std::to_string(dense_count));
    }
    if (part.labels.size() != part.row_count) {
        throw std::invalid_argument("batch builder: part has " +
                                    std::to_string(part.labels.size()) + " labels for " +
                                    std::to_string(part.row_count) + " rows");
    }
    remap_.resize(field_count);
    ids_.resize(field_count);
    offsets_.resize(field_count);
    id_pointers_.resize(field_count);
    offset_pointers_.resize(field_count);
}

void BatchBuilder::set_row_remap(std::vector<std::vector<uint32_t>> remap) {
    if (remap.size() > field_count_) {
        throw std::invalid_argument("batch builder: " + std::to_string(remap.size()) +
                                    " row maps for " + std::to_string(field_count_) + " fields");
    }
    remap.resize(field_count_);
    remap_ = std::move(remap);
}

uint32_t remapped_id(const std::vector<uint32_t>& remap, uint32_t id, uint32_t field,
                     const char* owner) {
    if (remap.empty()) return id;
    if (id >= remap.size()) {
        throw std::out_of_range(std::string(owner) + ": field " + std::to_string(field) +
                                " id " + std::to_string(id) + " is past its row map of " +
                                std::to_string(remap.size()) + " entries");
    }
    return remap[id];
}

const recprune_batch_t& BatchBuilder::build(std::span<const uint64_t> rows) {
    for (uint64_t row : rows) {
        if (row >= part_.row_count) {
            throw std::out_of_range("batch builder: row " + std::to_string(row) +
                                    " is past the part's " + std::to_string(part_.row_count) +
                                    " rows");
        }
    }

    for (uint32_t field = 0; field < field_count_; ++field) {
        const std::vector<uint32_t>& source = part_.ids[field];
        const std::vector<uint64_t>& source_offsets = part_.offsets[field];
        const std::vector<uint32_t>& remap = remap_[field];
        std::vector<uint32_t>& ids = ids_[field];
        ids.clear();
        auto mapped = [&](uint32_t id) { return remapped_id(remap, id, field, "batch builder"); };
        if (source_offsets.empty()) {
            ids.resize(rows.size());
            for (size_t position = 0; position < rows.size(); ++position) {
                ids[position] = mapped(source[rows[position]]);
            }
            id_pointers_[field] = ids.data();
            offset_pointers_[field] = nullptr;
            continue;
        }
        std::vector<uint64_t>& offsets = offsets_[field];
        offsets.assign(1, 0);
        for (uint64_t row : rows) {
            for (uint64_t value = source_offsets[row]; value < source_offsets[row + 1]; ++value) {
                ids.push_back(mapped(source[value]));
            }
            offsets.push_back(ids.size());
        }
        id_pointers_[field] = ids.data();
        offset_pointers_[field] = offsets.data();
    }

    dense_.resize(rows.size() * dense_count_);
    for (size_t position = 0; position < rows.size(); ++position) {
        const float* source = part_.dense.data() + rows[position] * dense_count_;
        std::copy(source, source + dense_count_, dense_.data() + position * dense_count_);
    }
    labels_.resize(rows.size());
    for (size_t position = 0; position < rows.size(); ++position) {
        labels_[position] = part_.labels[rows[position]];
    }

    batch_ = recprune_batch_t{};
    batch_.struct_size = sizeof(recprune_batch_t);
    batch_.field_count = field_count_;
    batch_.row_count = rows.size();
    batch_.ids = id_pointers_.data();
    batch_.offsets = offset_pointers_.data();
    batch_.dense = dense_count_ > 0 ? dense_.data() : nullptr;
    batch_.dense_count = dense_count_;
    batch_.labels = labels_.data();
    return batch_;
}

}  // namespace recprune::data
