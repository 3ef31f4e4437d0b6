#include "train/finite_checks.hpp"

#include "core/errors.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

using recprune::CellError;
using recprune::metrics::MetricValue;
using namespace recprune::train;

namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// A tensor over caller-owned buffers, as a model plugin hands it to the host.
recprune_tensor_t make_tensor(const char* name, recprune_tensor_role_t role, uint64_t rows,
                              uint64_t width, std::vector<float>& data, std::vector<float>& grad) {
    data.assign(rows * width, 0.0f);
    grad.assign(rows * width, 0.0f);
    recprune_tensor_t tensor{};
    tensor.struct_size = sizeof(tensor);
    tensor.role = role;
    tensor.name = name;
    tensor.rank = 2;
    tensor.field = role == RECPRUNE_TENSOR_ROLE_EMBEDDING ? 0 : RECPRUNE_NO_FIELD;
    tensor.shape[0] = rows;
    tensor.shape[1] = width;
    tensor.element_count = rows * width;
    tensor.data = data.data();
    tensor.grad = grad.data();
    return tensor;
}

std::string message_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const CellError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("finite checks: NaN embedding grad is named") {
    std::vector<float> data, grad;
    recprune_tensor_t embedding =
        make_tensor("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, 5, 4, data, grad);
    grad[3 * 4 + 2] = kNan;  // row 3, element 2
    std::vector<uint32_t> touched{1, 3};
    std::vector<recprune_tensor_t> tensors{embedding};

    std::string message = message_of([&] {
        check_grads_finite(
            tensors, [&](uint32_t) { return std::span<const uint32_t>(touched); }, {2, 17});
    });

    CHECK(message == "gradient is not finite at epoch 2, step 17, tensor embedding.user, row 3: "
                     "element 2 is NaN; lower the learning rate or check the input data");
}

TEST_CASE("finite checks: rows no backward pass touched are not read") {
    std::vector<float> data, grad;
    recprune_tensor_t embedding =
        make_tensor("embedding.item", RECPRUNE_TENSOR_ROLE_EMBEDDING, 5, 4, data, grad);
    // Stale memory in untouched rows is allowed: the optimizer never reads it.
    grad[0] = kNan;
    grad[4 * 4] = kInf;
    std::vector<uint32_t> touched{1, 2};
    std::vector<recprune_tensor_t> tensors{embedding};

    CHECK_NOTHROW(check_grads_finite(
        tensors, [&](uint32_t) { return std::span<const uint32_t>(touched); }, {1, 0}));
}

TEST_CASE("finite checks: a touched row beyond the table is an error") {
    std::vector<float> data, grad;
    recprune_tensor_t embedding =
        make_tensor("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING, 5, 4, data, grad);
    std::vector<uint32_t> touched{5};
    std::vector<recprune_tensor_t> tensors{embedding};

    std::string message = message_of([&] {
        check_grads_finite(
            tensors, [&](uint32_t) { return std::span<const uint32_t>(touched); }, {1, 4});
    });

    CHECK(message == "touched row out of range at epoch 1, step 4, tensor embedding.user: row 5 "
                     "of a table of 5 rows; the model plugin lists rows it does not have");
}

TEST_CASE("finite checks: an infinite dense grad names the tensor and element") {
    std::vector<float> embedding_data, embedding_grad, dense_data, dense_grad;
    recprune_tensor_t embedding = make_tensor("embedding.user", RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                              3, 2, embedding_data, embedding_grad);
    recprune_tensor_t dense =
        make_tensor("mlp.0.weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, 2, 3, dense_data, dense_grad);
    dense_grad[4] = -kInf;
    std::vector<recprune_tensor_t> tensors{embedding, dense};

    std::string message = message_of([&] {
        check_grads_finite(
            tensors, [](uint32_t) { return std::span<const uint32_t>(); }, {3, 250});
    });

    CHECK(message == "gradient is not finite at epoch 3, step 250, tensor mlp.0.weight: element "
                     "4 is -inf; lower the learning rate or check the input data");
}

TEST_CASE("finite checks: a NaN prediction names the part and row") {
    std::vector<float> predictions{0.25f, 0.5f, kNan, 0.75f};

    std::string message =
        message_of([&] { check_predictions_finite(predictions, "validation", {4, 80}); });

    CHECK(message == "prediction is not finite after epoch 4, step 80: row 2 of the validation "
                     "part is NaN; lower the learning rate or check the input data");
}

TEST_CASE("finite checks: finite predictions and metrics pass") {
    std::vector<float> predictions{0.0f, 1.0f, -3.5f};

    CHECK_NOTHROW(check_predictions_finite(predictions, "test", {1, 1}));
    CHECK_NOTHROW(check_metric_finite("auc", MetricValue::defined(0.75), "test", {1, 1}));
    // An undefined metric (one class only) is a result, not a numerical fault.
    CHECK_NOTHROW(check_metric_finite(
        "auc", MetricValue::undefined("undefined_single_class", "one class"), "test", {1, 1}));
}

TEST_CASE("finite checks: an infinite or NaN metric stops the cell") {
    std::string infinite = message_of([] {
        check_metric_finite("logloss", MetricValue::from_double(INFINITY), "test", {5, 100});
    });
    std::string nan = message_of([] {
        check_metric_finite("rmse", MetricValue::from_double(NAN), "validation", {2, 9});
    });

    CHECK(infinite.rfind("metric is not finite after epoch 5, step 100: logloss on the test part "
                         "is null (infinite",
                         0) == 0);
    CHECK(nan.rfind("metric is not finite after epoch 2, step 9: rmse on the validation part is "
                    "null (undefined_nan",
                    0) == 0);
}
