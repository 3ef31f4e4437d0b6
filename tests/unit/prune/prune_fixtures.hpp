// Hand-made tensors for the pruning tests: a model's parameters with real storage, viewed as
// the recprune_tensor_t array a model plugin hands the host.
#pragma once

#include "recprune/abi.h"

#include <cstdint>
#include <string>
#include <deque>
#include <vector>

namespace recprune::prune::testing {

/// One tensor with its own storage.
struct OwnedTensor {
    std::string name;
    recprune_tensor_role_t role = RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT;
    std::vector<uint64_t> shape;
    std::vector<float> data;
    std::vector<float> grad;
    uint32_t field = RECPRUNE_NO_FIELD;
};

/// A set of tensors plus their C views; views are rebuilt on every call to views(). A deque
/// keeps references from add() valid while more tensors are added.
class OwnedModel {
public:
    OwnedTensor& add(std::string name, recprune_tensor_role_t role, std::vector<uint64_t> shape,
                     std::vector<float> data, uint32_t field = RECPRUNE_NO_FIELD) {
        OwnedTensor tensor;
        tensor.name = std::move(name);
        tensor.role = role;
        tensor.shape = std::move(shape);
        tensor.data = std::move(data);
        tensor.grad.assign(tensor.data.size(), 0.0f);
        tensor.field = field;
        tensors_.push_back(std::move(tensor));
        return tensors_.back();
    }

    /// Adds a tensor of the given shape filled with 1, 2, 3, ... (distinct magnitudes).
    OwnedTensor& add_counting(std::string name, recprune_tensor_role_t role,
                              std::vector<uint64_t> shape, uint32_t field = RECPRUNE_NO_FIELD) {
        uint64_t count = 1;
        for (uint64_t extent : shape) count *= extent;
        std::vector<float> data(count);
        for (uint64_t element = 0; element < count; ++element) {
            data[element] = static_cast<float>(element + 1);
        }
        return add(std::move(name), role, std::move(shape), std::move(data), field);
    }

    std::deque<OwnedTensor>& tensors() { return tensors_; }

    const std::vector<recprune_tensor_t>& views() {
        views_.clear();
        for (OwnedTensor& tensor : tensors_) {
            recprune_tensor_t view{};
            view.struct_size = sizeof(view);
            view.role = tensor.role;
            view.name = tensor.name.c_str();
            view.rank = static_cast<uint32_t>(tensor.shape.size());
            view.field = tensor.field;
            for (size_t axis = 0; axis < tensor.shape.size(); ++axis) {
                view.shape[axis] = tensor.shape[axis];
            }
            view.element_count = tensor.data.size();
            view.data = tensor.data.data();
            view.grad = tensor.grad.data();
            views_.push_back(view);
        }
        return views_;
    }

private:
    std::deque<OwnedTensor> tensors_;
    std::vector<recprune_tensor_t> views_;
};

}  // namespace recprune::prune::testing
