//! Linux KSM (Kernel Samepage Merging) on one host, simulated per *page
//! class* instead of per page.
//!
//! Sources: `Documentation/admin-guide/mm/ksm.rst` and `mm/ksm.c`
//! (`ksm_scan_thread`, `ksm_do_scan`, `scan_get_next_rmap_item`,
//! `cmp_and_merge_page`, `stable_tree_search`, `choose_stable_node_dup`,
//! `stable_tree_append`, `remove_rmap_item_from_tree`, `__ksm_enter`).
//!
//! # What is simulated
//!
//! *ksmd timing.* ksmd wakes, scans `pages_to_scan` pages (one core busy for
//! `pages_to_scan * per_page_ns`), then sleeps `sleep_millisecs` rounded up to
//! whole jiffies plus one jiffy (measured: 20 ms sleeps 24 ms at HZ=250). The
//! cursor moves in whole batches at the wake-up instants: every page of a
//! batch changes state at the instant of its wake-up. A batch stops early when
//! the cursor runs off the end of the mm list (`scan_get_next_rmap_item`
//! returns NULL after `seqnr++`), so a pass of `N` scannable pages takes
//! exactly `N / pages_to_scan + 1` wake-ups, the last one scanning
//! `N % pages_to_scan` pages (possibly none), and the next pass starts one
//! sleep after that short batch. With no mergeable region ksmd does not wake
//! at all (`ksmd_should_run()` is false); adding the first region wakes it at
//! once (`__ksm_enter`: `wake_up_interruptible`). We count every wake-up
//! taken while at least one region is registered (including the short
//! pass-ending one), and `cpu_ns = wakeups * per_wake_ns + pages_scanned *
//! per_page_ns`.
//!
//! *Regions.* The cursor walks regions in list order, segments in address
//! order. A new region goes where `__ksm_enter` puts it:
//! `list_add_tail(new, cursor's slot)`, i.e. immediately *before* the region
//! the cursor is in ("just behind the scanning cursor"). Note what that means:
//! the cursor has already passed that position, so a region added mid-pass is
//! first scanned in the *next* pass (between its predecessor and the cursor's
//! region). Only when the cursor sits at the list head (between passes) does
//! the new region land at the tail and get scanned last in the coming pass.
//!
//! *Per-page semantics* (`cmp_and_merge_page`), applied to runs of pages with
//! identical state:
//! 1. A page that is already a KSM page stays one.
//! 2. Otherwise the stable tree is searched FIRST (before any checksum test,
//!    exactly as the kernel does, so a brand-new guest whose content is
//!    already in the stable tree merges on its very first visit). A match
//!    with room (fewer than `max_page_sharing` mappers) joins that KSM page.
//! 3. Otherwise, if the checksum changed since the last visit (always true on
//!    the first visit, and on every visit of `Volatile` content) the new
//!    checksum is recorded and nothing else happens.
//! 4. Otherwise, with `use_zero_pages`, a zero page is merged with the
//!    kernel's zero page (`zero_pages_merged`, not `pages_sharing`; such pages
//!    are no longer anonymous, so the scanner skips them and they no longer
//!    count towards scan batches or `pages_scanned`).
//! 5. Otherwise the unstable tree is searched: a match makes a NEW KSM page
//!    holding both pages (the unstable entry is consumed); no match inserts
//!    the page into the unstable tree.
//!
//! The unstable tree is emptied when a new pass starts, but pages inserted
//! in it keep counting in `pages_unshared` until they are visited again
//! (`remove_rmap_item_from_tree` decrements the counter lazily). Hence N
//! identical new guests merge nothing in pass 1, start merging in pass 2 when
//! the cursor reaches the second guest's copy, and are fully merged when it
//! reaches the last guest's copy.
//!
//! *Contents.* `Shared(c)`: page `i` of class `c` in a region is identical to
//! page `i` of class `c` in any other region of the same scope; `i` counts
//! the class' pages across all segments of that class in the region (a class
//! is laid out like a file spread over segments), so one region never holds
//! two copies of the same page. `Zero`: all zero pages of a scope are ONE
//! content, within and across regions. `Unique`: never identical to anything.
//! `Volatile`: checksum changes on every visit, never enters a tree.
//!
//! *KSM pages and `max_page_sharing`.* For each content (each index of a
//! class, or the zero content) we keep the number `m` of mappers. KSM pages
//! are filled the way `choose_stable_node_dup` does (join the fullest dup
//! that still has room; a new dup is only created through the unstable tree
//! when all are full), which keeps dups packed: `ceil(m / M)` KSM pages, all
//! full but one. Counters follow `stable_tree_append`: per KSM page the first
//! mapper counts in `pages_shared`, the others in `pages_sharing`.
//! Approximation: when mappers go away (region removal, copy-on-write) we
//! re-pack instead of leaving holes in several dups; the kernel's dups are
//! mostly filled by consecutive pages of one region, so removing a region
//! empties whole dups there too. As in the kernel, a KSM page left with one
//! mapper stays a KSM page (1 in `pages_shared`, saves nothing) until that
//! mapper goes too; then it is freed.
//!
//! *Copy-on-write.* `cow_pages_per_s` writes per second hit a region's
//! merged pages. Event-friendly approximation: when the cursor enters a
//! segment, `floor(rate * seconds since its previous entry + carry)` writes
//! are due; they break the first that-many KSM-merged pages of the segment in
//! walk order at the moment the cursor visits them (like the kernel, whose
//! counters only notice a broken KSM page when the scanner revisits it). The
//! written page becomes Unique content: it leaves its KSM page (`m - 1`),
//! its checksum changed (counts as volatile), and one pass later it sits in
//! the unstable tree. Writes beyond the number of merged pages are lost.
//! Pages merged with the zero page (`use_zero_pages`) are not hit by CoW.
//!
//! *Scope.* `Host`: one set of trees. `Tenant`: trees per tenant, so nothing
//! ever merges across tenants.
//!
//! *Counters* (`/sys/kernel/mm/ksm/*`): `pages_shared`, `pages_sharing`,
//! `pages_unshared`, `pages_volatile` (= rmap items in no tree, as the kernel
//! computes it: includes pages seen once so far and volatile pages; zero-page
//! merged pages are not included, they are `zero_pages_merged`),
//! `full_scans`, `pages_scanned`, plus `wakeups`, `cpu_ns`. They are exact
//! at any time: pages of the partially scanned segment are computed at page
//! granularity from the number of batches done.
//!
//! # Driving the model
//! Call `advance(t)` when `next_event_ns()` fires (the wake-up that finishes
//! a segment, or the one that ends the pass) and reschedule. `counters(t)` is
//! exact for any `t` at or after the last call; for `t` past
//! `next_event_ns()` without a matching `advance` it simulates on a clone
//! (slow path, allocates). Times earlier than the last call are clamped to
//! it. Ties: `add_region`/`remove_region` at time t act before a ksmd wake-up
//! at t that has not been `advance`d yet, so guests added together at t are
//! all on the list when ksmd first runs.
//!
//! # Cost
//! State is kept as runs of pages (per segment) and runs of content indices
//! (per class), both piecewise constant, so work is proportional to the
//! number of segments, never to page counts: one event per segment visit plus
//! one per pass end. Vectors are allocated on `add_region` and keep their
//! capacity; the steady state does not allocate. Not modelled: NUMA
//! (`merge_across_nodes`), `smart_scan` (6.7+ skips pages that did not merge
//! recently; we behave like `smart_scan = 0`), the stable-node chain pruning
//! timer, THP splitting, merge failures.

use std::collections::BTreeMap;

const NS_PER_S: u64 = 1_000_000_000;

/// Which pages may be merged with which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KsmScope {
    /// One stable/unstable tree pair for the whole host (kernel behaviour).
    Host,
    /// Separate trees per tenant: no cross-tenant merging (side-channel safe).
    Tenant,
}

/// ksmd tunables (`/sys/kernel/mm/ksm/`) plus measured costs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct KsmParams {
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

impl Default for KsmParams {
    fn default() -> Self {
        KsmParams {
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

impl KsmParams {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.pages_to_scan == 0 {
            return Err("ksm: pages_to_scan must be > 0".into());
        }
        if self.sleep_millisecs == 0 {
            return Err("ksm: sleep_millisecs must be > 0".into());
        }
        if self.hz == 0 {
            return Err("ksm: hz must be > 0".into());
        }
        if self.max_page_sharing < 2 {
            return Err("ksm: max_page_sharing must be >= 2 (kernel minimum)".into());
        }
        Ok(())
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
}

/// What a segment's pages contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// Content class: page i of class c in one region is identical to page
    /// i of class c in every other region (of the same scope).
    Shared(u32),
    /// Never identical to anything.
    Unique,
    /// Zero-filled pages: all identical to each other, within and across regions.
    Zero,
    /// Rewritten too often: checksum always changes, never merges.
    Volatile,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SegmentSpec {
    pub(crate) content: Content,
    pub(crate) pages: u64,
}

/// The kernel's counters (names as in `/sys/kernel/mm/ksm/`) plus ours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KsmCounters {
    /// KSM pages in the stable tree.
    pub(crate) pages_shared: u64,
    /// Additional mappings of KSM pages = pages saved.
    pub(crate) pages_sharing: u64,
    /// Pages in the unstable tree (checked repeatedly, unique so far).
    pub(crate) pages_unshared: u64,
    /// Visited pages in no tree (changing too fast, or seen only once yet).
    pub(crate) pages_volatile: u64,
    pub(crate) full_scans: u64,
    pub(crate) pages_scanned: u64,
    pub(crate) wakeups: u64,
    pub(crate) cpu_ns: u64,
    /// Pages merged with the kernel zero page (`ksm_zero_pages`).
    pub(crate) zero_pages_merged: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RegionId(pub(crate) u32);

/// State of a page as ksmd sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    /// Never visited: no rmap_item.
    Fresh,
    /// Checksum recorded, in no tree (counts as `pages_volatile`).
    Seen,
    /// Inserted in the unstable tree (counts as `pages_unshared` until revisited).
    Unstable,
    /// A mapping of a KSM page.
    Stable,
    /// Merged with the kernel zero page (`use_zero_pages`); skipped by scans.
    ZeroMerged,
}

/// A run of consecutive pages of one segment in the same state.
/// `uniq`: content turned Unique by a copy-on-write write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    len: u64,
    uniq: bool,
    st: St,
}

/// The page (range) of a segment sitting in the unstable tree for a content.
/// Valid only during pass `pass` (the tree is emptied at each pass start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Owner {
    region: u32,
    seg: u32,
    pass: u64,
}

/// A range of content indices of one class with identical state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Col {
    start: u64,
    end: u64,
    /// Mappers of the KSM page(s) of each index in the range.
    m: u64,
    owner: Option<Owner>,
}

/// Per (scope, class): sorted, non-overlapping columns covering every index
/// any region uses.
#[derive(Clone, Debug, Default)]
struct ClassTable {
    cols: Vec<Col>,
}

impl ClassTable {
    /// Index of the first column ending after `idx` (the one containing it
    /// when `idx` is covered).
    fn find(&self, idx: u64) -> usize {
        self.cols.partition_point(|c| c.end <= idx)
    }

    fn split_at(&mut self, idx: u64) {
        let i = self.find(idx);
        if i < self.cols.len() && self.cols[i].start < idx {
            let right = Col {
                start: idx,
                ..self.cols[i]
            };
            self.cols[i].end = idx;
            self.cols.insert(i + 1, right);
        }
    }

    fn cover(&mut self, a: u64, b: u64) {
        let mut x = a;
        while x < b {
            let i = self.find(x);
            if i < self.cols.len() && self.cols[i].start <= x {
                x = self.cols[i].end;
            } else {
                let end = if i < self.cols.len() {
                    self.cols[i].start.min(b)
                } else {
                    b
                };
                self.cols.insert(
                    i,
                    Col {
                        start: x,
                        end,
                        m: 0,
                        owner: None,
                    },
                );
                x = end;
            }
        }
    }

    /// Merge equal neighbours around `[a, b)` so the table does not fragment.
    /// Stale owners (an earlier pass) behave like no owner and compare so.
    fn coalesce(&mut self, a: u64, b: u64, pass: u64) {
        let live = |o: Option<Owner>| o.filter(|o| o.pass == pass);
        let mut i = self.find(a).saturating_sub(1);
        while i + 1 < self.cols.len() && self.cols[i].start <= b {
            let (l, r) = (self.cols[i], self.cols[i + 1]);
            if l.end == r.start && l.m == r.m && live(l.owner) == live(r.owner) {
                self.cols[i].end = r.end;
                self.cols[i].owner = live(l.owner);
                self.cols.remove(i + 1);
            } else {
                i += 1;
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ZOwner {
    region: u32,
    seg: u32,
    off: u64,
    pass: u64,
}

/// The zero content of one scope (`use_zero_pages` off).
#[derive(Clone, Copy, Debug, Default)]
struct ZeroPool {
    m: u64,
    owner: Option<ZOwner>,
}

#[derive(Clone, Debug)]
struct Seg {
    content: Content,
    pages: u64,
    /// ClassTable index (Shared) or ZeroPool index (Zero, pool mode).
    unit: usize,
    /// Class index of this segment's first page (Shared).
    base: u64,
    runs: Vec<Run>,
    last_entry_ns: u64,
    cow_carry: f64,
}

#[derive(Clone, Debug)]
struct Region {
    cow_pages_per_s: f64,
    segs: Vec<Seg>,
}

/// Signed counter changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Delta {
    shared: i64,
    sharing: i64,
    unshared: i64,
    volatile: i64,
    zero: i64,
}

impl Delta {
    fn add(&mut self, o: &Delta) {
        self.shared += o.shared;
        self.sharing += o.sharing;
        self.unshared += o.unshared;
        self.volatile += o.volatile;
        self.zero += o.zero;
    }

    /// Pages entering (`n > 0`) or leaving (`n < 0`) state `st`.
    fn state(&mut self, st: St, n: i64) {
        match st {
            St::Seen => self.volatile += n,
            St::Unstable => self.unshared += n,
            St::ZeroMerged => self.zero += n,
            St::Fresh | St::Stable => {}
        }
    }

    /// `n` contents whose mapper count goes from `m0` to `m1`.
    fn mappers(&mut self, m0: u64, m1: u64, cap: u64, n: u64) {
        let (s0, g0) = shared_sharing(m0, cap);
        let (s1, g1) = shared_sharing(m1, cap);
        self.shared += (s1 - s0) * n as i64;
        self.sharing += (g1 - g0) * n as i64;
    }
}

/// Packed dups: `ceil(m / cap)` KSM pages, the rest of the mappers sharing.
fn shared_sharing(m: u64, cap: u64) -> (i64, i64) {
    let s = m.div_ceil(cap);
    (s as i64, (m - s) as i64)
}

/// Where the cursor is. `pos == order.len()` means "ran off the end of the
/// list": the pass ends at the next wake-up.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    pos: usize,
    seg: usize,
    /// Pass position (scannable pages) at which this segment's visit starts.
    seg_start: u64,
    /// Scannable pages of this visit (fixed when the cursor enters).
    visit_len: u64,
    /// Scannable pages of this visit already applied to the state.
    done: u64,
    /// Page offset just after the applied pages.
    done_off: u64,
    /// CoW writes still due in this visit.
    budget: u64,
    entered: bool,
}

/// Local view while walking a segment (shared by commit and dry runs).
#[derive(Clone, Copy, Debug)]
struct Walk {
    off: u64,
    left: u64,
    budget: u64,
    zm: u64,
    zvalid: bool,
}

#[derive(Clone, Copy, Debug)]
struct ColAct {
    idx: u64,
    new_m: u64,
    merge_owner: bool,
    set_owner: bool,
}

#[derive(Clone, Copy, Debug)]
struct ZeroAct {
    new_m: u64,
    merge_old: bool,
    new_owner_off: Option<u64>,
    new_valid: bool,
}

/// The outcome of visiting `len` pages from `Walk::off`, all behaving alike.
#[derive(Clone, Copy, Debug)]
struct Piece {
    len: u64,
    scan: u64,
    parts: [Run; 2],
    nparts: usize,
    col: Option<ColAct>,
    zero: Option<ZeroAct>,
    budget_used: u64,
    delta: Delta,
}

impl Piece {
    fn new(len: u64, scan: u64) -> Piece {
        let r = Run {
            len: 0,
            uniq: false,
            st: St::Fresh,
        };
        Piece {
            len,
            scan,
            parts: [r; 2],
            nparts: 0,
            col: None,
            zero: None,
            budget_used: 0,
            delta: Delta::default(),
        }
    }

    /// All `len` pages go from `old` to (`uniq`, `st`).
    fn uniform(&mut self, old: Run, uniq: bool, st: St) {
        if old.uniq == uniq && old.st == st {
            return;
        }
        self.parts[0] = Run {
            len: self.len,
            uniq,
            st,
        };
        self.nparts = 1;
        self.delta.state(old.st, -(self.len as i64));
        self.delta.state(st, self.len as i64);
    }
}

fn find_run(runs: &[Run], off: u64) -> (Run, u64) {
    let mut acc = 0;
    for r in runs {
        if off < acc + r.len {
            return (*r, acc);
        }
        acc += r.len;
    }
    panic!("ksm: page offset {off} outside segment");
}

/// Split so that a run starts at `off`; returns that run's index.
fn split_runs(runs: &mut Vec<Run>, off: u64) -> usize {
    let mut acc = 0;
    for i in 0..runs.len() {
        if acc == off {
            return i;
        }
        let end = acc + runs[i].len;
        if off < end {
            let right = Run {
                len: end - off,
                ..runs[i]
            };
            runs[i].len = off - acc;
            runs.insert(i + 1, right);
            return i + 1;
        }
        acc = end;
    }
    runs.len()
}

/// Overwrite pages `[off, off+len)` with one state, keeping runs coalesced.
fn set_range(runs: &mut Vec<Run>, off: u64, len: u64, uniq: bool, st: St) {
    if len == 0 {
        return;
    }
    let i = split_runs(runs, off);
    let j = split_runs(runs, off + len);
    runs[i] = Run { len, uniq, st };
    runs.drain(i + 1..j);
    let same = |a: &Run, b: &Run| a.uniq == b.uniq && a.st == b.st;
    if i + 1 < runs.len() && same(&runs[i], &runs[i + 1]) {
        runs[i].len += runs[i + 1].len;
        runs.remove(i + 1);
    }
    if i > 0 && same(&runs[i - 1], &runs[i]) {
        runs[i - 1].len += runs[i].len;
        runs.remove(i);
    }
}

/// The KSM model of one host. See the module docs.
#[derive(Clone, Debug)]
pub(crate) struct Ksm {
    p: KsmParams,
    batch: u64,
    period: u64,
    sleep_eff: u64,
    cap: u64,
    regions: Vec<Option<Region>>,
    /// Region ids in ksm_mm_head list order.
    order: Vec<u32>,
    classes: Vec<ClassTable>,
    class_idx: BTreeMap<(u32, u32), usize>,
    zeros: Vec<ZeroPool>,
    zero_idx: BTreeMap<u32, usize>,
    /// ksmd has mergeable regions and wakes periodically.
    running: bool,
    pass_seq: u64,
    /// Time of wake-up 0 of the current pass.
    pass_start: u64,
    cur: Cursor,
    /// Region of the last page scanned in this pass; None = cursor at the list head.
    last_scanned: Option<u32>,
    committed: Delta,
    full_scans: u64,
    wakes_prev: u64,
    scanned_prev: u64,
    now: u64,
    work: u64,
}

impl Ksm {
    /// Panics if `params.validate()` fails.
    pub(crate) fn new(params: KsmParams, start_ns: u64) -> Ksm {
        if let Err(e) = params.validate() {
            panic!("{e}");
        }
        Ksm {
            batch: u64::from(params.pages_to_scan),
            period: params.wake_period_ns(),
            sleep_eff: params.sleep_eff_ns(),
            cap: u64::from(params.max_page_sharing),
            p: params,
            regions: Vec::new(),
            order: Vec::new(),
            classes: Vec::new(),
            class_idx: BTreeMap::new(),
            zeros: Vec::new(),
            zero_idx: BTreeMap::new(),
            running: false,
            pass_seq: 0,
            pass_start: start_ns,
            cur: Cursor::default(),
            last_scanned: None,
            committed: Delta::default(),
            full_scans: 0,
            wakes_prev: 0,
            scanned_prev: 0,
            now: start_ns,
            work: 0,
        }
    }

    /// Debug counter: internal steps (segment visits, pass ends) processed.
    #[cfg(test)]
    pub(crate) fn work_steps(&self) -> u64 {
        self.work
    }

    fn scope_key(&self, tenant: u32) -> u32 {
        match self.p.scope {
            KsmScope::Host => 0,
            KsmScope::Tenant => tenant,
        }
    }

    pub(crate) fn add_region(
        &mut self,
        now_ns: u64,
        tenant: u32,
        segments: &[SegmentSpec],
        cow_pages_per_s: f64,
    ) -> RegionId {
        let now = now_ns.max(self.now);
        self.catch_up_before(now);
        let id = self.regions.len() as u32;
        let scope = self.scope_key(tenant);
        let mut class_off: BTreeMap<u32, u64> = BTreeMap::new();
        let mut segs = Vec::with_capacity(segments.len());
        for s in segments {
            let (unit, base) = match s.content {
                Content::Shared(c) => {
                    let n = self.classes.len();
                    let unit = *self.class_idx.entry((scope, c)).or_insert(n);
                    if unit == n {
                        self.classes.push(ClassTable {
                            cols: Vec::with_capacity(8),
                        });
                    }
                    let off = class_off.entry(c).or_insert(0);
                    let base = *off;
                    *off += s.pages;
                    self.classes[unit].cover(base, base + s.pages);
                    (unit, base)
                }
                Content::Zero if !self.p.use_zero_pages => {
                    let n = self.zeros.len();
                    let unit = *self.zero_idx.entry(scope).or_insert(n);
                    if unit == n {
                        self.zeros.push(ZeroPool::default());
                    }
                    (unit, 0)
                }
                _ => (usize::MAX, 0),
            };
            let mut runs = Vec::with_capacity(6);
            if s.pages > 0 {
                runs.push(Run {
                    len: s.pages,
                    uniq: false,
                    st: St::Fresh,
                });
            }
            segs.push(Seg {
                content: s.content,
                pages: s.pages,
                unit,
                base,
                runs,
                last_entry_ns: now,
                cow_carry: 0.0,
            });
        }
        self.regions.push(Some(Region {
            cow_pages_per_s: cow_pages_per_s.max(0.0),
            segs,
        }));
        if !self.running {
            // ksmd was waiting for a mergeable mm: woken at once, new pass.
            self.running = true;
            self.pass_seq += 1;
            self.pass_start = now;
            self.cur = Cursor::default();
            self.last_scanned = None;
            self.order.push(id);
        } else {
            // __ksm_enter: list_add_tail(new, cursor's slot).
            match self
                .last_scanned
                .and_then(|r| self.order.iter().position(|&x| x == r))
            {
                Some(pos) => {
                    self.order.insert(pos, id);
                    if self.cur.pos >= pos {
                        self.cur.pos += 1;
                    }
                }
                None => self.order.push(id),
            }
        }
        self.settle();
        RegionId(id)
    }

    pub(crate) fn remove_region(&mut self, now_ns: u64, id: RegionId) {
        let now = now_ns.max(self.now);
        self.catch_up_before(now);
        let Some(region) = self.regions.get_mut(id.0 as usize).and_then(Option::take) else {
            return;
        };
        let pos = self
            .order
            .iter()
            .position(|&r| r == id.0)
            .expect("ksm: region not in list");
        // Its mappings and tree entries go away (the kernel does this lazily
        // on the next scan, which it moves right behind the cursor).
        for seg in &region.segs {
            let mut off = 0;
            for run in &seg.runs {
                self.committed.state(run.st, -(run.len as i64));
                if run.st == St::Stable && !run.uniq {
                    match seg.content {
                        Content::Shared(_) => {
                            let t = &mut self.classes[seg.unit];
                            let (a, b) = (seg.base + off, seg.base + off + run.len);
                            t.split_at(a);
                            t.split_at(b);
                            let mut i = t.find(a);
                            while i < t.cols.len() && t.cols[i].start < b {
                                let c = &mut t.cols[i];
                                self.committed
                                    .mappers(c.m, c.m - 1, self.cap, c.end - c.start);
                                c.m -= 1;
                                i += 1;
                            }
                        }
                        Content::Zero => {
                            let z = &mut self.zeros[seg.unit];
                            self.committed.mappers(z.m, z.m - run.len, self.cap, 1);
                            z.m -= run.len;
                        }
                        _ => {}
                    }
                }
                off += run.len;
            }
            match seg.content {
                Content::Shared(_) => {
                    let t = &mut self.classes[seg.unit];
                    let mut i = t.find(seg.base);
                    while i < t.cols.len() && t.cols[i].start < seg.base + seg.pages {
                        if t.cols[i].owner.is_some_and(|o| o.region == id.0) {
                            t.cols[i].owner = None;
                        }
                        i += 1;
                    }
                    t.coalesce(seg.base, seg.base + seg.pages, self.pass_seq);
                }
                Content::Zero if seg.unit != usize::MAX => {
                    let z = &mut self.zeros[seg.unit];
                    if z.owner.is_some_and(|o| o.region == id.0) {
                        z.owner = None;
                    }
                }
                _ => {}
            }
        }
        self.order.remove(pos);
        if self.last_scanned == Some(id.0) {
            // New regions would have gone before the exiting slot, i.e.
            // before whatever follows it now.
            self.last_scanned = self.order.get(pos).copied();
        }
        if !self.running {
            return;
        }
        if self.cur.pos > pos {
            self.cur.pos -= 1;
        } else if self.cur.pos == pos {
            // The cursor skips the rest of the exiting mm.
            self.cur.seg_start += self.cur.done;
            self.cur.seg = 0;
            self.cur.entered = false;
        }
        if self.order.is_empty() {
            // Nothing left to scan: ksmd waits for the next mergeable mm and
            // the unfinished pass is abandoned.
            self.wakes_prev += self.wakes_before(now);
            self.scanned_prev += self.cur.seg_start;
            self.running = false;
            self.cur = Cursor::default();
            self.last_scanned = None;
            return;
        }
        self.settle();
    }

    /// Absolute time of the next wake-up that changes state in a way the
    /// caller must drive (a segment finishes, or the pass ends).
    pub(crate) fn next_event_ns(&self) -> Option<u64> {
        if !self.running {
            return None;
        }
        let last = if self.cur.pos >= self.order.len() {
            // The wake-up that asks for one page beyond the end.
            self.cur.seg_start
        } else {
            self.cur.seg_start + self.cur.visit_len - 1
        };
        Some(self.pass_start + (last / self.batch) * self.period)
    }

    pub(crate) fn advance(&mut self, now_ns: u64) {
        if now_ns < self.now {
            return;
        }
        while let Some(ev) = self.next_event_ns() {
            if ev > now_ns {
                break;
            }
            self.step(ev);
        }
        self.now = now_ns;
    }

    pub(crate) fn counters(&self, now_ns: u64) -> KsmCounters {
        let now = now_ns.max(self.now);
        if self.next_event_ns().is_some_and(|e| now >= e) {
            // Slow path (allocates): the caller has not driven us that far.
            let mut k = self.clone();
            k.advance(now);
            return k.counters(now);
        }
        let mut d = self.committed;
        let (mut wakes, mut scanned) = (self.wakes_prev, self.scanned_prev);
        if self.running {
            let w = self.wakes_by(now);
            let at_end = self.cur.pos >= self.order.len();
            let limit = self.cur.seg_start + if at_end { 0 } else { self.cur.visit_len };
            let in_pass = (w * self.batch).min(limit);
            wakes += w;
            scanned += in_pass;
            let applied = self.cur.seg_start + self.cur.done;
            if !at_end && in_pass > applied {
                let mut walk = self.walk_start(in_pass - applied);
                while walk.left > 0 {
                    let pc = self.plan(&walk);
                    d.add(&pc.delta);
                    Self::absorb(&mut walk, &pc);
                }
            }
        }
        let c = |x: i64| {
            debug_assert!(x >= 0, "ksm: negative counter");
            x.max(0) as u64
        };
        KsmCounters {
            pages_shared: c(d.shared),
            pages_sharing: c(d.sharing),
            pages_unshared: c(d.unshared),
            pages_volatile: c(d.volatile),
            full_scans: self.full_scans,
            pages_scanned: scanned,
            wakeups: wakes,
            cpu_ns: wakes * self.p.per_wake_ns + scanned * self.p.per_page_ns,
            zero_pages_merged: c(d.zero),
        }
    }

    pub(crate) fn saved_pages(&self, now_ns: u64) -> u64 {
        let c = self.counters(now_ns);
        c.pages_sharing
            + if self.p.use_zero_pages {
                c.zero_pages_merged
            } else {
                0
            }
    }

    // ----- scanning -------------------------------------------------------

    /// Wake-ups of the current pass at or before `t`.
    fn wakes_by(&self, t: u64) -> u64 {
        if t < self.pass_start {
            0
        } else {
            (t - self.pass_start) / self.period + 1
        }
    }

    /// Wake-ups of the current pass strictly before `t`.
    fn wakes_before(&self, t: u64) -> u64 {
        if t <= self.pass_start {
            0
        } else {
            self.wakes_by(t - 1)
        }
    }

    /// Process the event due at wake-up time `ev`.
    fn step(&mut self, ev: u64) {
        self.work += 1;
        if self.cur.pos >= self.order.len() {
            // scan_get_next_rmap_item ran off the list: seqnr++, return NULL.
            let n = self.cur.seg_start;
            let w = n / self.batch;
            debug_assert_eq!(self.pass_start + w * self.period, ev);
            self.full_scans += 1;
            self.wakes_prev += w + 1;
            self.scanned_prev += n;
            self.pass_start = ev + (n - w * self.batch) * self.p.per_page_ns + self.sleep_eff;
            self.pass_seq += 1;
            self.cur = Cursor::default();
            self.last_scanned = None;
            self.settle();
            return;
        }
        let k = self.cur.visit_len - self.cur.done;
        self.visit_commit(k);
        self.settle();
    }

    /// Bring the state to just before `now`. Ties: an add/remove at time t
    /// happens before a ksmd wake-up at t that has not been processed yet
    /// (so guests added together at t are all in the list when ksmd runs).
    fn catch_up_before(&mut self, now: u64) {
        if now > self.now {
            self.advance(now - 1);
        }
        if !self.running || self.cur.pos >= self.order.len() || now <= self.pass_start {
            return;
        }
        // Apply the pages of the current segment scanned before `now`.
        let scanned = self.wakes_before(now) * self.batch;
        let applied = self.cur.seg_start + self.cur.done;
        if scanned > applied {
            let k = (scanned - applied).min(self.cur.visit_len - self.cur.done);
            self.visit_commit(k);
        }
    }

    /// Move the cursor to a segment with pages left to scan, or to the end.
    fn settle(&mut self) {
        loop {
            if self.cur.pos >= self.order.len() {
                self.cur.pos = self.order.len();
                return;
            }
            let rid = self.order[self.cur.pos] as usize;
            let nsegs = self.regions[rid].as_ref().map_or(0, |r| r.segs.len());
            if self.cur.seg >= nsegs {
                self.cur.pos += 1;
                self.cur.seg = 0;
                self.cur.entered = false;
                continue;
            }
            if !self.cur.entered {
                self.enter(rid);
            }
            if self.cur.done < self.cur.visit_len {
                return;
            }
            self.cur.seg_start += self.cur.visit_len;
            self.cur.seg += 1;
            self.cur.entered = false;
        }
    }

    /// The cursor reaches a segment: fix this visit's length and CoW budget.
    fn enter(&mut self, rid: usize) {
        let entry = self.pass_start + (self.cur.seg_start / self.batch) * self.period;
        let region = self.regions[rid].as_mut().expect("live region");
        let rate = region.cow_pages_per_s;
        let seg = &mut region.segs[self.cur.seg];
        let visit_len = seg
            .runs
            .iter()
            .filter(|r| r.st != St::ZeroMerged)
            .map(|r| r.len)
            .sum();
        let mut budget = 0;
        if rate > 0.0 {
            let dt = entry.saturating_sub(seg.last_entry_ns) as f64 / NS_PER_S as f64;
            let due = rate * dt + seg.cow_carry;
            let whole = due.floor();
            seg.cow_carry = due - whole;
            budget = (whole as u64).min(seg.pages);
        }
        seg.last_entry_ns = entry;
        self.cur.visit_len = visit_len;
        self.cur.done = 0;
        self.cur.done_off = 0;
        self.cur.budget = budget;
        self.cur.entered = true;
    }

    fn cur_ids(&self) -> (usize, usize) {
        (self.order[self.cur.pos] as usize, self.cur.seg)
    }

    fn cur_seg(&self) -> &Seg {
        let (rid, si) = self.cur_ids();
        &self.regions[rid].as_ref().expect("live region").segs[si]
    }

    fn walk_start(&self, k: u64) -> Walk {
        let seg = self.cur_seg();
        let (zm, zvalid) = if seg.content == Content::Zero && seg.unit != usize::MAX {
            let z = &self.zeros[seg.unit];
            (z.m, z.owner.is_some_and(|o| o.pass == self.pass_seq))
        } else {
            (0, false)
        };
        Walk {
            off: self.cur.done_off,
            left: k,
            budget: self.cur.budget,
            zm,
            zvalid,
        }
    }

    fn absorb(w: &mut Walk, pc: &Piece) {
        w.off += pc.len;
        w.left -= pc.scan;
        w.budget -= pc.budget_used;
        if let Some(z) = pc.zero {
            w.zm = z.new_m;
            w.zvalid = z.new_valid;
        }
    }

    /// Visit the next `k` scannable pages of the current segment for real.
    fn visit_commit(&mut self, k: u64) {
        if k == 0 {
            return;
        }
        let (rid, si) = self.cur_ids();
        let mut walk = self.walk_start(k);
        while walk.left > 0 {
            let pc = self.plan(&walk);
            self.apply(rid, si, &walk, &pc);
            Self::absorb(&mut walk, &pc);
        }
        self.cur.done += k;
        self.cur.done_off = walk.off;
        self.cur.budget = walk.budget;
        self.last_scanned = Some(rid as u32);
        let seg = self.cur_seg();
        if matches!(seg.content, Content::Shared(_)) {
            let (unit, a, b) = (seg.unit, seg.base, seg.base + seg.pages);
            self.classes[unit].coalesce(a, b, self.pass_seq);
        }
    }

    /// What happens to the pages from `w.off` on (cmp_and_merge_page, per run).
    fn plan(&self, w: &Walk) -> Piece {
        let seg = self.cur_seg();
        let cap = self.cap;
        let (run, run_start) = find_run(&seg.runs, w.off);
        let run_rest = run_start + run.len - w.off;
        if run.st == St::ZeroMerged {
            // No longer an anonymous page: the walk skips it for free.
            return Piece::new(run_rest, 0);
        }
        let len = run_rest.min(w.left);
        if run.uniq || seg.content == Content::Unique {
            let mut pc = Piece::new(len, len);
            let st = match run.st {
                St::Fresh => St::Seen,
                St::Seen | St::Unstable => St::Unstable,
                s => s,
            };
            pc.uniform(run, run.uniq, st);
            return pc;
        }
        match seg.content {
            Content::Volatile => {
                let mut pc = Piece::new(len, len);
                pc.uniform(run, false, St::Seen);
                pc
            }
            Content::Zero if self.p.use_zero_pages => {
                let mut pc = Piece::new(len, len);
                let st = if run.st == St::Fresh {
                    St::Seen
                } else {
                    St::ZeroMerged
                };
                pc.uniform(run, false, st);
                pc
            }
            Content::Zero => self.plan_zero(w, run, len),
            Content::Shared(_) => {
                let idx = seg.base + w.off;
                let t = &self.classes[seg.unit];
                let col = t.cols[t.find(idx)];
                debug_assert!(col.start <= idx);
                let len = len.min(col.end - idx);
                let owner_valid = col.owner.is_some_and(|o| o.pass == self.pass_seq);
                let mut act = ColAct {
                    idx,
                    new_m: col.m,
                    merge_owner: false,
                    set_owner: false,
                };
                let mut pc;
                if run.st == St::Stable {
                    if w.budget == 0 {
                        return Piece::new(len, len);
                    }
                    // CoW broke these: they leave the KSM page, new checksum.
                    let n = len.min(w.budget);
                    pc = Piece::new(n, n);
                    pc.budget_used = n;
                    pc.uniform(run, true, St::Seen);
                    act.new_m = col.m - 1;
                } else {
                    pc = Piece::new(len, len);
                    if !col.m.is_multiple_of(cap) {
                        // stable_tree_search: a KSM page with room.
                        pc.uniform(run, false, St::Stable);
                        act.new_m = col.m + 1;
                    } else if run.st == St::Fresh {
                        // First visit: only the checksum is recorded.
                        pc.uniform(run, false, St::Seen);
                    } else if owner_valid {
                        // Unstable-tree match: a new KSM page for both.
                        pc.uniform(run, false, St::Stable);
                        pc.delta.unshared -= len as i64;
                        act.new_m = col.m + 2;
                        act.merge_owner = true;
                    } else {
                        pc.uniform(run, false, St::Unstable);
                        act.set_owner = true;
                    }
                }
                pc.delta.mappers(col.m, act.new_m, cap, pc.len);
                pc.col = Some(act);
                pc
            }
            Content::Unique => unreachable!(),
        }
    }

    /// Zero content without use_zero_pages: all zero pages of the scope are
    /// one content, so consecutive pages interact. Closed form for a run.
    fn plan_zero(&self, w: &Walk, run: Run, len: u64) -> Piece {
        let cap = self.cap;
        let m0 = w.zm;
        if run.st == St::Stable {
            if w.budget == 0 {
                return Piece::new(len, len);
            }
            let n = len.min(w.budget);
            let mut pc = Piece::new(n, n);
            pc.budget_used = n;
            pc.uniform(run, true, St::Seen);
            pc.delta.mappers(m0, m0 - n, cap, 1);
            pc.zero = Some(ZeroAct {
                new_m: m0 - n,
                merge_old: false,
                new_owner_off: None,
                new_valid: w.zvalid,
            });
            return pc;
        }
        let mut pc = Piece::new(len, len);
        let mut m = m0;
        let mut valid = w.zvalid;
        // Join the KSM page that still has room (the fullest non-full dup).
        let room = if m.is_multiple_of(cap) {
            0
        } else {
            cap - m % cap
        };
        let joined = room.min(len);
        m += joined;
        let rest = len - joined;
        let (mut n_stable, mut n_seen, mut n_unstable) = (joined, 0, 0);
        let mut merge_old = false;
        let mut new_owner_off = None;
        if rest > 0 {
            if run.st == St::Fresh {
                n_seen = rest;
            } else {
                let mut x = rest;
                if valid {
                    // Merge with the unstable page, then fill the new KSM page.
                    let take = x.min(cap - 1);
                    m += take + 1;
                    n_stable += take;
                    x -= take;
                    merge_old = true;
                    valid = false;
                }
                // Cycles of cap pages: insert, merge (new KSM page), cap-2 joins.
                m += (x / cap) * cap;
                n_stable += (x / cap) * cap;
                let q = x % cap;
                if q == 1 {
                    n_unstable = 1;
                    valid = true;
                    new_owner_off = Some(w.off + len - 1);
                } else if q >= 2 {
                    m += q;
                    n_stable += q;
                }
            }
        }
        let mut np = 0;
        for (n, st) in [
            (n_stable, St::Stable),
            (n_seen, St::Seen),
            (n_unstable, St::Unstable),
        ] {
            if n > 0 {
                pc.parts[np] = Run {
                    len: n,
                    uniq: false,
                    st,
                };
                np += 1;
                pc.delta.state(st, n as i64);
            }
        }
        pc.nparts = np;
        pc.delta.state(run.st, -(len as i64));
        if merge_old {
            pc.delta.unshared -= 1;
        }
        pc.delta.mappers(m0, m, cap, 1);
        pc.zero = Some(ZeroAct {
            new_m: m,
            merge_old,
            new_owner_off,
            new_valid: valid,
        });
        pc
    }

    fn seg_mut(&mut self, region: usize, seg: usize) -> &mut Seg {
        &mut self.regions[region].as_mut().expect("live region").segs[seg]
    }

    fn apply(&mut self, rid: usize, si: usize, w: &Walk, pc: &Piece) {
        let pass = self.pass_seq;
        {
            let runs = &mut self.seg_mut(rid, si).runs;
            let mut o = w.off;
            for part in &pc.parts[..pc.nparts] {
                set_range(runs, o, part.len, part.uniq, part.st);
                o += part.len;
            }
        }
        if let Some(a) = pc.col {
            let unit = self.seg_mut(rid, si).unit;
            let t = &mut self.classes[unit];
            t.split_at(a.idx);
            t.split_at(a.idx + pc.len);
            let ci = t.find(a.idx);
            let old_owner = t.cols[ci].owner;
            t.cols[ci].m = a.new_m;
            if a.merge_owner {
                t.cols[ci].owner = None;
                let o = old_owner.expect("valid owner");
                let oseg = self.seg_mut(o.region as usize, o.seg as usize);
                let off = a.idx - oseg.base;
                set_range(&mut oseg.runs, off, pc.len, false, St::Stable);
            }
            if a.set_owner {
                self.classes[unit].cols[ci].owner = Some(Owner {
                    region: rid as u32,
                    seg: si as u32,
                    pass,
                });
            }
        }
        if let Some(z) = pc.zero {
            let unit = self.seg_mut(rid, si).unit;
            let old = self.zeros[unit].owner;
            self.zeros[unit].m = z.new_m;
            if z.merge_old {
                self.zeros[unit].owner = None;
                let o = old.expect("valid zero owner");
                let oseg = self.seg_mut(o.region as usize, o.seg as usize);
                set_range(&mut oseg.runs, o.off, 1, false, St::Stable);
            }
            if let Some(off) = z.new_owner_off {
                self.zeros[unit].owner = Some(ZOwner {
                    region: rid as u32,
                    seg: si as u32,
                    off,
                    pass,
                });
            }
        }
        self.committed.add(&pc.delta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;
    const U: u64 = 500;

    fn vm(s: u64, u: u64) -> Vec<SegmentSpec> {
        vec![
            SegmentSpec {
                content: Content::Shared(0),
                pages: s,
            },
            SegmentSpec {
                content: Content::Unique,
                pages: u,
            },
        ]
    }

    /// Drive the model event by event until `n` full scans are done.
    fn run_scans(k: &mut Ksm, n: u64) -> u64 {
        loop {
            let ev = k.next_event_ns().expect("ksmd running");
            k.advance(ev);
            if k.counters(ev).full_scans >= n {
                return ev;
            }
        }
    }

    /// Time of the first event at which pages_sharing reaches `target`.
    fn time_to_sharing(k: &mut Ksm, target: u64) -> u64 {
        loop {
            let ev = k.next_event_ns().expect("ksmd running");
            k.advance(ev);
            if k.counters(ev).pages_sharing >= target {
                return ev;
            }
        }
    }

    fn with_vms(p: KsmParams, n: u64, s: u64, u: u64) -> Ksm {
        let mut k = Ksm::new(p, 0);
        for _ in 0..n {
            k.add_region(0, 1, &vm(s, u), 0.0);
        }
        k
    }

    #[test]
    fn timing_formulas() {
        let p = KsmParams::default();
        // 20 ms at HZ=250: 5 jiffies + 1 = 24 ms; plus 100 * 4.3 us.
        assert_eq!(p.sleep_eff_ns(), 24_000_000);
        assert_eq!(p.wake_period_ns(), 24_430_000);
        assert!((p.scan_rate_pages_per_s() - 4093.3).abs() < 1.0);
        let p = KsmParams {
            pages_to_scan: 1000,
            ..KsmParams::default()
        };
        assert!((p.scan_rate_pages_per_s() - 35_335.7).abs() < 1.0);
    }

    #[test]
    fn validate_errors() {
        assert!(KsmParams::default().validate().is_ok());
        for bad in [
            KsmParams {
                pages_to_scan: 0,
                ..KsmParams::default()
            },
            KsmParams {
                sleep_millisecs: 0,
                ..KsmParams::default()
            },
            KsmParams {
                hz: 0,
                ..KsmParams::default()
            },
            KsmParams {
                max_page_sharing: 1,
                ..KsmParams::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    /// (a) N identical VMs: one KSM page per shared page, N-1 extra mappers
    /// each; every unique page ends up in the unstable tree.
    #[test]
    fn a_identical_vms_steady_state() {
        let n = 4;
        let mut k = with_vms(KsmParams::default(), n, S, U);
        let t = run_scans(&mut k, 3);
        let c = k.counters(t);
        assert_eq!(c.pages_shared, S);
        assert_eq!(c.pages_sharing, (n - 1) * S);
        assert_eq!(c.pages_unshared, n * U);
        assert_eq!(c.pages_volatile, 0);
    }

    /// (a) max_page_sharing = 2, N = 5. Per shared page index, pass 2 visits
    /// the 5 copies in order: #1 goes to the unstable tree, #2 matches it ->
    /// KSM page A (2 mappers, full), #3 finds A full -> unstable, #4 matches
    /// -> KSM page B (full), #5 finds A and B full and no unstable partner ->
    /// unstable; in every later pass #5 is alone again. So per index:
    /// shared 2, sharing 2, unshared 1 => pages_shared = 2S,
    /// pages_sharing = 2S, pages_unshared = S + 5U.
    #[test]
    fn a_max_page_sharing_cap() {
        let p = KsmParams {
            max_page_sharing: 2,
            ..KsmParams::default()
        };
        let mut k = with_vms(p, 5, S, U);
        for scans in 2..6 {
            let t = run_scans(&mut k, scans);
            let c = k.counters(t);
            assert_eq!(c.pages_shared, 2 * S);
            assert_eq!(c.pages_sharing, 2 * S);
            assert_eq!(c.pages_unshared, S + 5 * U);
            // No KSM page has more than 2 mappers: sharing <= shared * (2-1).
            assert!(c.pages_sharing <= c.pages_shared);
        }
    }

    /// (b) Nothing merges in pass 1 (first visits only record checksums).
    /// In pass 2 guest 1's copy goes to the unstable tree; merging starts
    /// when the cursor reaches guest 2's copy (pass position S+U) and ends
    /// with the last page of guest N's copy (position (N-1)(S+U)+S-1). A page
    /// at pass position q is scanned at wake-up q / pages_to_scan.
    #[test]
    fn b_first_and_last_merge_times() {
        let n = 4;
        let p = KsmParams {
            pages_to_scan: 64,
            ..KsmParams::default()
        };
        let (b, period) = (64, p.wake_period_ns());
        let mut k = with_vms(p.clone(), n, S, U);
        let n1 = n * (S + U);
        // Pass 1: n1/b + 1 wake-ups, the last one scanning n1 % b pages.
        let t2 = (n1 / b) * period + (n1 % b) * p.per_page_ns + p.sleep_eff_ns();
        let t_first = t2 + ((S + U) / b) * period;
        k.advance(t_first - 1);
        assert_eq!(k.counters(t_first - 1).pages_sharing, 0);
        assert_eq!(k.counters(t_first - 1).full_scans, 1);
        k.advance(t_first);
        // Page granularity: that batch covers positions 1472..1536, i.e. the
        // first 36 pages of guest 2's copy.
        let in_batch = ((S + U) / b + 1) * b - (S + U);
        assert_eq!(in_batch, 36);
        assert_eq!(k.counters(t_first).pages_sharing, in_batch);
        assert_eq!(k.counters(t_first).pages_shared, in_batch);

        let last_pos = (n - 1) * (S + U) + S - 1;
        let t_last = t2 + (last_pos / b) * period;
        k.advance(t_last - 1);
        let before = k.counters(t_last - 1);
        // Wake 84 ended at position 85*64 = 5440: 940 pages into guest 4's copy.
        assert_eq!(before.pages_sharing, 2 * S + 940);
        k.advance(t_last);
        let c = k.counters(t_last);
        assert_eq!(c.pages_sharing, (n - 1) * S);
        assert_eq!(c.full_scans, 1, "fully merged before the end of pass 2");
        // Consistency with the event-driven search, within one wake period.
        let mut k2 = with_vms(p, n, S, U);
        let t_ev = time_to_sharing(&mut k2, (n - 1) * S);
        assert!(t_ev.abs_diff(t_last) <= period);
    }

    fn full_merge_time(p: KsmParams, n: u64, s: u64, u: u64) -> u64 {
        let mut k = with_vms(p, n, s, u);
        time_to_sharing(&mut k, (n - 1) * s)
    }

    /// (c) While sleep dominates the wake period, doubling pages_to_scan
    /// nearly doubles the scan rate (period 24.43 -> 24.86 ms per 100 -> 200
    /// pages: ratio 24.86 / 48.86 = 0.509). When per-page cost dominates
    /// (2 ms sleep vs 43 ms scanning 10k pages) the rate barely moves:
    /// (2 + 86) / (2 * (2 + 43)) = 0.978.
    #[test]
    fn c_pages_to_scan_scaling() {
        let base = KsmParams::default();
        let t1 = full_merge_time(base.clone(), 4, S, U);
        let t2 = full_merge_time(
            KsmParams {
                pages_to_scan: 200,
                ..base.clone()
            },
            4,
            S,
            U,
        );
        let r = t2 as f64 / t1 as f64;
        assert!((0.45..=0.6).contains(&r), "sleep-dominated ratio {r}");

        let fast = KsmParams {
            sleep_millisecs: 1,
            hz: 1000,
            pages_to_scan: 10_000,
            ..base
        };
        let (s, u) = (100_000, 50_000);
        let t1 = full_merge_time(fast.clone(), 4, s, u);
        let t2 = full_merge_time(
            KsmParams {
                pages_to_scan: 20_000,
                ..fast
            },
            4,
            s,
            u,
        );
        let r = t2 as f64 / t1 as f64;
        assert!(r > 0.8, "per-page-dominated ratio {r}");
    }

    /// (d) Tenant scope: trees per tenant. Tenant 1 has 3 guests, tenant 2
    /// has 2, all with the same content (S shared, 1000 zero, U unique).
    /// Shared: (3-1)S + (2-1)S. Zero pages fill KSM pages of 256 mappers:
    /// 3000 zero pages -> 12 KSM pages, 2988 sharing; 2000 -> 8, 1992.
    /// Host scope merges everything: 4S and 5000 - 20.
    #[test]
    fn d_tenant_scope_never_merges_across() {
        let spec = [
            SegmentSpec {
                content: Content::Shared(7),
                pages: S,
            },
            SegmentSpec {
                content: Content::Zero,
                pages: 1000,
            },
            SegmentSpec {
                content: Content::Unique,
                pages: U,
            },
        ];
        for (scope, shared, sharing) in [
            (KsmScope::Tenant, 2 * S + 12 + 8, 3 * S + 2988 + 1992),
            (KsmScope::Host, S + 20, 4 * S + 4980),
        ] {
            let mut k = Ksm::new(
                KsmParams {
                    scope,
                    ..KsmParams::default()
                },
                0,
            );
            for tenant in [1, 1, 1, 2, 2] {
                k.add_region(0, tenant, &spec, 0.0);
            }
            let t = run_scans(&mut k, 3);
            let c = k.counters(t);
            assert_eq!(c.pages_shared, shared, "{scope:?}");
            assert_eq!(c.pages_sharing, sharing, "{scope:?}");
            assert_eq!(c.pages_unshared, 5 * U, "{scope:?}");
        }
    }

    /// (e) Volatile pages never enter a tree: they are pages_volatile only.
    #[test]
    fn e_volatile_pages() {
        let spec = [
            SegmentSpec {
                content: Content::Shared(0),
                pages: S,
            },
            SegmentSpec {
                content: Content::Volatile,
                pages: 300,
            },
        ];
        let mut k = Ksm::new(KsmParams::default(), 0);
        for _ in 0..3 {
            k.add_region(0, 0, &spec, 0.0);
        }
        for scans in 1..5 {
            let t = run_scans(&mut k, scans);
            let c = k.counters(t);
            if scans >= 2 {
                assert_eq!(c.pages_shared, S);
                assert_eq!(c.pages_sharing, 2 * S);
                assert_eq!(c.pages_volatile, 3 * 300);
                assert_eq!(c.pages_unshared, 0);
            } else {
                // After pass 1 every visited page has only a checksum.
                assert_eq!(c.pages_volatile, 3 * (S + 300));
                assert_eq!(c.pages_sharing, 0);
            }
        }
    }

    /// (f) CPU accounting identity, and the wake-up count of a pass: 6000
    /// pages at 100 per wake-up = 60 full batches + 1 wake-up that finds the
    /// end of the list.
    #[test]
    fn f_cpu_accounting() {
        let p = KsmParams::default();
        let mut k = with_vms(p.clone(), 4, S, U);
        let t = run_scans(&mut k, 1);
        let c = k.counters(t);
        assert_eq!(c.wakeups, 61);
        assert_eq!(c.pages_scanned, 6000);
        for dt in [0, 1, 12_345_678, 3_000_000_000] {
            k.advance(t + dt);
            let c = k.counters(t + dt);
            assert_eq!(
                c.cpu_ns,
                c.wakeups * p.per_wake_ns + c.pages_scanned * p.per_page_ns
            );
        }
        // No regions: ksmd never wakes.
        let idle = Ksm::new(p, 0);
        assert_eq!(idle.next_event_ns(), None);
        assert_eq!(idle.counters(10 * NS_PER_S), KsmCounters::default());
    }

    fn big_guest(pages: u64) -> Vec<SegmentSpec> {
        vec![
            SegmentSpec {
                content: Content::Shared(0),
                pages: pages / 10 * 4,
            },
            SegmentSpec {
                content: Content::Zero,
                pages: pages / 10,
            },
            SegmentSpec {
                content: Content::Unique,
                pages: pages / 10 * 4,
            },
            SegmentSpec {
                content: Content::Volatile,
                pages: pages / 10,
            },
        ]
    }

    /// (g) Work does not depend on memory size: 10 GiB vs 10 TiB guests do
    /// the same number of internal steps for the same number of full scans.
    #[test]
    fn g_cost_independent_of_memory_size() {
        let mut steps = Vec::new();
        for pages in [10u64 << 18, 10u64 << 28] {
            let mut k = Ksm::new(KsmParams::default(), 0);
            for _ in 0..8 {
                k.add_region(0, 0, &big_guest(pages), 0.0);
            }
            let t = run_scans(&mut k, 5);
            let c = k.counters(t);
            assert!(c.pages_sharing > 7 * (pages / 10 * 4));
            steps.push(k.work_steps());
        }
        assert_eq!(steps[0], steps[1]);
        // 8 guests x 4 segments + 1 pass end, per pass.
        assert_eq!(steps[0], 5 * (8 * 4 + 1));
    }

    /// (h) Removing a guest drops its mappings: 3 -> 2 mappers per page.
    /// A KSM page left with one mapper stays a KSM page (as in the kernel,
    /// it saves nothing); with none it is freed.
    #[test]
    fn h_remove_region() {
        let mut k = Ksm::new(KsmParams::default(), 0);
        let ids: Vec<RegionId> = (0..3).map(|_| k.add_region(0, 0, &vm(S, U), 0.0)).collect();
        let t = run_scans(&mut k, 3);
        k.remove_region(t + 1, ids[1]);
        let c = k.counters(t + 1);
        // (remaining guests - 1) * S
        assert_eq!(c.pages_sharing, S);
        assert_eq!(c.pages_shared, S);
        assert_eq!(c.pages_unshared, 2 * U);
        k.remove_region(t + 2, ids[0]);
        let c = k.counters(t + 2);
        assert_eq!((c.pages_shared, c.pages_sharing), (S, 0));
        assert_eq!(k.saved_pages(t + 2), 0);
        k.remove_region(t + 3, ids[2]);
        let c = k.counters(t + 3);
        assert_eq!(
            (c.pages_shared, c.pages_sharing, c.pages_unshared),
            (0, 0, 0)
        );
        assert_eq!(k.next_event_ns(), None);
    }

    /// Removing the guest the cursor is in: the cursor moves on, counters stay
    /// consistent (no negative counters, final state exact).
    #[test]
    fn remove_region_under_cursor() {
        let p = KsmParams::default();
        let mut k = with_vms(p.clone(), 3, S, U);
        run_scans(&mut k, 2);
        // Somewhere inside guest 2 (ids 1) in pass 3.
        let t = k.next_event_ns().unwrap() + 20 * p.wake_period_ns();
        k.remove_region(t, RegionId(1));
        let t = run_scans(&mut k, 4);
        let c = k.counters(t);
        assert_eq!((c.pages_shared, c.pages_sharing), (S, S));
        assert_eq!(c.pages_unshared, 2 * U);
    }

    /// Zero pages are one content, within a region too: 1000 zero pages of
    /// one guest make KSM pages of 256 mappers: 256+256+256+232 -> 4 KSM
    /// pages, 996 sharing. A second guest first fills the 232-page one
    /// (choose_stable_node_dup picks the fullest non-full dup): 2000 mappers,
    /// 8 KSM pages, 1992 sharing.
    #[test]
    fn zero_pages_pool() {
        let z = [SegmentSpec {
            content: Content::Zero,
            pages: 1000,
        }];
        let mut k = Ksm::new(KsmParams::default(), 0);
        k.add_region(0, 0, &z, 0.0);
        let t = run_scans(&mut k, 2);
        let c = k.counters(t);
        assert_eq!(
            (c.pages_shared, c.pages_sharing, c.pages_unshared),
            (4, 996, 0)
        );
        k.add_region(t, 0, &z, 0.0);
        let t = run_scans(&mut k, 4);
        let c = k.counters(t);
        assert_eq!(
            (c.pages_shared, c.pages_sharing, c.pages_unshared),
            (8, 1992, 0)
        );
        // With 257 zero pages the 257th is alone in the unstable tree.
        let mut k = Ksm::new(KsmParams::default(), 0);
        k.add_region(
            0,
            0,
            &[SegmentSpec {
                content: Content::Zero,
                pages: 257,
            }],
            0.0,
        );
        let t = run_scans(&mut k, 3);
        let c = k.counters(t);
        assert_eq!(
            (c.pages_shared, c.pages_sharing, c.pages_unshared),
            (1, 255, 1)
        );
    }

    /// use_zero_pages: zero pages merge with the kernel zero page on their
    /// second visit; they count in zero_pages_merged, not pages_sharing, and
    /// later passes skip them (pass 3 scans only the 2 x 500 unique pages).
    #[test]
    fn zero_pages_use_zero_pages() {
        let p = KsmParams {
            use_zero_pages: true,
            ..KsmParams::default()
        };
        let spec = [
            SegmentSpec {
                content: Content::Zero,
                pages: 1000,
            },
            SegmentSpec {
                content: Content::Unique,
                pages: U,
            },
        ];
        let mut k = Ksm::new(p, 0);
        k.add_region(0, 0, &spec, 0.0);
        k.add_region(0, 0, &spec, 0.0);
        let t2 = run_scans(&mut k, 2);
        let c2 = k.counters(t2);
        assert_eq!(c2.zero_pages_merged, 2000);
        assert_eq!((c2.pages_shared, c2.pages_sharing), (0, 0));
        assert_eq!(k.saved_pages(t2), 2000);
        let t3 = run_scans(&mut k, 3);
        assert_eq!(k.counters(t3).pages_scanned - c2.pages_scanned, 2 * U);
    }

    /// Kernel placement (__ksm_enter): a region added mid-pass goes just
    /// before the cursor's region, so it is first scanned in the next pass.
    #[test]
    fn region_added_mid_pass_waits_for_next_pass() {
        let p = KsmParams::default();
        let mut k = with_vms(p.clone(), 2, S, U);
        // Pass 1 position 2000 (inside guest B) is reached at wake-up 20.
        let t = 20 * p.wake_period_ns();
        k.add_region(t, 1, &vm(S, U), 0.0);
        let t1 = run_scans(&mut k, 1);
        assert_eq!(k.counters(t1).pages_scanned, 2 * (S + U));
        // Pass 2 order A, C, B: A -> unstable, C is on its first visit
        // (checksum only), B merges with A.
        let t2 = run_scans(&mut k, 2);
        let c = k.counters(t2);
        assert_eq!(c.pages_scanned, 5 * (S + U));
        assert_eq!(c.pages_sharing, S);
        // Pass 3: C finds the KSM page (stable tree) and joins it.
        let t3 = run_scans(&mut k, 3);
        assert_eq!(k.counters(t3).pages_sharing, 2 * S);
    }

    /// cmp_and_merge_page searches the stable tree before the checksum test:
    /// a new guest whose content is already merged joins on its first visit.
    #[test]
    fn new_guest_joins_stable_tree_on_first_visit() {
        let mut k = with_vms(KsmParams::default(), 3, S, U);
        let t = run_scans(&mut k, 3);
        assert_eq!(k.counters(t).pages_sharing, 2 * S);
        // Added between passes (cursor at the list head): appended, scanned
        // last in the coming pass.
        k.add_region(t, 0, &vm(S, U), 0.0);
        let t = run_scans(&mut k, 4);
        let c = k.counters(t);
        assert_eq!(c.pages_sharing, 3 * S);
        assert_eq!(c.pages_volatile, U, "its unique pages only have a checksum");
    }

    /// CoW: guest B writes 10 pages/s. Pass = 2000 pages = 21 wake-ups =
    /// 20 * 24.43 ms + 24 ms = 512.6 ms; B is entered at wake-up 10 of each
    /// pass. Writes due at entries: 2.443 (pass 1, nothing merged, lost),
    /// 5.126 + 0.443 = 5.569 (pass 2: B's pages merge during this visit, none
    /// is merged yet, lost), 5.126 + 0.569 = 5.695 -> 5 in pass 3.
    #[test]
    fn cow_unmerges_on_revisit() {
        let mut k = Ksm::new(KsmParams::default(), 0);
        let shared = [SegmentSpec {
            content: Content::Shared(0),
            pages: S,
        }];
        k.add_region(0, 0, &shared, 0.0);
        k.add_region(0, 0, &shared, 10.0);
        let t = run_scans(&mut k, 2);
        assert_eq!(k.counters(t).pages_sharing, S);
        let t = run_scans(&mut k, 3);
        let c = k.counters(t);
        // 5 mappings gone; their KSM pages keep A as single mapper.
        assert_eq!((c.pages_shared, c.pages_sharing), (S, S - 5));
        assert_eq!(c.pages_volatile, 5);
        let t = run_scans(&mut k, 4);
        let c = k.counters(t);
        // 5.126 + 0.695 = 5.821 -> 5 more; the first 5 reached the unstable tree.
        assert_eq!(c.pages_sharing, S - 10);
        assert_eq!((c.pages_unshared, c.pages_volatile), (5, 5));
    }

    /// Counters between events equal those of a model driven to that time,
    /// and never go backwards for monotone quantities.
    #[test]
    fn counters_between_events_are_consistent() {
        let p = KsmParams {
            pages_to_scan: 77,
            ..KsmParams::default()
        };
        let mut driven = with_vms(p.clone(), 3, S, U);
        let lazy = with_vms(p.clone(), 3, S, U);
        let mut prev = KsmCounters::default();
        let step = p.wake_period_ns() * 7 + 12_345;
        for i in 1..200 {
            let t = i * step;
            driven.advance(t);
            let a = driven.counters(t);
            assert_eq!(a, lazy.counters(t), "t = {t}");
            assert!(a.pages_scanned >= prev.pages_scanned);
            assert!(a.pages_sharing >= prev.pages_sharing);
            prev = a;
        }
        assert_eq!(prev.pages_sharing, 2 * S);
    }

    /// Class indices: page i of a class counts across the region's segments
    /// of that class. A (1000 pages of class 0) and C (class 0 as 300 + 700
    /// pages around 100 unique ones) are identical page for page; B has only
    /// the first 500 pages. Indices 0..500: 3 copies (1 KSM page, 2 sharing);
    /// 500..1000: 2 copies (1 KSM page, 1 sharing).
    #[test]
    fn class_indices_across_segments_and_lengths() {
        let sh = |pages| SegmentSpec {
            content: Content::Shared(0),
            pages,
        };
        let mut k = Ksm::new(KsmParams::default(), 0);
        k.add_region(0, 0, &[sh(1000)], 0.0);
        k.add_region(0, 0, &[sh(500)], 0.0);
        let t = run_scans(&mut k, 3);
        let c = k.counters(t);
        // A's pages 500..1000 have no twin: alone in the unstable tree.
        assert_eq!(
            (c.pages_shared, c.pages_sharing, c.pages_unshared),
            (500, 500, 500)
        );
        let unique = SegmentSpec {
            content: Content::Unique,
            pages: 100,
        };
        k.add_region(t, 0, &[sh(300), unique, sh(700)], 0.0);
        let t = run_scans(&mut k, 6);
        let c = k.counters(t);
        assert_eq!(c.pages_shared, 1000);
        assert_eq!(c.pages_sharing, 500 * 2 + 500);
        assert_eq!(c.pages_unshared, 100);
    }

    /// All guests removed mid-pass: ksmd goes idle (no events, counters
    /// frozen, the unfinished pass not counted); a new guest wakes it again.
    #[test]
    fn idle_and_restart() {
        let p = KsmParams::default();
        let mut k = Ksm::new(p.clone(), 0);
        let a = k.add_region(0, 0, &vm(S, U), 0.0);
        let b = k.add_region(0, 0, &vm(S, U), 0.0);
        let t = run_scans(&mut k, 2) + 5 * p.wake_period_ns() + 1;
        k.remove_region(t, a);
        k.remove_region(t, b);
        assert_eq!(k.next_event_ns(), None);
        let c = k.counters(t);
        assert_eq!(c.full_scans, 2);
        assert_eq!(
            (
                c.pages_shared,
                c.pages_sharing,
                c.pages_unshared,
                c.pages_volatile
            ),
            (0, 0, 0, 0)
        );
        // 2 passes of 3000 pages (31 wake-ups each) + 5 wake-ups into pass 3.
        assert_eq!((c.wakeups, c.pages_scanned), (2 * 31 + 5, 6000 + 500));
        assert_eq!(k.counters(t + 100 * NS_PER_S), c);
        let t2 = t + 100 * NS_PER_S;
        k.add_region(t2, 0, &vm(S, U), 0.0);
        assert_eq!(
            k.next_event_ns(),
            Some(t2 + (S - 1) / 100 * p.wake_period_ns()),
            "first segment ends at wake-up 9 after the immediate wake at t2"
        );
        k.add_region(t2, 0, &vm(S, U), 0.0);
        let t3 = run_scans(&mut k, 4);
        assert_eq!(k.counters(t3).pages_sharing, S);
    }
}
