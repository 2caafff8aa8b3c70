//! The state ksmd keeps, as runs rather than pages: per segment, runs of pages in one
//! state; per content class, columns of content indices with the same mappers. Work is
//! proportional to the number of runs, never to page counts.

use super::*;

/// State of a page as ksmd sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PageState {
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
pub(super) struct Run {
    pub(super) len: u64,
    pub(super) uniq: bool,
    pub(super) st: PageState,
}

/// The page (range) of a segment sitting in the unstable tree for a content.
/// Valid only during pass `pass` (the tree is emptied at each pass start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Owner {
    pub(super) region: u32,
    pub(super) seg: u32,
    pub(super) pass: u64,
}

/// A range of content indices of one class with identical state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Column {
    pub(super) start: u64,
    pub(super) end: u64,
    /// Mappers of the KSM page(s) of each index in the range.
    pub(super) m: u64,
    pub(super) owner: Option<Owner>,
}

/// Per (scope, class): sorted, non-overlapping columns covering every index
/// any region uses.
#[derive(Clone, Debug, Default)]
pub(super) struct ClassTable {
    pub(super) cols: Vec<Column>,
}

impl ClassTable {
    /// Index of the first column ending after `idx` (the one containing it
    /// when `idx` is covered).
    pub(super) fn find(&self, idx: u64) -> usize {
        self.cols.partition_point(|c| c.end <= idx)
    }

    pub(super) fn split_at(&mut self, idx: u64) {
        let i = self.find(idx);
        if i < self.cols.len() && self.cols[i].start < idx {
            let right = Column {
                start: idx,
                ..self.cols[i]
            };
            self.cols[i].end = idx;
            self.cols.insert(i + 1, right);
        }
    }

    pub(super) fn cover(&mut self, a: u64, b: u64) {
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
                    Column {
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
    pub(super) fn coalesce(&mut self, a: u64, b: u64, pass: u64) {
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
pub(super) struct ZeroOwner {
    pub(super) region: u32,
    pub(super) seg: u32,
    pub(super) off: u64,
    pub(super) pass: u64,
}

/// The zero content of one scope (`use_zero_pages` off).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ZeroPool {
    pub(super) m: u64,
    pub(super) owner: Option<ZeroOwner>,
}

#[derive(Clone, Debug)]
pub(super) struct Segment {
    pub(super) content: Content,
    pub(super) pages: u64,
    /// ClassTable index (Shared) or ZeroPool index (Zero, pool mode).
    pub(super) unit: usize,
    /// Class index of this segment's first page (Shared).
    pub(super) base: u64,
    pub(super) runs: Vec<Run>,
    pub(super) last_entry_ns: u64,
    pub(super) cow_carry: f64,
}

#[derive(Clone, Debug)]
pub(super) struct Region {
    pub(super) cow_pages_per_s: f64,
    pub(super) segs: Vec<Segment>,
}

/// Signed counter changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Delta {
    pub(super) shared: i64,
    pub(super) sharing: i64,
    pub(super) unshared: i64,
    pub(super) volatile: i64,
    pub(super) zero: i64,
}

impl Delta {
    pub(super) fn add(&mut self, o: &Delta) {
        self.shared += o.shared;
        self.sharing += o.sharing;
        self.unshared += o.unshared;
        self.volatile += o.volatile;
        self.zero += o.zero;
    }

    /// Pages entering (`n > 0`) or leaving (`n < 0`) state `st`.
    pub(super) fn state(&mut self, st: PageState, n: i64) {
        match st {
            PageState::Seen => self.volatile += n,
            PageState::Unstable => self.unshared += n,
            PageState::ZeroMerged => self.zero += n,
            PageState::Fresh | PageState::Stable => {}
        }
    }

    /// `n` contents whose mapper count goes from `m0` to `m1`.
    pub(super) fn mappers(&mut self, m0: u64, m1: u64, cap: u64, n: u64) {
        let (s0, g0) = shared_sharing(m0, cap);
        let (s1, g1) = shared_sharing(m1, cap);
        self.shared += (s1 - s0) * n as i64;
        self.sharing += (g1 - g0) * n as i64;
    }
}

/// Packed dups: `ceil(m / cap)` KSM pages, the rest of the mappers sharing.
pub(super) fn shared_sharing(m: u64, cap: u64) -> (i64, i64) {
    let s = m.div_ceil(cap);
    (s as i64, (m - s) as i64)
}

/// Where the cursor is. `pos == order.len()` means "ran off the end of the
/// list": the pass ends at the next wake-up.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Cursor {
    pub(super) pos: usize,
    pub(super) seg: usize,
    /// Pass position (scannable pages) at which this segment's visit starts.
    pub(super) seg_start: u64,
    /// Scannable pages of this visit (fixed when the cursor enters).
    pub(super) visit_len: u64,
    /// Scannable pages of this visit already applied to the state.
    pub(super) done: u64,
    /// Page offset just after the applied pages.
    pub(super) done_off: u64,
    /// CoW writes still due in this visit.
    pub(super) budget: u64,
    pub(super) entered: bool,
}

/// Local view while walking a segment (shared by commit and dry runs).
#[derive(Clone, Copy, Debug)]
pub(super) struct Walk {
    pub(super) off: u64,
    pub(super) left: u64,
    pub(super) budget: u64,
    pub(super) zm: u64,
    pub(super) zvalid: bool,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct ColumnAction {
    pub(super) idx: u64,
    pub(super) new_m: u64,
    pub(super) merge_owner: bool,
    pub(super) set_owner: bool,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct ZeroAction {
    pub(super) new_m: u64,
    pub(super) merge_old: bool,
    pub(super) new_owner_off: Option<u64>,
    pub(super) new_valid: bool,
}

/// The outcome of visiting `len` pages from `Walk::off`, all behaving alike.
#[derive(Clone, Copy, Debug)]
pub(super) struct Piece {
    pub(super) len: u64,
    pub(super) scan: u64,
    pub(super) parts: [Run; 2],
    pub(super) nparts: usize,
    pub(super) col: Option<ColumnAction>,
    pub(super) zero: Option<ZeroAction>,
    pub(super) budget_used: u64,
    pub(super) delta: Delta,
}

impl Piece {
    pub(super) fn new(len: u64, scan: u64) -> Piece {
        let r = Run {
            len: 0,
            uniq: false,
            st: PageState::Fresh,
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
    pub(super) fn uniform(&mut self, old: Run, uniq: bool, st: PageState) {
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

pub(super) fn find_run(runs: &[Run], off: u64) -> (Run, u64) {
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
pub(super) fn split_runs(runs: &mut Vec<Run>, off: u64) -> usize {
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
pub(super) fn set_range(runs: &mut Vec<Run>, off: u64, len: u64, uniq: bool, st: PageState) {
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
