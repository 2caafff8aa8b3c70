use super::*;
use crate::model::ksm::params::KsmTunables;

/// Test parameters known to be valid.
fn checked(t: KsmTunables) -> KsmParams {
    KsmParams::new(t).expect("valid test parameters")
}

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
    let p = checked(KsmTunables {
        pages_to_scan: 1000,
        ..KsmTunables::default()
    });
    assert!((p.scan_rate_pages_per_s() - 35_335.7).abs() < 1.0);
}

#[test]
fn validate_errors() {
    assert!(KsmParams::new(KsmTunables::default()).is_ok());
    for bad in [
        (KsmTunables {
            pages_to_scan: 0,
            ..KsmTunables::default()
        }),
        (KsmTunables {
            sleep_millisecs: 0,
            ..KsmTunables::default()
        }),
        (KsmTunables {
            hz: 0,
            ..KsmTunables::default()
        }),
        (KsmTunables {
            max_page_sharing: 1,
            ..KsmTunables::default()
        }),
    ] {
        assert!(KsmParams::new(bad.clone()).is_err(), "{bad:?}");
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
    let p = checked(KsmTunables {
        max_page_sharing: 2,
        ..KsmTunables::default()
    });
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
    let p = checked(KsmTunables {
        pages_to_scan: 64,
        ..KsmTunables::default()
    });
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
        checked(KsmTunables {
            pages_to_scan: 200,
            ..base.tunables()
        }),
        4,
        S,
        U,
    );
    let r = t2 as f64 / t1 as f64;
    assert!((0.45..=0.6).contains(&r), "sleep-dominated ratio {r}");

    let fast = checked(KsmTunables {
        sleep_millisecs: 1,
        hz: 1000,
        pages_to_scan: 10_000,
        ..base.tunables()
    });
    let (s, u) = (100_000, 50_000);
    let t1 = full_merge_time(fast.clone(), 4, s, u);
    let t2 = full_merge_time(
        checked(KsmTunables {
            pages_to_scan: 20_000,
            ..fast.tunables()
        }),
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
            checked(KsmTunables {
                scope,
                ..KsmTunables::default()
            }),
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
    let p = checked(KsmTunables {
        use_zero_pages: true,
        ..KsmTunables::default()
    });
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
    let p = checked(KsmTunables {
        pages_to_scan: 77,
        ..KsmTunables::default()
    });
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
