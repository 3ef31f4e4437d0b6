#include "data/column_array.hpp"
#include "data/raw_table.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

using recprune::data::ColumnArray;

TEST_CASE("column array: borrowed values stay valid while the owner lives") {
    auto storage = std::make_shared<std::vector<uint64_t>>(std::vector<uint64_t>{4, 5, 6});
    std::weak_ptr<std::vector<uint64_t>> watch = storage;

    ColumnArray<uint64_t> array = ColumnArray<uint64_t>::borrow(storage->data(), 3, storage);
    storage.reset();

    CHECK_FALSE(watch.expired());
    CHECK(array.borrowed());
    CHECK(array == std::vector<uint64_t>{4, 5, 6});
    array = ColumnArray<uint64_t>();
    CHECK(watch.expired());
}

TEST_CASE("column array: writing a borrowed array copies it first") {
    std::vector<uint64_t> values = {1, 2, 3};
    auto owner = std::make_shared<int>(0);
    ColumnArray<uint64_t> array = ColumnArray<uint64_t>::borrow(values.data(), 3, owner);
    ColumnArray<uint64_t> copy = array;

    array[1] = 20;

    CHECK_FALSE(array.borrowed());
    CHECK(array == std::vector<uint64_t>{1, 20, 3});
    CHECK(values == std::vector<uint64_t>{1, 2, 3});
    CHECK(copy.borrowed());
    CHECK(copy == std::vector<uint64_t>{1, 2, 3});
}

TEST_CASE("column array: owned copies and moves keep their values") {
    ColumnArray<double> array = std::vector<double>{1.5, 2.5};

    ColumnArray<double> copy = array;
    ColumnArray<double> moved = std::move(copy);
    moved[0] = 9.0;

    CHECK(array == std::vector<double>{1.5, 2.5});
    CHECK(moved == std::vector<double>{9.0, 2.5});
    CHECK(copy.empty());
}

TEST_CASE("adopt table: borrows the plugin arrays and keeps the owner alive") {
    std::vector<uint64_t> keys = {7, 8};
    std::vector<double> labels = {1.0, 0.0};
    recprune_column_t columns[2] = {};
    columns[0].struct_size = sizeof(recprune_column_t);
    columns[0].type = RECPRUNE_COLUMN_TYPE_CATEGORICAL;
    columns[0].roles = RECPRUNE_COLUMN_ROLE_FEATURE;
    columns[0].name = "item";
    columns[0].keys = keys.data();
    columns[1].struct_size = sizeof(recprune_column_t);
    columns[1].type = RECPRUNE_COLUMN_TYPE_NUMERIC;
    columns[1].roles = RECPRUNE_COLUMN_ROLE_LABEL;
    columns[1].name = "label";
    columns[1].numeric = labels.data();
    recprune_table_t table{sizeof(recprune_table_t), 2, 2, columns, "{}"};
    auto owner = std::make_shared<int>(0);
    std::weak_ptr<int> watch = owner;

    recprune::data::RawTable adopted = recprune::data::adopt_table(table, owner);
    recprune::data::RawTable copied = recprune::data::copy_table(table);
    owner.reset();

    CHECK(adopted.columns[0].keys.data() == keys.data());
    CHECK(adopted.columns[0].keys.borrowed());
    CHECK_FALSE(copied.columns[0].keys.borrowed());
    CHECK(copied.columns[0].keys.data() != keys.data());
    CHECK(copied.columns[1].numeric == std::vector<double>{1.0, 0.0});
    CHECK_FALSE(watch.expired());
    adopted = recprune::data::RawTable();
    CHECK(watch.expired());
}

TEST_CASE("copy table: rejects offsets that do not match the keys") {
    std::vector<uint64_t> keys = {1, 2, 3};
    std::vector<uint64_t> offsets = {0, 2, 1};
    recprune_column_t column{};
    column.struct_size = sizeof(column);
    column.type = RECPRUNE_COLUMN_TYPE_MULTI_HOT;
    column.roles = RECPRUNE_COLUMN_ROLE_FEATURE;
    column.name = "tags";
    column.keys = keys.data();
    column.offsets = offsets.data();
    column.value_count = 3;
    recprune_table_t table{sizeof(recprune_table_t), 1, 2, &column, "{}"};

    CHECK_THROWS_WITH(recprune::data::copy_table(table),
                      "invalid dataset table: column \"tags\": offsets run from 0 to 1, expected "
                      "0 to the key count 3; fix the dataset plugin");
}
