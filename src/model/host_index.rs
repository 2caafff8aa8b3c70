//! An index over a fleet's hosts that answers admission in about O(log H) instead of a
//! scan, and makes exactly the scan's choices ([`HostIndex::choose`] vs
//! [`scan`], compared at every admission in checked mode).
//!
//! The scan ([`scan`]) offers hosts in index order; a host fits when its CPU reservation
//! and committed memory after placing stay within the host's limits, where placing a
//! container on a host that lacks its image also commits the image (the *image term*).
//! First-fit takes the first host that fits; best-fit the one left at the highest
//! [`Policy::load_after`], spread the lowest, ties to the lowest index.
//!
//! How each policy is answered:
//! - **First-fit** descends a segment tree over host order whose nodes hold the largest
//!   free CPU and free memory below them, skipping subtrees that cannot hold the request.
//! - **Spread** is a branch-and-bound descent of the same tree: a subtree's largest free
//!   CPU and memory give the lowest load any of its hosts can be left at (the load is
//!   monotone in what is used), so subtrees that cannot beat the best host found so far —
//!   or can only tie it from higher indices — are skipped.
//! - **Best-fit** maximises load = max(f(cpu used after), g(memory used after)) with f and
//!   g strictly increasing, so the best host is either the feasible host with the least
//!   free CPU or the one with the least (effective) free memory. Each is the first entry
//!   of an ordered tree keyed by (free, host) whose nodes also keep the largest free of the
//!   other resource below them, which prunes hosts that fit one way but not the other.
//!
//! The image term shifts a host's free memory as a container of that image sees it, so
//! the trees are kept per *view*: no image term (VMs), or one (image, size) a container
//! class carries. Within a view every bound is exact.
//!
//! Cost: an update is O(log H) per tree and view; first-fit and best-fit queries visit
//! O(log H) nodes; spread's branch and bound visits O(log H) nodes when the best host is
//! unique and more when many hosts tie (measured in `benches/scale.rs`).

use crate::model::placement::Policy;

const NIL: u32 = u32::MAX;

/// What admission knows about one host: what is used against its limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostUse {
    pub cpu_ucores: u64,
    pub mem_kib: u64,
}

/// One admission request: CPU and memory to reserve, and the image a container carries
/// (`(image id, KiB committed on a host that lacks it)`), if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub cpu_ucores: u64,
    pub mem_kib: u64,
    pub image: Option<(u32, u64)>,
}

/// The reference answer: every host in order, as the simulator chose before the index.
/// `has_image(host, image)` says whether a host already holds an image.
pub fn scan(
    policy: Policy,
    limits: HostUse,
    hosts: &[HostUse],
    request: Request,
    has_image: impl Fn(usize, u32) -> bool,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, h) in hosts.iter().enumerate() {
        let Some(load) = load_if_fits(limits, *h, request, &has_image, i) else {
            continue;
        };
        if policy.prefers(load, best.map(|(_, b)| b)) {
            best = Some((i, load));
            if policy == Policy::FirstFit {
                break;
            }
        }
    }
    best.map(|(i, _)| i)
}

/// The load host `i` is left at if the request fits there.
fn load_if_fits(
    limits: HostUse,
    h: HostUse,
    request: Request,
    has_image: &impl Fn(usize, u32) -> bool,
    i: usize,
) -> Option<f64> {
    let extra = match request.image {
        Some((img, kib)) if !has_image(i, img) => kib,
        _ => 0,
    };
    let cpu_after = h.cpu_ucores + request.cpu_ucores;
    let mem_after = h.mem_kib + request.mem_kib + extra;
    if cpu_after > limits.cpu_ucores || mem_after > limits.mem_kib {
        return None;
    }
    Some(Policy::load_after(
        cpu_after,
        limits.cpu_ucores,
        mem_after,
        limits.mem_kib,
    ))
}

/// The index. Hosts share one set of limits (one host type).
#[derive(Clone, Debug)]
pub struct HostIndex {
    policy: Policy,
    limits: HostUse,
    used: Vec<HostUse>,
    /// Leaves of every view's segment tree (hosts rounded up to a power of two).
    leaves: usize,
    /// One view per image term a request has carried (built on first use).
    views: Vec<View>,
}

/// The hosts as requests with one image term see them: `None` (VMs, no image term) or
/// (image, KiB a host lacking it must also commit). A host's *effective* free memory is
/// its free memory less the image term when it lacks the image, so every bound below is
/// exact for the requests of this view.
#[derive(Clone, Debug)]
struct View {
    image: Option<(u32, u64)>,
    /// Segment tree over host order (first-fit, spread): per node the largest free CPU
    /// and effective free memory below it; leaves at `leaves + i`, padding at i64::MIN.
    max_free: Vec<(i64, i64)>,
    /// Best-fit only: hosts keyed by (free CPU, host) keeping the largest effective free
    /// memory, and keyed by (effective free memory, host) keeping the largest free CPU.
    by_cpu: Option<Treap>,
    by_mem: Option<Treap>,
}

impl HostIndex {
    /// An index over `hosts` empty hosts, each admitting `limits`.
    pub fn new(policy: Policy, limits: HostUse, hosts: usize) -> HostIndex {
        HostIndex {
            policy,
            limits,
            used: vec![HostUse::default(); hosts],
            leaves: hosts.next_power_of_two().max(1),
            views: vec![],
        }
    }

    pub fn len(&self) -> usize {
        self.used.len()
    }

    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }

    /// What host `i` uses, as the index knows it.
    pub fn used(&self, i: usize) -> HostUse {
        self.used[i]
    }

    fn free(&self, u: HostUse) -> (i64, i64) {
        (
            self.limits.cpu_ucores as i64 - u.cpu_ucores as i64,
            self.limits.mem_kib as i64 - u.mem_kib as i64,
        )
    }

    /// Host `i` now uses `u`; `has_image(image)` says which images it holds.
    pub fn update(&mut self, i: usize, u: HostUse, has_image: impl Fn(u32) -> bool) {
        self.used[i] = u;
        let free = self.free(u);
        let leaves = self.leaves;
        for v in &mut self.views {
            let mem = effective(free.1, v.image, &has_image);
            let mut n = leaves + i;
            v.max_free[n] = (free.0, mem);
            while n > 1 {
                n /= 2;
                v.max_free[n] = pair_max(v.max_free[2 * n], v.max_free[2 * n + 1]);
            }
            if let (Some(by_cpu), Some(by_mem)) = (&mut v.by_cpu, &mut v.by_mem) {
                by_cpu.set(i as u32, free.0, mem);
                by_mem.set(i as u32, mem, free.0);
            }
        }
    }

    /// The host the policy picks for `request`, or None when none fits. `has_image(host,
    /// image)` says whether a host holds an image. Needs `&mut` only to build a view the
    /// first time a request carries its image term.
    pub fn choose(
        &mut self,
        request: Request,
        has_image: impl Fn(usize, u32) -> bool,
    ) -> Option<usize> {
        let v = self.view(request.image, &has_image);
        let view = &self.views[v];
        match self.policy {
            Policy::FirstFit => self.first_fit(view, 1, request),
            Policy::Spread => {
                let mut best = None;
                self.spread(view, 1, request, &mut best);
                best.map(|(i, _)| i)
            }
            Policy::BestFit => self.best_fit(view, request),
        }
    }

    /// The first host index below node `n`.
    fn first_index(&self, n: usize) -> usize {
        let shift = self.leaves.trailing_zeros() - n.ilog2();
        (n << shift) - self.leaves
    }

    fn could_fit(view: &View, n: usize, r: Request) -> bool {
        let (cpu, mem) = view.max_free[n];
        cpu >= r.cpu_ucores as i64 && mem >= r.mem_kib as i64
    }

    /// The load host `i` is left at; the view's effective free memory already holds the
    /// image term.
    fn load_at(&self, view: &View, i: usize, r: Request) -> f64 {
        let (cpu, mem) = view.max_free[self.leaves + i];
        self.load_with_free(cpu, mem, r)
    }

    /// The load of a host with this much free CPU and (effective) memory after placing.
    fn load_with_free(&self, cpu_free: i64, mem_free: i64, r: Request) -> f64 {
        // Padding leaves hold i64::MIN: saturate rather than overflow.
        let cpu_used = (self.limits.cpu_ucores as i64).saturating_sub(cpu_free);
        let mem_used = (self.limits.mem_kib as i64).saturating_sub(mem_free);
        Policy::load_after(
            (cpu_used.max(0) as u64) + r.cpu_ucores,
            self.limits.cpu_ucores,
            (mem_used.max(0) as u64) + r.mem_kib,
            self.limits.mem_kib,
        )
    }

    fn first_fit(&self, view: &View, n: usize, r: Request) -> Option<usize> {
        if !Self::could_fit(view, n, r) {
            return None;
        }
        if n >= self.leaves {
            return Some(n - self.leaves);
        }
        self.first_fit(view, 2 * n, r)
            .or_else(|| self.first_fit(view, 2 * n + 1, r))
    }

    /// The lowest load any host below `n` can be left at (its largest free CPU and
    /// effective memory taken together; the load is monotone in what is used).
    fn load_bound(&self, view: &View, n: usize, r: Request) -> f64 {
        let (cpu, mem) = view.max_free[n];
        self.load_with_free(cpu, mem, r)
    }

    fn spread(&self, view: &View, n: usize, r: Request, best: &mut Option<(usize, f64)>) {
        if !Self::could_fit(view, n, r) {
            return;
        }
        if let Some((bi, bl)) = *best {
            let bound = self.load_bound(view, n, r);
            if bound > bl || (bound == bl && self.first_index(n) > bi) {
                return;
            }
        }
        if n >= self.leaves {
            let i = n - self.leaves;
            let load = self.load_at(view, i, r);
            let better = match *best {
                None => true,
                Some((bi, bl)) => load < bl || (load == bl && i < bi),
            };
            if better {
                *best = Some((i, load));
            }
            return;
        }
        // The more promising child first: its host tightens the bound for the other.
        let (a, b) = (2 * n, 2 * n + 1);
        let (first, second) = if self.load_bound(view, b, r) < self.load_bound(view, a, r) {
            (b, a)
        } else {
            (a, b)
        };
        self.spread(view, first, r, best);
        self.spread(view, second, r, best);
    }

    fn best_fit(&self, view: &View, r: Request) -> Option<usize> {
        let (Some(by_cpu), Some(by_mem)) = (&view.by_cpu, &view.by_mem) else {
            return None;
        };
        let need_cpu = r.cpu_ucores as i64;
        let need_mem = r.mem_kib as i64;
        // The least free CPU among hosts that fit, and the least effective free memory.
        let least_cpu = by_cpu.first_at_least(need_cpu, need_mem);
        let least_mem = by_mem.first_at_least(need_mem, need_cpu);
        let mut best: Option<(usize, f64)> = None;
        for i in [least_cpu, least_mem].into_iter().flatten() {
            let i = i as usize;
            let load = self.load_at(view, i, r);
            let better = match best {
                None => true,
                Some((bi, bl)) => load > bl || (load == bl && i < bi),
            };
            if better {
                best = Some((i, load));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The view of an image term, built from every host on first use.
    fn view(
        &mut self,
        image: Option<(u32, u64)>,
        has_image: &impl Fn(usize, u32) -> bool,
    ) -> usize {
        if let Some(v) = self.views.iter().position(|v| v.image == image) {
            return v;
        }
        let n = self.used.len();
        let leaves = self.leaves;
        let mut max_free = vec![(i64::MIN, i64::MIN); 2 * leaves];
        let best_fit = self.policy == Policy::BestFit;
        let (mut by_cpu, mut by_mem) = (Treap::new(n), Treap::new(n));
        for i in 0..n {
            let free = self.free(self.used[i]);
            let mem = effective(free.1, image, &|img| has_image(i, img));
            max_free[leaves + i] = (free.0, mem);
            if best_fit {
                by_cpu.set(i as u32, free.0, mem);
                by_mem.set(i as u32, mem, free.0);
            }
        }
        for k in (1..leaves).rev() {
            max_free[k] = pair_max(max_free[2 * k], max_free[2 * k + 1]);
        }
        self.views.push(View {
            image,
            max_free,
            by_cpu: best_fit.then_some(by_cpu),
            by_mem: best_fit.then_some(by_mem),
        });
        self.views.len() - 1
    }

    /// Checks the index against what the hosts use and against the scan; `Err` names
    /// the first difference (checked mode).
    pub fn verify(
        &mut self,
        hosts: &[HostUse],
        request: Request,
        has_image: impl Fn(usize, u32) -> bool,
    ) -> Result<(), String> {
        if hosts != self.used.as_slice() {
            let i = (0..hosts.len())
                .find(|&i| hosts.get(i) != self.used.get(i))
                .unwrap_or(0);
            return Err(format!(
                "host index is stale at host {i}: {:?} vs {:?}",
                self.used.get(i),
                hosts.get(i)
            ));
        }
        let want = scan(self.policy, self.limits, hosts, request, &has_image);
        let got = self.choose(request, &has_image);
        if want != got {
            return Err(format!(
                "host index chose {got:?}, a full scan {want:?}, for {request:?}"
            ));
        }
        Ok(())
    }
}

fn pair_max(a: (i64, i64), b: (i64, i64)) -> (i64, i64) {
    (a.0.max(b.0), a.1.max(b.1))
}

/// Free memory as a container of this image term sees it on a host.
fn effective(free_mem: i64, image: Option<(u32, u64)>, has_image: &impl Fn(u32) -> bool) -> i64 {
    match image {
        Some((img, kib)) if !has_image(img) => free_mem - kib as i64,
        _ => free_mem,
    }
}

/// Ordered sets of items keyed by (key, item id), each node keeping the largest `other`
/// value in its subtree: "the first item at or after key k whose other value is at
/// least t" in O(log n). Treaps with deterministic priorities (a hash of the item id) in
/// one arena, one node per item id (an item is in at most one set), so updates allocate
/// nothing once the arena has grown. A set is named by its root, which the caller keeps.
#[derive(Clone, Debug, Default)]
pub struct Forest {
    nodes: Vec<TreapNode>,
}

#[derive(Clone, Copy, Debug)]
struct TreapNode {
    key: i64,
    other: i64,
    max_other: i64,
    priority: u64,
    left: u32,
    right: u32,
    /// In a set.
    linked: bool,
}

/// The root of an empty set.
pub const EMPTY_SET: u32 = NIL;

impl Forest {
    pub fn with_items(n: usize) -> Forest {
        let mut f = Forest::default();
        f.grow(n);
        f
    }

    /// Makes room for item ids below `n`.
    pub fn grow(&mut self, n: usize) {
        while self.nodes.len() < n {
            let id = self.nodes.len() as u64;
            self.nodes.push(TreapNode {
                key: 0,
                other: 0,
                max_other: i64::MIN,
                priority: splitmix(id),
                left: NIL,
                right: NIL,
                linked: false,
            });
        }
    }

    /// Puts `item` into the set at `root` with `key` and `other` (moving it if it is
    /// already there).
    pub fn set(&mut self, root: &mut u32, item: u32, key: i64, other: i64) {
        let node = self.nodes[item as usize];
        if node.linked && node.key == key && node.other == other {
            return;
        }
        if node.linked {
            self.remove(root, item);
        }
        let n = &mut self.nodes[item as usize];
        n.key = key;
        n.other = other;
        n.max_other = other;
        n.left = NIL;
        n.right = NIL;
        n.linked = true;
        let (left, right) = self.split(*root, (key, item));
        let left = self.merge(left, item);
        *root = self.merge(left, right);
    }

    /// Takes `item` out of the set at `root` (nothing when it is not in one).
    pub fn remove(&mut self, root: &mut u32, item: u32) {
        let node = self.nodes[item as usize];
        if !node.linked {
            return;
        }
        let (left, rest) = self.split(*root, (node.key, item));
        let (_, right) = self.split(rest, (node.key, item + 1));
        *root = self.merge(left, right);
        self.nodes[item as usize].linked = false;
    }

    fn max_other(&self, n: u32) -> i64 {
        if n == NIL {
            i64::MIN
        } else {
            self.nodes[n as usize].max_other
        }
    }

    fn pull(&mut self, n: u32) {
        let (l, r) = (self.nodes[n as usize].left, self.nodes[n as usize].right);
        let m = self.nodes[n as usize]
            .other
            .max(self.max_other(l))
            .max(self.max_other(r));
        self.nodes[n as usize].max_other = m;
    }

    /// Splits `t` into the nodes ordered before `at` and those at or after it.
    fn split(&mut self, t: u32, at: (i64, u32)) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let node = self.nodes[t as usize];
        if (node.key, t) < at {
            let (l, r) = self.split(node.right, at);
            self.nodes[t as usize].right = l;
            self.pull(t);
            (t, r)
        } else {
            let (l, r) = self.split(node.left, at);
            self.nodes[t as usize].left = r;
            self.pull(t);
            (l, t)
        }
    }

    /// Joins two trees where every node of `a` orders before every node of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].priority > self.nodes[b as usize].priority {
            let r = self.nodes[a as usize].right;
            self.nodes[a as usize].right = self.merge(r, b);
            self.pull(a);
            a
        } else {
            let l = self.nodes[b as usize].left;
            self.nodes[b as usize].left = self.merge(a, l);
            self.pull(b);
            b
        }
    }

    /// The first item of the set at `root` in (key, id) order with key ≥ `key` and
    /// other ≥ `other`.
    pub fn first_at_least(&self, root: u32, key: i64, other: i64) -> Option<u32> {
        if root == NIL || self.max_other(root) < other {
            return None;
        }
        let node = &self.nodes[root as usize];
        if node.key < key {
            return self.first_at_least(node.right, key, other);
        }
        if let Some(x) = self.first_at_least(node.left, key, other) {
            return Some(x);
        }
        if node.other >= other {
            return Some(root);
        }
        self.first_at_least(node.right, key, other)
    }
}

/// One ordered set of hosts in its own forest.
#[derive(Clone, Debug)]
struct Treap {
    forest: Forest,
    root: u32,
}

impl Treap {
    fn new(hosts: usize) -> Treap {
        Treap {
            forest: Forest::with_items(hosts),
            root: EMPTY_SET,
        }
    }

    fn set(&mut self, host: u32, key: i64, other: i64) {
        self.forest.set(&mut self.root, host, key, other);
    }

    fn first_at_least(&self, key: i64, other: i64) -> Option<u32> {
        self.forest.first_at_least(self.root, key, other)
    }
}

/// SplitMix64: well-spread deterministic treap priorities from host ids.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Random fleets, random updates (including images appearing and disappearing) and
    /// random requests: the index picks exactly what the scan picks, for every policy.
    #[test]
    fn index_matches_the_scan() {
        for policy in [Policy::FirstFit, Policy::BestFit, Policy::Spread] {
            for seed in 0..20u64 {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                let n = rng.random_range(1..70usize);
                let limits = HostUse {
                    cpu_ucores: 64_000_000,
                    mem_kib: 512 << 20,
                };
                let mut idx = HostIndex::new(policy, limits, n);
                let mut hosts = vec![HostUse::default(); n];
                let mut images = vec![[false; 3]; n];
                for _ in 0..400 {
                    let i = rng.random_range(0..n);
                    // Coarse sizes make ties (equal loads) common.
                    hosts[i] = HostUse {
                        cpu_ucores: rng.random_range(0..9) * 8_000_000,
                        mem_kib: rng.random_range(0..9) * (64 << 20),
                    };
                    for img in &mut images[i] {
                        *img = rng.random_bool(0.5);
                    }
                    let held = images[i];
                    idx.update(i, hosts[i], |img| held[img as usize]);
                    let request = Request {
                        cpu_ucores: rng.random_range(0..5) * 4_000_000,
                        mem_kib: rng.random_range(0..5) * (32 << 20),
                        image: match rng.random_range(0..3) {
                            0 => None,
                            k => Some((k - 1, rng.random_range(1..3) * (16 << 20))),
                        },
                    };
                    let has = |h: usize, img: u32| images[h][img as usize];
                    let want = scan(policy, limits, &hosts, request, has);
                    assert_eq!(idx.choose(request, has), want, "{policy:?} seed {seed}");
                }
            }
        }
    }

    #[test]
    fn ties_go_to_the_lowest_host() {
        let limits = HostUse {
            cpu_ucores: 100,
            mem_kib: 100,
        };
        for policy in [Policy::FirstFit, Policy::BestFit, Policy::Spread] {
            let mut idx = HostIndex::new(policy, limits, 8);
            for i in 0..8 {
                idx.update(
                    i,
                    HostUse {
                        cpu_ucores: 10,
                        mem_kib: 10,
                    },
                    |_| false,
                );
            }
            let r = Request {
                cpu_ucores: 5,
                mem_kib: 5,
                image: None,
            };
            assert_eq!(idx.choose(r, |_, _| false), Some(0), "{policy:?}");
        }
    }
}
