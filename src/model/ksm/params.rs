//! ksmd's tunables (`/sys/kernel/mm/ksm/`), the measured costs of a wake-up and of a
//! page, and the timing and CPU that follow from them.

use crate::engine::SimTime;

pub(crate) const NS_PER_S: u64 = 1_000_000_000;

/// Which pages may be merged with which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KsmScope {
    /// One stable/unstable tree pair for the whole host (kernel behaviour).
    Host,
    /// Separate trees per tenant: no cross-tenant merging (side-channel safe).
    Tenant,
}

/// ksmd tunables (`/sys/kernel/mm/ksm/`) plus measured costs, as a scenario gives them
/// (not yet checked: [`KsmParams::new`] checks them).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct KsmTunables {
    pub(crate) pages_to_scan: u32,
    pub(crate) sleep_millisecs: u32,
    /// Kernel CONFIG_HZ; sleeps are rounded up to whole jiffies.
    pub(crate) hz: u32,
    pub(crate) max_page_sharing: u32,
    pub(crate) use_zero_pages: bool,
    pub(crate) scope: KsmScope,
    /// Measured cost of scanning one page (ns of one core).
    pub(crate) per_page_ns: u64,
    /// Measured fixed cost of one ksmd wake-up (ns of one core).
    pub(crate) per_wake_ns: u64,
}

impl Default for KsmTunables {
    fn default() -> Self {
        KsmTunables {
            pages_to_scan: 100,
            sleep_millisecs: 20,
            hz: 250,
            max_page_sharing: 256,
            use_zero_pages: false,
            scope: KsmScope::Host,
            per_page_ns: 4300,
            per_wake_ns: 140_000,
        }
    }
}

/// A tunable the kernel would refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KsmParamError {
    #[error("pages_to_scan must be > 0")]
    PagesToScan,
    #[error("sleep_millisecs must be > 0")]
    SleepMillisecs,
    #[error("hz must be > 0")]
    Hz,
    #[error("max_page_sharing must be >= 2 (kernel minimum)")]
    MaxPageSharing,
}

impl KsmParamError {
    /// The scenario key the error is about.
    pub(crate) fn key(self) -> &'static str {
        match self {
            KsmParamError::PagesToScan => "pages_to_scan",
            KsmParamError::SleepMillisecs => "sleep_millisecs",
            KsmParamError::Hz => "hz",
            KsmParamError::MaxPageSharing => "max_page_sharing",
        }
    }
}

/// Checked ksmd tunables: the only way to build a ksmd ([`super::Ksm::new`] cannot fail).
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct KsmParams(KsmTunables);

impl std::ops::Deref for KsmParams {
    type Target = KsmTunables;
    fn deref(&self) -> &KsmTunables {
        &self.0
    }
}

impl KsmParams {
    pub(crate) fn new(t: KsmTunables) -> Result<KsmParams, KsmParamError> {
        if t.pages_to_scan == 0 {
            return Err(KsmParamError::PagesToScan);
        }
        if t.sleep_millisecs == 0 {
            return Err(KsmParamError::SleepMillisecs);
        }
        if t.hz == 0 {
            return Err(KsmParamError::Hz);
        }
        if t.max_page_sharing < 2 {
            return Err(KsmParamError::MaxPageSharing);
        }
        Ok(KsmParams(t))
    }

    /// A copy of the tunables (to derive other settings from).
    #[cfg(test)]
    pub(crate) fn tunables(&self) -> KsmTunables {
        self.0.clone()
    }

    /// Effective sleep: `msecs_to_jiffies` rounds up, and the timer fires one
    /// jiffy later than that (measured 24 ms for 20 ms at HZ=250).
    pub(crate) fn sleep_eff_ns(&self) -> u64 {
        let hz = u64::from(self.hz);
        let jiffies = (u64::from(self.sleep_millisecs) * hz).div_ceil(1000) + 1;
        (u128::from(jiffies) * u128::from(NS_PER_S) / u128::from(hz)) as u64
    }

    /// One full wake cycle with a full batch: scan time plus sleep.
    pub(crate) fn wake_period_ns(&self) -> u64 {
        self.sleep_eff_ns() + u64::from(self.pages_to_scan) * self.per_page_ns
    }

    pub(crate) fn scan_rate_pages_per_s(&self) -> f64 {
        f64::from(self.pages_to_scan) * NS_PER_S as f64 / self.wake_period_ns() as f64
    }

    /// ksmd's CPU demand in cores while it has something to scan: one wake-up plus a
    /// full batch of pages per wake period.
    pub(crate) fn duty_cycle_cores(&self) -> f64 {
        (self.per_wake_ns + u64::from(self.pages_to_scan) * self.per_page_ns) as f64
            / self.wake_period_ns() as f64
    }
}

/// A host type's ksmd as the scenario configures it: the kernel's tunables plus how the
/// simulator samples and feeds it.
#[derive(Clone, Debug, Default)]
pub struct KsmSettings {
    pub enabled: bool,
    pub(crate) params: KsmParams,
    /// Container memory participates only where the application opts in (MADV_MERGEABLE).
    pub containers_mergeable: bool,
    /// Interval of the `timeline.csv` samples.
    pub timeline_interval: SimTime,
}

impl KsmSettings {
    pub fn scan_rate_pages_per_s(&self) -> f64 {
        self.params.scan_rate_pages_per_s()
    }
}
