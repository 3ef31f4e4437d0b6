// Unit test of the @NAME@ model through its C entry point, the way the host calls it: create,
// get_tensors, forward, backward, touched_rows and destroy. Weights and inputs are powers of two
// and small sums of them, so every expected value below is exact in float.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "recprune/abi.h"

#include <cstdint>
#include <string>
#include <vector>

extern "C" const recprune_plugin_descriptor_t* recprune_plugin_entry(uint16_t, uint16_t);

namespace {

void set_message(void* data, const char* text) { *static_cast<std::string*>(data) = text; }

// A user field of 3 values, a multi-hot tags field of 4 values and one dense input.
constexpr const char* kSchema = R"json({"task": "ctr", "dense_count": 1, "fields": [
  {"name": "user", "vocabulary_size": 3, "multi_hot": false, "roles": ["feature", "user"]},
  {"name": "tags", "vocabulary_size": 4, "multi_hot": true, "roles": ["feature"]}]})json";

// A model created through the C API, destroyed at scope exit.
struct CreatedModel {
    const recprune_model_api_t* api = nullptr;
    recprune_model_t handle = nullptr;
    const recprune_tensor_t* tensors = nullptr;
    uint32_t tensor_count = 0;
    std::string message;
    recprune_error_t error{&message, &set_message};

    explicit CreatedModel(uint64_t seed) {
        api = recprune_plugin_entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR)->model;
        REQUIRE(api->create(nullptr, "{}", kSchema, seed, &handle, &error) == RECPRUNE_STATUS_OK);
        REQUIRE(api->get_tensors(handle, &tensors, &tensor_count, &error) == RECPRUNE_STATUS_OK);
    }
    ~CreatedModel() { api->destroy(handle); }

    // Sets every weight: user table, tags table, dense weight, bias (the creation order).
    void set_weights() {
        REQUIRE(tensor_count == 4);
        const std::vector<std::vector<float>> values = {
            {0.5f, 1.0f, 2.0f}, {0.0f, 0.25f, 0.5f, 0.75f}, {2.0f}, {0.125f}};
        for (uint32_t t = 0; t < 4; ++t) {
            REQUIRE(tensors[t].element_count == values[t].size());
            for (size_t i = 0; i < values[t].size(); ++i) tensors[t].data[i] = values[t][i];
        }
    }
};

// Two rows: user ids 1 and 2; tags {1, 3} and {2}; dense inputs 1 and -0.5.
struct TwoRowBatch {
    std::vector<uint32_t> user_ids = {1, 2};
    std::vector<uint32_t> tag_ids = {1, 3, 2};
    std::vector<uint64_t> tag_offsets = {0, 2, 3};
    std::vector<float> dense = {1.0f, -0.5f};
    const uint32_t* ids[2] = {user_ids.data(), tag_ids.data()};
    const uint64_t* offsets[2] = {nullptr, tag_offsets.data()};
    recprune_batch_t batch{};

    TwoRowBatch() {
        batch.struct_size = sizeof(batch);
        batch.field_count = 2;
        batch.row_count = 2;
        batch.ids = ids;
        batch.offsets = offsets;
        batch.dense = dense.data();
        batch.dense_count = 1;
    }
};

}  // namespace

TEST_CASE("@NAME@: forward sums the weights of each row") {
    CreatedModel model(1);
    model.set_weights();
    TwoRowBatch input;
    std::vector<float> logits(2);

    REQUIRE(model.api->forward(model.handle, &input.batch, 1, logits.data(), &model.error) ==
            RECPRUNE_STATUS_OK);

    // 0.125 + 1 + (0.25 + 0.75) + 2 * 1 and 0.125 + 2 + 0.5 + 2 * -0.5, by hand.
    CHECK(logits[0] == 4.125f);
    CHECK(logits[1] == 1.625f);
}

TEST_CASE("@NAME@: backward writes the gradient of every tensor") {
    CreatedModel model(1);
    model.set_weights();
    TwoRowBatch input;
    std::vector<float> logits(2);
    std::vector<float> logit_grads = {1.0f, -2.0f};
    REQUIRE(model.api->forward(model.handle, &input.batch, 1, logits.data(), &model.error) ==
            RECPRUNE_STATUS_OK);

    REQUIRE(model.api->backward(model.handle, &input.batch, logit_grads.data(), &model.error) ==
            RECPRUNE_STATUS_OK);

    // d logit / d weight is 1 per occurrence (times x for the dense weight), by hand.
    CHECK(model.tensors[0].grad[1] == 1.0f);
    CHECK(model.tensors[0].grad[2] == -2.0f);
    CHECK(model.tensors[1].grad[1] == 1.0f);
    CHECK(model.tensors[1].grad[2] == -2.0f);
    CHECK(model.tensors[1].grad[3] == 1.0f);
    CHECK(model.tensors[2].grad[0] == 2.0f);   // 1 * 1 + (-2) * (-0.5)
    CHECK(model.tensors[3].grad[0] == -1.0f);  // 1 + (-2)
    const uint32_t* rows = nullptr;
    uint64_t count = 0;
    REQUIRE(model.api->touched_rows(model.handle, 1, &rows, &count, &model.error) ==
            RECPRUNE_STATUS_OK);
    REQUIRE(count == 3);
    CHECK(rows[0] == 1);
    CHECK(rows[1] == 2);
    CHECK(rows[2] == 3);
}

TEST_CASE("@NAME@: initial weights depend on the seed only") {
    CreatedModel first(5);
    CreatedModel same(5);
    CreatedModel other(6);

    bool equal = true;
    bool differs = false;
    for (uint32_t t = 0; t < first.tensor_count; ++t) {
        for (uint64_t i = 0; i < first.tensors[t].element_count; ++i) {
            equal = equal && first.tensors[t].data[i] == same.tensors[t].data[i];
            differs = differs || first.tensors[t].data[i] != other.tensors[t].data[i];
        }
    }

    CHECK(equal);
    CHECK(differs);
}
