// A read-mostly array that either owns its values or borrows them from memory kept alive by an
// owner (a plugin's table, a mapped cache file), so a large table reaches the host without a
// second copy.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

namespace recprune::data {

/// Array of T that owns a std::vector or borrows (pointer, size) from `owner`. Reads are the
/// same either way. A non-const access to a borrowed array first copies it into owned storage,
/// so borrowed memory is never written.
template <typename T>
class ColumnArray {
public:
    ColumnArray() = default;
    ColumnArray(std::initializer_list<T> values) : owned_(values) { point_at_owned(); }
    // Implicit on purpose: a std::vector is the usual way to fill a column.
    ColumnArray(std::vector<T> values) : owned_(std::move(values)) { point_at_owned(); }

    /// Borrows `size` values at `data`, valid as long as `owner` lives.
    static ColumnArray borrow(const T* data, size_t size, std::shared_ptr<const void> owner) {
        ColumnArray array;
        array.data_ = data;
        array.size_ = size;
        array.owner_ = std::move(owner);
        return array;
    }

    ColumnArray(const ColumnArray& other)
        : owned_(other.owner_ ? std::vector<T>() : other.owned_), owner_(other.owner_) {
        if (owner_) {
            data_ = other.data_;
            size_ = other.size_;
        } else {
            point_at_owned();
        }
    }
    ColumnArray(ColumnArray&& other) noexcept
        : owned_(std::move(other.owned_)), owner_(std::move(other.owner_)) {
        if (owner_) {
            data_ = other.data_;
            size_ = other.size_;
        } else {
            point_at_owned();
        }
        other.reset();
    }
    ColumnArray& operator=(const ColumnArray& other) {
        if (this != &other) *this = ColumnArray(other);
        return *this;
    }
    ColumnArray& operator=(ColumnArray&& other) noexcept {
        if (this != &other) {
            owned_ = std::move(other.owned_);
            owner_ = std::move(other.owner_);
            if (owner_) {
                data_ = other.data_;
                size_ = other.size_;
            } else {
                point_at_owned();
            }
            other.reset();
        }
        return *this;
    }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const T* data() const { return data_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }
    const T& operator[](size_t index) const { return data_[index]; }
    const T& front() const { return data_[0]; }
    const T& back() const { return data_[size_ - 1]; }
    /// True when the values live in memory owned by someone else.
    bool borrowed() const { return owner_ != nullptr; }

    T& operator[](size_t index) { return make_owned()[index]; }
    T& back() { return make_owned().back(); }

    /// Replaces the values by a copy of [first, last).
    void assign(const T* first, const T* last) {
        owner_.reset();
        owned_.assign(first, last);
        point_at_owned();
    }
    /// Makes the array `size` owned values (existing values kept, new ones zero) and returns
    /// them for writing.
    T* resize(size_t size) {
        make_owned().resize(size);
        point_at_owned();
        return owned_.data();
    }

    friend bool operator==(const ColumnArray& a, const ColumnArray& b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end());
    }
    friend bool operator==(const ColumnArray& a, const std::vector<T>& b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end());
    }

private:
    void point_at_owned() {
        data_ = owned_.data();
        size_ = owned_.size();
    }
    void reset() {
        owned_.clear();
        owner_.reset();
        data_ = nullptr;
        size_ = 0;
    }
    std::vector<T>& make_owned() {
        if (owner_) {
            owned_.assign(data_, data_ + size_);
            owner_.reset();
            point_at_owned();
        }
        return owned_;
    }

    std::vector<T> owned_;
    std::shared_ptr<const void> owner_;
    const T* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace recprune::data
