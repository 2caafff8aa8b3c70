//! Per-host memory accounting, in integer KiB so that "committed = sum of its parts" holds
//! exactly at every event.
//!
//! Committed memory is what admission counts (a VM commits its whole guest RAM when it
//! boots); resident memory is what is touched (a VM's empty container slots are committed
//! but not resident). Containers of one image on one kernel hold the image once (shared
//! page cache); every VM kernel holds its own copy.

use crate::model::placement::MAX_LAYERS;

/// The parts committed memory is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemPart {
    /// Guest kernels and base userspace of the VMs on the host.
    GuestOs,
    /// Image content: once per kernel (the host's, and each VM's).
    Image,
    /// The workloads' own memory.
    Workload,
    /// Committed but empty container slots inside VMs.
    Unused,
    /// Overhead of the layer at this stack position (QEMU, virt-launcher, shims).
    Layer(usize),
}

impl MemPart {
    /// Number of parts (the fixed ones and one per possible layer position).
    pub const COUNT: usize = 4 + MAX_LAYERS;
    /// The parts that are not layer overheads, in report order.
    pub const FIXED: [MemPart; 4] = [
        MemPart::GuestOs,
        MemPart::Image,
        MemPart::Workload,
        MemPart::Unused,
    ];

    pub fn index(self) -> usize {
        match self {
            MemPart::GuestOs => 0,
            MemPart::Image => 1,
            MemPart::Workload => 2,
            MemPart::Unused => 3,
            MemPart::Layer(k) => 4 + k,
        }
    }

    /// The part at `index` (the inverse of [`MemPart::index`]).
    pub fn from_index(index: usize) -> MemPart {
        match index {
            0 => MemPart::GuestOs,
            1 => MemPart::Image,
            2 => MemPart::Workload,
            3 => MemPart::Unused,
            k => MemPart::Layer(k - 4),
        }
    }

    /// The name of a fixed part in reports (`None` for layers, which are named after
    /// their layer).
    pub fn label(self) -> Option<&'static str> {
        match self {
            MemPart::GuestOs => Some("guest_kernels"),
            MemPart::Image => Some("image_copies"),
            MemPart::Workload => Some("workload_memory"),
            MemPart::Unused => Some("unused_vm_capacity"),
            MemPart::Layer(_) => None,
        }
    }
}

/// Memory of one host, excluding the host's own reserved memory (constant, added in
/// reports) — so an empty host commits zero.
#[derive(Clone, Debug, Default)]
pub struct HostMemory {
    /// Changed only through [`HostMemory::add`] / [`HostMemory::sub`], which keep the
    /// cached total (admission reads it for every host it considers).
    parts: [u64; MemPart::COUNT],
    committed: u64,
    /// (image id, number of workloads of that image on the host kernel).
    images: Vec<(u32, u32)>,
}

impl HostMemory {
    pub fn committed_kib(&self) -> u64 {
        self.committed
    }

    pub fn part(&self, part: MemPart) -> u64 {
        self.parts[part.index()]
    }

    /// Every part, indexed by [`MemPart::index`].
    pub fn parts(&self) -> &[u64; MemPart::COUNT] {
        &self.parts
    }

    pub fn add(&mut self, part: MemPart, kib: u64) {
        self.parts[part.index()] += kib;
        self.committed += kib;
    }

    /// Removes `kib` from `part`; `false` (and no change) if the part holds less.
    pub fn sub(&mut self, part: MemPart, kib: u64) -> bool {
        match self.parts[part.index()].checked_sub(kib) {
            Some(v) => {
                self.parts[part.index()] = v;
                self.committed -= kib;
                true
            }
            None => false,
        }
    }

    /// Touched memory: committed less the committed-but-empty VM capacity.
    pub fn resident_kib(&self) -> u64 {
        self.committed_kib() - self.part(MemPart::Unused)
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
        m.add(MemPart::GuestOs, 100);
        m.add(MemPart::Unused, 40);
        assert!(!m.sub(MemPart::Unused, 41));
        assert_eq!(m.committed_kib(), 140);
        assert_eq!(m.resident_kib(), 100);
    }
}
