//! ksmd's scan: the cursor's walk over regions and segments, batch by batch, and what each
//! visit does to the pages' states and the KSM pages' mappers (`cmp_and_merge_page`).

use super::runs::*;
use super::*;

impl Ksm {
    /// Process the event due at wake-up time `ev`.
    pub(super) fn step(&mut self, ev: u64) {
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
    pub(super) fn catch_up_before(&mut self, now: u64) {
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
    pub(super) fn settle(&mut self) {
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
    pub(super) fn enter(&mut self, rid: usize) {
        let entry = self.pass_start + (self.cur.seg_start / self.batch) * self.period;
        let region = self.regions[rid].as_mut().expect("live region");
        let rate = region.cow_pages_per_s;
        let seg = &mut region.segs[self.cur.seg];
        let visit_len = seg
            .runs
            .iter()
            .filter(|r| r.st != PageState::ZeroMerged)
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

    pub(super) fn cur_ids(&self) -> (usize, usize) {
        (self.order[self.cur.pos] as usize, self.cur.seg)
    }

    pub(super) fn cur_seg(&self) -> &Segment {
        let (rid, si) = self.cur_ids();
        &self.regions[rid].as_ref().expect("live region").segs[si]
    }

    pub(super) fn walk_start(&self, k: u64) -> Walk {
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

    pub(super) fn absorb(w: &mut Walk, pc: &Piece) {
        w.off += pc.len;
        w.left -= pc.scan;
        w.budget -= pc.budget_used;
        if let Some(z) = pc.zero {
            w.zm = z.new_m;
            w.zvalid = z.new_valid;
        }
    }

    /// Visit the next `k` scannable pages of the current segment for real.
    pub(super) fn visit_commit(&mut self, k: u64) {
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
    pub(super) fn plan(&self, w: &Walk) -> Piece {
        let seg = self.cur_seg();
        let cap = self.cap;
        let (run, run_start) = find_run(&seg.runs, w.off);
        let run_rest = run_start + run.len - w.off;
        if run.st == PageState::ZeroMerged {
            // No longer an anonymous page: the walk skips it for free.
            return Piece::new(run_rest, 0);
        }
        let len = run_rest.min(w.left);
        if run.uniq || seg.content == Content::Unique {
            let mut pc = Piece::new(len, len);
            let st = match run.st {
                PageState::Fresh => PageState::Seen,
                PageState::Seen | PageState::Unstable => PageState::Unstable,
                s => s,
            };
            pc.uniform(run, run.uniq, st);
            return pc;
        }
        match seg.content {
            Content::Volatile => {
                let mut pc = Piece::new(len, len);
                pc.uniform(run, false, PageState::Seen);
                pc
            }
            Content::Zero if self.p.use_zero_pages => {
                let mut pc = Piece::new(len, len);
                let st = if run.st == PageState::Fresh {
                    PageState::Seen
                } else {
                    PageState::ZeroMerged
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
                let mut act = ColumnAction {
                    idx,
                    new_m: col.m,
                    merge_owner: false,
                    set_owner: false,
                };
                let mut pc;
                if run.st == PageState::Stable {
                    if w.budget == 0 {
                        return Piece::new(len, len);
                    }
                    // CoW broke these: they leave the KSM page, new checksum.
                    let n = len.min(w.budget);
                    pc = Piece::new(n, n);
                    pc.budget_used = n;
                    pc.uniform(run, true, PageState::Seen);
                    act.new_m = col.m - 1;
                } else {
                    pc = Piece::new(len, len);
                    if !col.m.is_multiple_of(cap) {
                        // stable_tree_search: a KSM page with room.
                        pc.uniform(run, false, PageState::Stable);
                        act.new_m = col.m + 1;
                    } else if run.st == PageState::Fresh {
                        // First visit: only the checksum is recorded.
                        pc.uniform(run, false, PageState::Seen);
                    } else if owner_valid {
                        // Unstable-tree match: a new KSM page for both.
                        pc.uniform(run, false, PageState::Stable);
                        pc.delta.unshared -= len as i64;
                        act.new_m = col.m + 2;
                        act.merge_owner = true;
                    } else {
                        pc.uniform(run, false, PageState::Unstable);
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
    pub(super) fn plan_zero(&self, w: &Walk, run: Run, len: u64) -> Piece {
        let cap = self.cap;
        let m0 = w.zm;
        if run.st == PageState::Stable {
            if w.budget == 0 {
                return Piece::new(len, len);
            }
            let n = len.min(w.budget);
            let mut pc = Piece::new(n, n);
            pc.budget_used = n;
            pc.uniform(run, true, PageState::Seen);
            pc.delta.mappers(m0, m0 - n, cap, 1);
            pc.zero = Some(ZeroAction {
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
            if run.st == PageState::Fresh {
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
            (n_stable, PageState::Stable),
            (n_seen, PageState::Seen),
            (n_unstable, PageState::Unstable),
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
        pc.zero = Some(ZeroAction {
            new_m: m,
            merge_old,
            new_owner_off,
            new_valid: valid,
        });
        pc
    }

    pub(super) fn seg_mut(&mut self, region: usize, seg: usize) -> &mut Segment {
        &mut self.regions[region].as_mut().expect("live region").segs[seg]
    }

    pub(super) fn apply(&mut self, rid: usize, si: usize, w: &Walk, pc: &Piece) {
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
                set_range(&mut oseg.runs, off, pc.len, false, PageState::Stable);
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
                set_range(&mut oseg.runs, o.off, 1, false, PageState::Stable);
            }
            if let Some(off) = z.new_owner_off {
                self.zeros[unit].owner = Some(ZeroOwner {
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
