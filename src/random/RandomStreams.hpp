#pragma once
// Keyed random streams: every draw of a job (a training sample, a sampling
// batch, a chain's uniforms, an HMC chain) gets its own generator seeded by
// a key derived from (seed, purpose, counters), so what is drawn never
// depends on which rank draws it or how many ranks there are.
#include <cstdint>

namespace flowlat {

enum class StreamPurpose : uint64_t { Training = 1, Sampling = 2, Chain = 3, Hmc = 4, Evaluation = 5, SignFlip = 6,
                                      IntegrationNode = 7, Annealing = 8 };

// A 64-bit key from (seed, purpose, a, b) by SplitMix64 mixing. Local.
uint64_t stream_key(uint64_t seed, StreamPurpose purpose, uint64_t a, uint64_t b = 0);

}  // namespace flowlat
