// A registry of plug-ins by name (the set kinds, the backends): each registers itself from its
// own file through a static registrar, so the registry lives in a function-local static of the
// accessor that owns it (a registrar in any translation unit may run first).
#pragma once
#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace swapbench {

template <typename T>
class Registry {
 public:
  // `what` names the plug-in in the refusal ("set kind"); `before` orders the listed view
  // (a stable sort of the by-name order; null: by name).
  explicit Registry(std::string what, bool (*before)(const T*, const T*) = nullptr)
      : what_(std::move(what)), before_(before) {}

  // Two files claiming one name would make what runs depend on link order.
  void add(const std::string& name, std::unique_ptr<T> item) {
    if (!by_name_.emplace(name, std::move(item)).second) throw std::logic_error(what_ + " '" + name + "' registered twice");
    listed_.clear();
    for (const auto& [n, it] : by_name_) listed_.push_back(it.get());
    if (before_) std::stable_sort(listed_.begin(), listed_.end(), before_);
  }
  const std::vector<const T*>& listed() const { return listed_; }
  const T* find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second.get();
  }

 private:
  std::string what_;
  bool (*before_)(const T*, const T*);
  std::map<std::string, std::unique_ptr<T>> by_name_;
  std::vector<const T*> listed_;
};

}  // namespace swapbench
