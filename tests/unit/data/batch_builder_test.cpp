#include "data/batch_builder.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

using namespace recprune::data;

namespace {

// Three rows, a single-valued field, a multi-hot field and two dense inputs.
Part sample_part() {
    Part part;
    part.row_count = 3;
    part.ids = {{1, 2, 3}, {4, 5, 6, 4}};
    part.offsets = {{}, {0, 2, 2, 4}};
    part.dense = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};
    part.labels = {1.0f, 0.0f, 1.0f};
    return part;
}

}  // namespace

TEST_CASE("batch builder: gathers rows in the order asked") {
    Part part = sample_part();
    BatchBuilder builder(part, 2, 2);
    std::vector<uint64_t> rows = {2, 0};

    const recprune_batch_t& batch = builder.build(rows);

    REQUIRE(batch.row_count == 2);
    CHECK(batch.field_count == 2);
    CHECK(batch.ids[0][0] == 3);
    CHECK(batch.ids[0][1] == 1);
    CHECK(batch.offsets[0] == nullptr);
    // Row 2 has values {6, 4}, row 0 has {4, 5}.
    CHECK(batch.offsets[1][0] == 0);
    CHECK(batch.offsets[1][1] == 2);
    CHECK(batch.offsets[1][2] == 4);
    CHECK(batch.ids[1][0] == 6);
    CHECK(batch.ids[1][3] == 5);
    CHECK(batch.dense_count == 2);
    CHECK(batch.dense[0] == 4.5f);
    CHECK(batch.dense[3] == 1.5f);
    CHECK(batch.labels[0] == 1.0f);
    CHECK(batch.labels[1] == 1.0f);
}

TEST_CASE("batch builder: an empty row of a multi-hot field has equal offsets") {
    Part part = sample_part();
    BatchBuilder builder(part, 2, 2);
    std::vector<uint64_t> rows = {1};

    const recprune_batch_t& batch = builder.build(rows);

    CHECK(batch.offsets[1][0] == 0);
    CHECK(batch.offsets[1][1] == 0);
}

TEST_CASE("batch builder: row remaps apply per field and empty maps leave ids alone") {
    Part part = sample_part();
    BatchBuilder builder(part, 2, 2);
    // Field 0: rows 2 and 3 were pruned (-> 0), row 1 stays.
    builder.set_row_remap({{0, 1, 0, 0}, {}});
    std::vector<uint64_t> rows = {0, 1, 2};

    const recprune_batch_t& batch = builder.build(rows);

    CHECK(batch.ids[0][0] == 1);
    CHECK(batch.ids[0][1] == 0);
    CHECK(batch.ids[0][2] == 0);
    CHECK(batch.ids[1][0] == 4);
}

TEST_CASE("batch builder: rejects rows past the part and ids past a remap") {
    Part part = sample_part();
    BatchBuilder builder(part, 2, 2);
    std::vector<uint64_t> past = {3};
    std::vector<uint64_t> rows = {0};

    CHECK_THROWS_AS(builder.build(past), std::out_of_range);
    builder.set_row_remap({{0, 1}});
    CHECK_NOTHROW(builder.build(rows));
    std::vector<uint64_t> second = {1};
    CHECK_THROWS_AS(builder.build(second), std::out_of_range);
    CHECK_THROWS_AS(BatchBuilder(part, 3, 2), std::invalid_argument);
    CHECK_THROWS_AS(BatchBuilder(part, 2, 1), std::invalid_argument);
}

TEST_CASE("batch builder: a part without dense inputs gives a null dense pointer") {
    Part part = sample_part();
    part.dense.clear();
    BatchBuilder builder(part, 2, 0);
    std::vector<uint64_t> rows = {0};

    const recprune_batch_t& batch = builder.build(rows);

    CHECK(batch.dense == nullptr);
    CHECK(batch.dense_count == 0);
}
