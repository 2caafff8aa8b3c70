//! One virtualization or container layer, resolved from its profile into plain numbers
//! for the hot path (the provenance stays in the [`crate::profiles::Profile`]).

use rand::RngExt;
use rand_distr::StandardNormal;
use serde::Serialize;

use crate::profiles::{LayerParam, Profile, TextKey};

/// z-score of the 95th percentile of a standard normal distribution.
const Z95: f64 = 1.644_853_626_951_472_2;

/// What a layer is; informative, and used to reject misuse (an LPAR is a host base layer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    Container,
    Pod,
    Vm,
    Microvm,
    Lpar,
    Guest,
}

impl LayerKind {
    fn parse(s: &str) -> LayerKind {
        match s {
            "pod" => LayerKind::Pod,
            "vm" => LayerKind::Vm,
            "microvm" => LayerKind::Microvm,
            "lpar" => LayerKind::Lpar,
            "guest" => LayerKind::Guest,
            _ => LayerKind::Container,
        }
    }
}

/// The isolation boundary a layer puts between what runs inside it and its neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    Process,
    Vm,
    Lpar,
}

#[derive(Clone, Debug, Serialize)]
pub struct Layer {
    pub name: String,
    pub kind: LayerKind,
    /// Starts a new kernel: its own page cache, its own copy of every image.
    pub kernel: bool,
    pub isolation: Isolation,
    pub cpu_factor: f64,
    pub cpu_background_cores: f64,
    pub mem_fixed_mib: f64,
    pub mem_guest_fraction: f64,
    pub mem_per_vcpu_mib: f64,
    pub guest_os_mib: f64,
    pub start_median_s: f64,
    /// Shape of the lognormal start time, from the median and the 95th percentile.
    pub start_sigma: f64,
    pub start_concurrency_slope: f64,
    pub io_factor: f64,
    pub net_rtt_add_us: f64,
    pub attenuation: f64,
    pub guest_os_mergeable_fraction: f64,
    pub segment_fraction: f64,
}

impl Layer {
    pub fn from_profile(p: &Profile) -> Layer {
        let median = p.value(LayerParam::StartMedianS);
        let p95 = p.value(LayerParam::StartP95S);
        let start_sigma = if median > 0.0 && p95 > median {
            (p95 / median).ln() / Z95
        } else {
            0.0
        };
        Layer {
            name: p.name.clone(),
            kind: LayerKind::parse(p.text(TextKey::Kind).unwrap_or("container")),
            kernel: p.kernel,
            isolation: match p.text(TextKey::Isolation) {
                Some("vm") => Isolation::Vm,
                Some("lpar") => Isolation::Lpar,
                _ => Isolation::Process,
            },
            cpu_factor: p.value(LayerParam::CpuFactor),
            cpu_background_cores: p.value(LayerParam::CpuBackgroundCores),
            mem_fixed_mib: p.value(LayerParam::MemFixedMib),
            mem_guest_fraction: p.value(LayerParam::MemGuestFraction),
            mem_per_vcpu_mib: p.value(LayerParam::MemPerVcpuMib),
            guest_os_mib: p.value(LayerParam::GuestOsMib),
            start_median_s: median,
            start_sigma,
            start_concurrency_slope: p.value(LayerParam::StartConcurrencySlope),
            io_factor: p.value(LayerParam::IoFactor),
            net_rtt_add_us: p.value(LayerParam::NetRttAddUs),
            attenuation: p.value(LayerParam::Attenuation),
            guest_os_mergeable_fraction: p.value(LayerParam::GuestOsMergeableFraction),
            segment_fraction: p.value(LayerParam::SegmentFraction),
        }
    }

    /// Host memory one instance of this layer costs outside what it contains, for a guest
    /// (or container) of `guest_mib` with `vcpus` virtual CPUs:
    /// fixed + fraction × guest RAM + per-vCPU (e.g. QEMU ≈ 30 MiB + RAM/512; KubeVirt's
    /// virt-launcher ≈ 218 MiB + 0.002·RAM + 8 MiB/vCPU).
    pub fn overhead_mib(&self, guest_mib: f64, vcpus: f64) -> f64 {
        self.mem_fixed_mib + self.mem_guest_fraction * guest_mib + self.mem_per_vcpu_mib * vcpus
    }

    /// One start time in seconds: lognormal(median, sigma), stretched by
    /// `1 + slope × (other starts in flight on the host)` (contention on the runtime and
    /// the kernel). Always draws one normal variate so the RNG stream stays aligned.
    pub fn sample_start_s<R: RngExt + ?Sized>(&self, rng: &mut R, others_in_flight: u32) -> f64 {
        let z: f64 = rng.sample(StandardNormal);
        if self.start_median_s <= 0.0 {
            return 0.0;
        }
        let base = self.start_median_s * (self.start_sigma * z).exp();
        base * (1.0 + self.start_concurrency_slope * f64::from(others_in_flight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::ProfileSet;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn qemu_and_kubevirt_overhead_formulas() {
        let set = ProfileSet::builtin().unwrap();
        let vm = Layer::from_profile(set.layer("vm-kvm").unwrap());
        // 30 MiB + 1024/512
        assert!((vm.overhead_mib(1024.0, 2.0) - 32.0).abs() < 1e-12);
        let pod = Layer::from_profile(set.layer("pod-kubevirt").unwrap());
        // 218 + 0.002*1000 + 8*2
        assert!((pod.overhead_mib(1000.0, 2.0) - 236.0).abs() < 1e-12);
    }

    #[test]
    fn start_time_median_and_p95_match_profile() {
        let set = ProfileSet::builtin().unwrap();
        let vm = Layer::from_profile(set.layer("vm-kvm").unwrap());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut xs: Vec<f64> = (0..20_000)
            .map(|_| vm.sample_start_s(&mut rng, 0))
            .collect();
        xs.sort_by(f64::total_cmp);
        let med = xs[xs.len() / 2];
        let p95 = xs[xs.len() * 95 / 100];
        // Sampling error of a 20k-sample quantile of a lognormal is ~1-2%.
        assert!((med / 4.6 - 1.0).abs() < 0.03, "median {med}");
        assert!((p95 / 9.2 - 1.0).abs() < 0.05, "p95 {p95}");
        // Ten other starts in flight with slope 0.1 double the time (same normal draw).
        let mut a = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut b = Xoshiro256PlusPlus::seed_from_u64(1);
        let t0 = vm.sample_start_s(&mut a, 0);
        let t10 = vm.sample_start_s(&mut b, 10);
        assert!((t10 / t0 - 2.0).abs() < 1e-12);
    }
}
