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

mod params;
mod runs;
mod scan;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use params::NS_PER_S;
pub(crate) use params::{KsmParams, KsmScope, KsmSettings, KsmTunables};
use runs::*;

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
    pub(crate) fn new(params: KsmParams, start_ns: u64) -> Ksm {
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
                    st: PageState::Fresh,
                });
            }
            segs.push(Segment {
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
                if run.st == PageState::Stable && !run.uniq {
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
}
