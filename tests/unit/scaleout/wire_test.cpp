// The binary form of JSON values and dense baselines that worker processes and MPI ranks
// exchange, and framed messages over a socket.
#include "scaleout/wire.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

using recprune::scaleout::ByteReader;
using recprune::scaleout::ByteWriter;
using recprune::scaleout::decode_baseline;
using recprune::scaleout::encode_baseline;

namespace {

uint64_t bits_of(double value) {
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(bits));
    return bits;
}

}  // namespace

TEST_CASE("wire: JSON values come back with the same bits") {
    // A double whose shortest decimal text has 17 digits, NaN, infinities, the extreme
    // integers and nesting: what JSON text could round, the binary form keeps.
    const double awkward = 0.1 + 0.2;
    boost::json::object value{
        {"awkward", awkward},
        {"nan", std::numeric_limits<double>::quiet_NaN()},
        {"inf", std::numeric_limits<double>::infinity()},
        {"minus_inf", -std::numeric_limits<double>::infinity()},
        {"largest", std::numeric_limits<uint64_t>::max()},
        {"smallest", std::numeric_limits<int64_t>::min()},
        {"list", boost::json::array{1, "two", nullptr, true, false}},
        {"nested", boost::json::object{{"empty", boost::json::object{}}}}};
    ByteWriter writer;
    writer.put_json(value);
    ByteReader reader(writer.bytes());
    const auto back = reader.get_json().as_object();
    CHECK(reader.at_end());

    CHECK(bits_of(back.at("awkward").as_double()) == bits_of(awkward));
    CHECK(std::isnan(back.at("nan").as_double()));
    CHECK(back.at("inf").as_double() == std::numeric_limits<double>::infinity());
    CHECK(back.at("minus_inf").as_double() == -std::numeric_limits<double>::infinity());
    CHECK(back.at("largest").as_uint64() == std::numeric_limits<uint64_t>::max());
    CHECK(back.at("smallest").as_int64() == std::numeric_limits<int64_t>::min());
    CHECK(back.at("list") == value.at("list"));
    CHECK(back.at("nested") == value.at("nested"));
}

TEST_CASE("wire: a dense baseline round-trips") {
    recprune::run::DenseBaseline baseline;
    baseline.ok = true;
    baseline.message = "";
    baseline.weights = {{1.5f, -0.0f, std::numeric_limits<float>::denorm_min()}, {}, {42.0f}};
    baseline.validation_score = 0.7071067811865476;
    baseline.test_metrics = {{"auc", {{"value", 0.75}, {"status", "ok"}}}};
    baseline.validation_metrics = {{"auc", {{"value", nullptr}, {"status", "undefined"}}}};
    baseline.cost = {{"parameters", 4}};

    const auto back = decode_baseline(encode_baseline(baseline));
    CHECK(back->ok);
    CHECK(back->weights == baseline.weights);
    CHECK(std::signbit(back->weights[0][1]));
    CHECK(bits_of(back->validation_score) == bits_of(baseline.validation_score));
    CHECK(back->test_metrics == baseline.test_metrics);
    CHECK(back->validation_metrics == baseline.validation_metrics);
    CHECK(back->cost == baseline.cost);

    baseline.ok = false;
    baseline.message = "the worker process was killed by signal 11";
    const auto failed = decode_baseline(encode_baseline(baseline));
    CHECK_FALSE(failed->ok);
    CHECK(failed->message == baseline.message);
}

TEST_CASE("wire: truncated bytes are rejected") {
    ByteWriter writer;
    writer.put_string("hello");
    const std::string bytes = writer.bytes();
    ByteReader short_reader(std::string_view(bytes).substr(0, bytes.size() - 1));
    CHECK_THROWS_AS(short_reader.get_string(), std::runtime_error);

    ByteReader bad_tag(std::string_view("\x09", 1));
    CHECK_THROWS_WITH_AS(bad_tag.get_json(), "malformed message: unknown JSON tag 9 at offset 0",
                         std::runtime_error);
}

TEST_CASE("wire: frames cross a socket pair") {
    int sockets[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) == 0);
    const std::string big(1 << 20, 'x');  // larger than a socket buffer, so writes are partial
    std::string received;
    uint32_t type = 0;

    SUBCASE("whole messages") {
        recprune::scaleout::send_frame(sockets[0], 7, "");
        REQUIRE(recprune::scaleout::receive_frame(sockets[1], type, received));
        CHECK(type == 7);
        CHECK(received.empty());
        // A frame larger than the socket buffer needs a reader while it is written.
        std::thread writer([&] { recprune::scaleout::send_frame(sockets[0], 9, big); });
        REQUIRE(recprune::scaleout::receive_frame(sockets[1], type, received));
        writer.join();
        CHECK(type == 9);
        CHECK(received == big);
        ::close(sockets[0]);
        // A peer gone between messages ends the stream cleanly.
        CHECK_FALSE(recprune::scaleout::receive_frame(sockets[1], type, received));
        ::close(sockets[1]);
    }

    SUBCASE("a peer gone inside a message") {
        const char partial[4] = {'R', 'P', 'R', 'F'};
        REQUIRE(::write(sockets[0], partial, sizeof(partial)) == 4);
        ::close(sockets[0]);
        CHECK_THROWS_AS(recprune::scaleout::receive_frame(sockets[1], type, received),
                        std::runtime_error);
        ::close(sockets[1]);
    }

    SUBCASE("writing to a closed peer throws instead of raising SIGPIPE") {
        ::close(sockets[1]);
        CHECK_THROWS_AS(recprune::scaleout::send_frame(sockets[0], 1, "x"), std::runtime_error);
        ::close(sockets[0]);
    }
}
