// Unit test of the lamp pruner through its C entry point, the way the host calls it: the
// descriptor, create, get_info, score and destroy. The tensors and the units description are
// written by hand in the format that the recprune docs give for weight granularity in
// share/doc/recprune/abi.md under the install prefix.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "recprune/abi.h"

#include <string>
#include <vector>

extern "C" const recprune_plugin_descriptor_t* recprune_plugin_entry(uint16_t, uint16_t);

namespace {

// A pruner created through the C API, destroyed at scope exit.
struct CreatedPruner {
    const recprune_pruner_api_t* api = nullptr;
    recprune_pruner_t handle = nullptr;
    recprune_status_t status = RECPRUNE_STATUS_OK;
    std::string message;

    CreatedPruner(const char* params) {
        api = recprune_plugin_entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR)->pruner;
        recprune_error_t error{&message, &set_message};
        status = api->create(nullptr, params, 7, &handle, &error);
    }
    ~CreatedPruner() {
        if (handle != nullptr) api->destroy(handle);
    }
    static void set_message(void* data, const char* text) {
        *static_cast<std::string*>(data) = text;
    }
};

// Two embedding tensors, a 2 x 2 one and a 1 x 2 one: six weights, so six units in two blocks.
constexpr const char* kUnits = R"json({"granularity": "weight", "unit_count": 6, "blocks": [
  {"name": "embedding.user", "group": 0, "offset": 0, "count": 4, "tensor": 0, "slices": [
    {"tensor": 0, "name": "embedding.user", "axis": 0, "start": 0, "step": 1, "width": 1,
     "flat": true}]},
  {"name": "embedding.item", "group": 1, "offset": 4, "count": 2, "tensor": 1, "slices": [
    {"tensor": 1, "name": "embedding.item", "axis": 0, "start": 0, "step": 1, "width": 1,
     "flat": true}]}]})json";

recprune_tensor_t make_tensor(const char* name, uint64_t rows, uint64_t columns,
                              std::vector<float>& weights, std::vector<float>& grads) {
    recprune_tensor_t tensor{};
    tensor.struct_size = sizeof(tensor);
    tensor.role = RECPRUNE_TENSOR_ROLE_EMBEDDING;
    tensor.name = name;
    tensor.rank = 2;
    tensor.shape[0] = rows;
    tensor.shape[1] = columns;
    tensor.element_count = weights.size();
    tensor.data = weights.data();
    tensor.grad = grads.data();
    return tensor;
}

// Scores `user` (4 weights) and `item` (2 weights) through the C API.
std::vector<double> score_weights(std::vector<float> user, std::vector<float> item) {
    CreatedPruner pruner("{}");
    REQUIRE(pruner.status == RECPRUNE_STATUS_OK);
    std::vector<float> user_grads(user.size()), item_grads(item.size());
    recprune_tensor_t tensors[2] = {make_tensor("embedding.user", 2, 2, user, user_grads),
                                    make_tensor("embedding.item", 1, 2, item, item_grads)};
    recprune_prune_context_t context{};
    context.struct_size = sizeof(context);
    context.granularity = RECPRUNE_GRANULARITY_WEIGHT;
    context.unit_count = 6;
    context.units_json = kUnits;
    context.tensors = tensors;
    context.tensor_count = 2;
    context.structure_json = "{}";
    std::vector<double> scores(6, -1.0);
    std::string message;
    recprune_error_t error{&message, &CreatedPruner::set_message};
    REQUIRE(pruner.api->score(pruner.handle, &context, scores.data(), &error) ==
            RECPRUNE_STATUS_OK);
    return scores;
}

}  // namespace

TEST_CASE("lamp: descriptor names a pruner of this ABI") {
    const recprune_plugin_descriptor_t* descriptor =
        recprune_plugin_entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR);

    REQUIRE(descriptor != nullptr);
    CHECK(descriptor->abi_major == RECPRUNE_ABI_MAJOR);
    CHECK(descriptor->kind == RECPRUNE_KIND_PRUNER);
    CHECK(std::string(descriptor->name) == "lamp");
    CHECK(descriptor->pruner != nullptr);
}

TEST_CASE("lamp: declares one global weight ranking") {
    CreatedPruner pruner("{}");
    REQUIRE(pruner.status == RECPRUNE_STATUS_OK);
    recprune_pruner_info_t info{};
    std::string message;
    recprune_error_t error{&message, &CreatedPruner::set_message};

    REQUIRE(pruner.api->get_info(pruner.handle, &info, &error) == RECPRUNE_STATUS_OK);

    CHECK(info.granularity == RECPRUNE_GRANULARITY_WEIGHT);
    CHECK(info.per_tensor == 0);
}

TEST_CASE("lamp: scores by the larger weights of the tensor") {
    std::vector<double> scores = score_weights({0.5f, -2.0f, 0.125f, -0.25f}, {0.0625f, 0.125f});

    // By hand, user tensor: the squares are 0.25, 4, 0.015625 and 0.0625. From the largest
    // down, the sums of squares are 4, 4.25, 4.3125 and 4.328125, all exact in binary, so each
    // score is the correctly rounded quotient and compares exactly.
    CHECK(scores[1] == 1.0);             // 4 / 4
    CHECK(scores[0] == 1.0 / 17.0);      // 0.25 / 4.25
    CHECK(scores[3] == 1.0 / 69.0);      // 0.0625 / 4.3125
    CHECK(scores[2] == 1.0 / 277.0);     // 0.015625 / 4.328125
    // Item tensor: squares 0.00390625 and 0.015625, sum 0.01953125.
    CHECK(scores[5] == 1.0);
    CHECK(scores[4] == 1.0 / 5.0);
}

TEST_CASE("lamp: small tensor outranks a large tensor's small weight") {
    std::vector<double> scores = score_weights({0.5f, -2.0f, 0.125f, -0.25f}, {0.0625f, 0.125f});

    // Global magnitude would prune the item weight 0.0625 before the user weight 0.125; LAMP
    // prunes the user weight first, because it is small within its own tensor.
    CHECK(scores[2] < scores[4]);
}

TEST_CASE("lamp: zero weights score zero") {
    std::vector<double> scores = score_weights({0.0f, 0.0f, 0.0f, 0.5f}, {0.0f, 0.0f});

    CHECK(scores[0] == 0.0);
    CHECK(scores[1] == 0.0);
    CHECK(scores[2] == 0.0);
    CHECK(scores[3] == 1.0);
    CHECK(scores[4] == 0.0);
    CHECK(scores[5] == 0.0);
}
