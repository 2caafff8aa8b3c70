//! Seeds of the random streams: every stream is derived from (scenario seed, sweep point,
//! replication, stream id), so a replication is reproducible on its own and every
//! placement sees the same workload stream (common random numbers).

/// SplitMix64 finaliser: decorrelates nearby integers into independent-looking seeds.
pub(super) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one random stream: (scenario seed, sweep point, replication, stream id).
pub fn stream_seed(seed: u64, point: u64, replication: u64, stream: u64) -> u64 {
    mix64(mix64(mix64(mix64(seed) ^ point) ^ replication) ^ stream)
}
