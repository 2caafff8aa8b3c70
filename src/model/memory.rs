//! Per-host memory accounting, in integer KiB so that "committed = sum of its parts" holds
//! exactly at every event.
//!
//! Committed memory is what admission counts (a VM commits its whole guest RAM when it
//! boots); resident memory is what is touched (a VM's empty container slots are committed
//! but not resident). Containers of one image on one kernel hold the image once (shared
//! page cache); every VM kernel holds its own copy.

use crate::model::placement::MAX_LAYERS;

/// The parts committed memory is made of.
pub const PART_GUEST_OS: usize = 0;
pub const PART_IMAGE: usize = 1;
pub const PART_WORKLOAD: usize = 2;
pub const PART_UNUSED: usize = 3;
/// Overhead of the layer at stack position `k` is part `PART_LAYER0 + k`.
pub const PART_LAYER0: usize = 4;
pub const N_PARTS: usize = PART_LAYER0 + MAX_LAYERS;

pub const PART_LABELS: [&str; PART_LAYER0] = [
    "guest_kernels",
    "image_copies",
    "workload_memory",
    "unused_vm_capacity",
];

/// Memory of one host, excluding the host's own reserved memory (constant, added in
/// reports) — so an empty host commits zero.
#[derive(Clone, Debug, Default)]
pub struct HostMemory {
    /// Read freely; change only through [`HostMemory::add`] / [`HostMemory::sub`], which
    /// keep the cached total (admission reads it for every host it considers).
    pub parts: [u64; N_PARTS],
    committed: u64,
    /// (image id, number of workloads of that image on the host kernel).
    images: Vec<(u32, u32)>,
}

impl HostMemory {
    pub fn committed_kib(&self) -> u64 {
        self.committed
    }

    pub fn add(&mut self, part: usize, kib: u64) {
        self.parts[part] += kib;
        self.committed += kib;
    }

    /// Removes `kib` from `part`; `false` (and no change) if the part holds less.
    pub fn sub(&mut self, part: usize, kib: u64) -> bool {
        match self.parts[part].checked_sub(kib) {
            Some(v) => {
                self.parts[part] = v;
                self.committed -= kib;
                true
            }
            None => false,
        }
    }

    /// Touched memory: committed less the committed-but-empty VM capacity.
    pub fn resident_kib(&self) -> u64 {
        self.committed_kib() - self.parts[PART_UNUSED]
    }

    pub fn has_image(&self, image: u32) -> bool {
        self.images.iter().any(|&(i, _)| i == image)
    }

    /// Counts one more workload of `image` on the host kernel; returns true when it is the
    /// first (the caller then commits the image's page cache once).
    pub fn image_ref(&mut self, image: u32) -> bool {
        match self.images.iter_mut().find(|(i, _)| *i == image) {
            Some((_, n)) => {
                *n += 1;
                false
            }
            None => {
                self.images.push((image, 1));
                true
            }
        }
    }

    /// Drops one reference; returns true when it was the last (the image leaves the cache).
    pub fn image_unref(&mut self, image: u32) -> bool {
        let Some(k) = self.images.iter().position(|&(i, _)| i == image) else {
            return false;
        };
        self.images[k].1 -= 1;
        if self.images[k].1 == 0 {
            self.images.swap_remove(k);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_is_held_once_per_kernel() {
        let mut m = HostMemory::default();
        assert!(m.image_ref(7));
        assert!(!m.image_ref(7));
        assert!(m.image_ref(8));
        assert!(!m.image_unref(7));
        assert!(m.image_unref(7));
        assert!(!m.has_image(7));
        assert!(m.has_image(8));
    }

    #[test]
    fn resident_excludes_unused_capacity() {
        let mut m = HostMemory::default();
        m.add(PART_GUEST_OS, 100);
        m.add(PART_UNUSED, 40);
        assert!(!m.sub(PART_UNUSED, 41));
        assert_eq!(m.committed_kib(), 140);
        assert_eq!(m.resident_kib(), 100);
    }
}
