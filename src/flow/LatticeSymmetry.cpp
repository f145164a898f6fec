#include "flow/LatticeSymmetry.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace flowlat {
namespace {

struct GroupElement {
  std::vector<int64_t> permutation;  // new axis i takes old axis permutation[i]
  std::vector<bool> reflect;         // k -> -k mod L on new axis i
};

std::vector<GroupElement> point_group(const std::vector<int64_t>& shape) {
  const size_t d = shape.size();
  std::vector<int64_t> permutation(d);
  std::iota(permutation.begin(), permutation.end(), 0);
  std::vector<GroupElement> elements;
  do {
    bool keeps_shape = true;
    for (size_t i = 0; i < d; ++i) keeps_shape = keeps_shape && shape[permutation[i]] == shape[i];
    if (!keeps_shape) continue;
    for (unsigned signs = 0; signs < (1u << d); ++signs) {
      GroupElement g{permutation, std::vector<bool>(d)};
      for (size_t i = 0; i < d; ++i) g.reflect[i] = (signs >> i) & 1u;
      elements.push_back(g);
    }
  } while (std::next_permutation(permutation.begin(), permutation.end()));
  return elements;
}

// g applied to the last d axes of `values`.
torch::Tensor apply(const GroupElement& g, const torch::Tensor& values) {
  const int64_t d = static_cast<int64_t>(g.permutation.size());
  const int64_t lead = values.dim() - d;
  std::vector<int64_t> order(static_cast<size_t>(values.dim()));
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = 0; i < d; ++i) order[lead + i] = lead + g.permutation[i];
  torch::Tensor out = values.permute(order);
  for (int64_t i = 0; i < d; ++i) {
    if (g.reflect[i]) out = torch::roll(torch::flip(out, {lead + i}), {1}, {lead + i});
  }
  return out;
}

}  // namespace

DisplacementOrbits displacement_orbits(const std::vector<int64_t>& shape) {
  const int64_t d = static_cast<int64_t>(shape.size());
  int64_t volume = 1;
  for (int64_t extent : shape) volume *= extent;
  std::vector<std::vector<int64_t>> site_keys(static_cast<size_t>(volume));
  for (int64_t site = 0; site < volume; ++site) {
    std::vector<int64_t> folded(static_cast<size_t>(d));
    int64_t rest = site;
    for (int64_t mu = d - 1; mu >= 0; --mu) {
      const int64_t r = rest % shape[mu];
      rest /= shape[mu];
      folded[mu] = std::min(r, shape[mu] - r);
    }
    // Sort within each group of axes of equal extent (they may be permuted).
    for (int64_t mu = 0; mu < d; ++mu) {
      for (int64_t nu = mu + 1; nu < d; ++nu) {
        if (shape[mu] == shape[nu] && folded[nu] < folded[mu]) std::swap(folded[mu], folded[nu]);
      }
    }
    site_keys[site] = folded;
  }
  std::map<std::vector<int64_t>, int64_t> numbering;
  for (const auto& key : site_keys) numbering.emplace(key, 0);
  DisplacementOrbits orbits;
  for (auto& [key, number] : numbering) {
    number = orbits.count();
    orbits.keys.push_back(key);
  }
  orbits.index = torch::empty({volume}, torch::kInt64);
  auto index = orbits.index.accessor<int64_t, 1>();
  for (int64_t site = 0; site < volume; ++site) index[site] = numbering.at(site_keys[site]);
  orbits.index = orbits.index.view(shape);
  return orbits;
}

torch::Tensor point_group_average(const torch::Tensor& values, const std::vector<int64_t>& shape) {
  const std::vector<GroupElement> group = point_group(shape);
  torch::Tensor sum = torch::zeros_like(values);
  for (const GroupElement& g : group) sum = sum + apply(g, values);
  return sum / static_cast<double>(group.size());
}

std::vector<torch::Tensor> point_group_images(const torch::Tensor& configurations, const std::vector<int64_t>& shape) {
  std::vector<torch::Tensor> images;
  for (const GroupElement& g : point_group(shape)) images.push_back(apply(g, configurations).contiguous());
  return images;
}

}  // namespace flowlat
