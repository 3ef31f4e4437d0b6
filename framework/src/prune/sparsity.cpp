#include "prune/sparsity.hpp"

#include <limits>
#include <stdexcept>

namespace recprune::prune {

double SparsityCounts::sparsity() const {
    if (total == 0) return std::numeric_limits<double>::quiet_NaN();
    return static_cast<double>(pruned) / static_cast<double>(total);
}

boost::json::object SparsityCounts::to_json() const {
    boost::json::object object;
    // No elements means no sparsity at all, not a sparsity of 0: write null.
    if (total == 0) {
        object["sparsity"] = nullptr;
    } else {
        object["sparsity"] = sparsity();
    }
    object["pruned"] = pruned;
    object["zero"] = zero;
    object["total"] = total;
    return object;
}

std::string role_name(uint32_t role) {
    switch (role) {
    case RECPRUNE_TENSOR_ROLE_EMBEDDING: return "embedding";
    case RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT: return "dense_weight";
    case RECPRUNE_TENSOR_ROLE_BIAS: return "bias";
    default: return "other";
    }
}

namespace {

void add_counts(SparsityCounts& sum, const SparsityCounts& part) {
    sum.total += part.total;
    sum.pruned += part.pruned;
    sum.zero += part.zero;
}

}  // namespace

SparsityReport measure_sparsity(std::span<const recprune_tensor_t> tensors, const MaskSet& masks) {
    if (tensors.size() != masks.tensor_count()) {
        throw std::invalid_argument("sparsity measurement failed: " +
                                    std::to_string(tensors.size()) + " tensors given, the masks "
                                    "cover " + std::to_string(masks.tensor_count()) +
                                    "; pass the tensors of the model the masks were made for");
    }

    SparsityReport report;
    for (uint32_t index = 0; index < tensors.size(); ++index) {
        const recprune_tensor_t& tensor = tensors[index];
        if (tensor.element_count != masks.element_count(index)) {
            throw std::invalid_argument("sparsity measurement failed: tensor " +
                                        std::string(tensor.name) + " has " +
                                        std::to_string(tensor.element_count) +
                                        " elements, the mask " +
                                        std::to_string(masks.element_count(index)) +
                                        "; pass the tensors of the model the masks were made for");
        }

        TensorSparsity entry;
        entry.name = tensor.name;
        entry.role = tensor.role;
        entry.counts.total = tensor.element_count;
        entry.counts.pruned = masks.pruned_element_count(index);
        const uint8_t* mask = masks.mask(index);
        uint64_t nonzero = 0;
        for (uint64_t element = 0; element < tensor.element_count; ++element) {
            bool is_pruned = mask != nullptr && mask[element] == 0;
            bool is_zero = tensor.data[element] == 0.0f;
            if (is_zero) ++entry.counts.zero;
            if (!is_zero && !is_pruned) ++nonzero;
        }
        report.nonzero_parameter_count += nonzero;

        add_counts(report.all_parameters, entry.counts);
        if (tensor.role == RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT) {
            add_counts(report.dense_weights, entry.counts);
            add_counts(report.prunable_weights, entry.counts);
        } else if (tensor.role == RECPRUNE_TENSOR_ROLE_EMBEDDING) {
            add_counts(report.embeddings, entry.counts);
            add_counts(report.prunable_weights, entry.counts);
        }
        report.tensors.push_back(std::move(entry));
    }
    return report;
}

boost::json::object SparsityReport::to_json() const {
    boost::json::object object;
    object["dense_weights"] = dense_weights.to_json();
    object["embeddings"] = embeddings.to_json();
    object["prunable_weights"] = prunable_weights.to_json();
    object["all_parameters"] = all_parameters.to_json();
    object["nonzero_parameter_count"] = nonzero_parameter_count;
    boost::json::array list;
    for (const TensorSparsity& tensor : tensors) {
        boost::json::object entry = tensor.counts.to_json();
        entry["name"] = tensor.name;
        entry["role"] = role_name(tensor.role);
        list.push_back(std::move(entry));
    }
    object["tensors"] = std::move(list);
    return object;
}

}  // namespace recprune::prune
