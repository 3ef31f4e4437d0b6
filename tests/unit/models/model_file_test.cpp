// The model file reader of the SDK (recprune/nn/model_file.hpp) on damaged files. Every
// rejection is an InvalidData that names the file and states what is wrong without the JSON
// library's wording. Sizes are checked before anything is allocated.
#include "../plugin/plugin_test_support.hpp"

#include "recprune/nn/model_file.hpp"
#include "recprune/sdk.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nn = recprune::nn;
using recprune::InvalidData;
using recprune::json;
using recprune::test::ScratchDir;

namespace {

// A model of one embedding tensor "table" with a row per vocabulary entry of the first field,
// and a bias "bias".
class TableModel final : public recprune::Model {
public:
    explicit TableModel(const nn::ModelConfig& config) {
        const uint64_t rows = config.schema.fields.at(0).vocabulary_size;
        add_tensor("table", RECPRUNE_TENSOR_ROLE_EMBEDDING, {rows, 2}, 0);
        add_tensor("bias", RECPRUNE_TENSOR_ROLE_BIAS, {1});
    }
    void forward(const recprune_batch_t&, bool, float*) override {}
    void backward(const recprune_batch_t&, const float*) override {}
    json structure() const override { return json::object(); }
    recprune_model_cost_t cost() const override { return {}; }
};

nn::ModelConfig config_of(uint64_t rows) {
    const json schema = {
        {"fields", json::array({{{"name", "user"}, {"vocabulary_size", rows}}})}};
    return nn::ModelConfig::make(json::object(), schema);
}

std::unique_ptr<TableModel> build(const nn::ModelConfig& config) {
    return std::make_unique<TableModel>(config);
}

// The bytes of a model file: the magic line, the header size, `header` and `payload`.
std::string file_bytes(const std::string& header, const std::string& payload) {
    const uint64_t size = header.size();
    std::string bytes = nn::kModelFileMagic;
    bytes.append(reinterpret_cast<const char*>(&size), sizeof(size));
    return bytes + header + payload;
}

// A header of the table model over `rows` vocabulary rows that lists `tensors`.
std::string header_of(uint64_t rows, const json& tensors) {
    return json{{"plugin", "table"}, {"config", config_of(rows).to_json()}, {"tensors", tensors}}
        .dump();
}

json table_tensors(uint64_t rows) {
    return json::array({{{"name", "table"}, {"shape", {rows, 2}}},
                        {{"name", "bias"}, {"shape", {1}}}});
}

// The values of the table model over 3 rows: 7 floats.
std::string values_of_three_rows() {
    const std::vector<float> values{1, 2, 3, 4, 5, 6, 0.5f};
    return std::string(reinterpret_cast<const char*>(values.data()),
                       values.size() * sizeof(float));
}

// Loads `bytes` written to a file and returns the message of the InvalidData it throws.
std::string rejection_of(const ScratchDir& scratch, const std::string& bytes) {
    const std::string path = scratch.write("damaged.model", bytes).string();
    try {
        nn::load_model_file(path, "table", build);
    } catch (const InvalidData& e) {
        return e.what();
    }
    FAIL("the file loaded: " << path);
    return {};
}

}  // namespace

TEST_CASE("model file: saved model loads back") {
    ScratchDir scratch;
    const std::string path = (scratch.path() / "table.model").string();
    auto model = build(config_of(3));
    model->tensors()[0]->data()[5] = 2.5f;
    nn::write_model_file(path, "table", config_of(3), model->tensors());

    auto loaded = nn::load_model_file(path, "table", build);
    REQUIRE(loaded->tensors().size() == 2);
    CHECK(loaded->tensors()[0]->size() == 6);
    CHECK(loaded->tensors()[0]->data()[5] == 2.5f);
    CHECK_FALSE(recprune::detail::tensor_value_budget().has_value());
}

TEST_CASE("model file: damaged files are rejected with the reason") {
    ScratchDir scratch;
    const std::string good_header = header_of(3, table_tensors(3));
    const std::string values = values_of_three_rows();
    const std::string good =
        scratch.write("good.model", file_bytes(good_header, values)).string();
    REQUIRE_NOTHROW(nn::load_model_file(good, "table", build));

    struct Damage {
        const char* name;
        std::string bytes;
        const char* reason;
    };
    const std::vector<Damage> damages{
        {"empty file", "", "the file is empty"},
        {"another format", "PK\x03\x04 zip archive", "is not a recprune model file"},
        {"header size past the end", file_bytes(good_header, values).substr(0, 30),
         "only 5 bytes follow it"},
        {"header that is not JSON", file_bytes("{\"plugin\": ", values),
         "the header is not valid JSON"},
        {"header without config",
         file_bytes(json{{"plugin", "table"}, {"tensors", json::array()}}.dump(), ""),
         "the header has no \"config\" object"},
        {"header of another plugin",
         file_bytes(json{{"plugin", "fm"}, {"config", json::object()}}.dump(), ""),
         "written by model plugin fm, not table"},
        {"config without schema",
         file_bytes(json{{"plugin", "table"},
                         {"config", {{"params", json::object()}}},
                         {"tensors", json::array()}}
                        .dump(),
                    ""),
         "the header's \"config\" lacks an entry"},
        {"shape that is not a number",
         file_bytes(header_of(3, json::array({{{"name", "table"}, {"shape", {"3", 2}}}})),
                    values),
         "has the extent \"3\", not a whole number"},
        {"shape far past the file size",
         file_bytes(header_of(3, json::array({{{"name", "table"},
                                               {"shape", {uint64_t{1} << 40, 1u << 30}}}})),
                    values),
         "the file is cut short or its header is damaged"},
        {"values cut short", file_bytes(good_header, values.substr(0, 20)),
         "from tensor table on"},
        {"bytes after the last tensor", file_bytes(good_header, values + "extra"),
         "5 bytes follow the last tensor"},
        {"config larger than the tensors",
         file_bytes(header_of(uint64_t{1} << 31, table_tensors(3)), values),
         "the header's \"config\" does not build a model"},
        {"tensor names of another architecture",
         file_bytes(header_of(3, json::array({{{"name", "weights"}, {"shape", {3, 2}}},
                                              {{"name", "bias"}, {"shape", {1}}}})),
                    values),
         "tensor 0 is weights of shape [3,2], but its config builds table"},
    };
    for (const Damage& damage : damages) {
        CAPTURE(damage.name);
        const std::string message = rejection_of(scratch, damage.bytes);
        CHECK(message.find("invalid model file: ") == 0);
        CHECK(message.find("damaged.model: ") != std::string::npos);
        CHECK(message.find(damage.reason) != std::string::npos);
        CHECK(message.find("json.exception") == std::string::npos);
        CHECK_FALSE(recprune::detail::tensor_value_budget().has_value());
    }
}

TEST_CASE("model file: missing file names the path") {
    ScratchDir scratch;
    const std::string path = (scratch.path() / "absent.model").string();
    const std::string expected = "invalid model file: " + path + ": cannot read it";
    CHECK_THROWS_WITH_AS(nn::read_model_file(path, "table"), doctest::Contains(expected.c_str()),
                         InvalidData);
}
