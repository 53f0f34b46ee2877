//! Mesh links: the directed links between neighbouring tiles of the joined mesh that some
//! packet's route uses, the dimension-order route (x first, then y) from one core to another
//! over them, and the per-step link load: packets on the busiest link, and how long a step
//! lasts when that link, at the chip's `link_packet_ns`, needs longer than the busiest core.
//!
//! Packets from the host (input spikes) are injected at their destination cores and use no
//! mesh link. Links between joined chips are modeled like links inside a chip.

use crate::timing::FS;
use std::collections::HashMap;

/// One directed link: from tile `from` to the neighbouring tile `to` (joined-mesh coordinates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Link {
    /// Tile the packets leave.
    pub from: (u32, u32),
    /// Tile they enter.
    pub to: (u32, u32),
}

/// The links the program's routes use, numbered densely, and the route over them of every pair
/// of cores on different tiles that exchanges packets (a *pair*, numbered densely too).
#[derive(Clone, Debug, Default)]
pub struct MeshLinks {
    /// Link number → link, in (from, to) order.
    pub links: Vec<Link>,
    /// Per source core, (destination core, pair) sorted by destination.
    routes: Vec<Vec<(u32, u32)>>,
    /// Per pair, its route: `hops[start..end]`, the links in travel order.
    pairs: Vec<(u32, u32)>,
    hops: Vec<u32>,
    /// The same routes as ranges of lane slots (see [`LaneAdder`]): per pair its run along x
    /// and its run along y, `(start, end)`, empty when `start == end`.
    runs: Vec<[(u32, u32); 2]>,
    /// Lane slot of every used link.
    lane_slot: Vec<u32>,
    /// Lane slots of the whole mesh.
    lane_slots: usize,
}

impl MeshLinks {
    /// The links of the routes from each core to each of its destination cores: `tiles[c]` is
    /// core `c`'s tile, `dests[c]` the cores its spikes reach (any order, repeats allowed).
    pub fn new(tiles: &[(u32, u32)], dests: &[Vec<u32>]) -> Self {
        let mut pairs: Vec<(u32, u32)> = dests
            .iter()
            .enumerate()
            .flat_map(|(c, d)| d.iter().map(move |&d| (c as u32, d)))
            .filter(|&(c, d)| tiles[c as usize] != tiles[d as usize])
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        // Number the links in (from, to) order, so that the numbering does not depend on the
        // order the routes were listed in.
        let mut all: Vec<Link> = Vec::new();
        for &(c, d) in &pairs {
            walk(tiles[c as usize], tiles[d as usize], |l| all.push(l));
        }
        all.sort_unstable();
        all.dedup();
        let number: HashMap<Link, u32> = all
            .iter()
            .enumerate()
            .map(|(i, &l)| (l, i as u32))
            .collect();
        let lanes = Lanes::of(tiles);
        let lane_slot = all.iter().map(|&l| lanes.slot(l)).collect();
        let runs = pairs
            .iter()
            .map(|&(c, d)| lanes.runs(tiles[c as usize], tiles[d as usize]))
            .collect();
        let mut routes = vec![Vec::new(); tiles.len()];
        let mut ranges = Vec::with_capacity(pairs.len());
        let mut hops = Vec::new();
        for &(c, d) in &pairs {
            let start = hops.len() as u32;
            walk(tiles[c as usize], tiles[d as usize], |l| {
                hops.push(number[&l])
            });
            routes[c as usize].push((d, ranges.len() as u32));
            ranges.push((start, hops.len() as u32));
        }
        MeshLinks {
            links: all,
            routes,
            pairs: ranges,
            hops,
            runs,
            lane_slot,
            lane_slots: lanes.slots(),
        }
    }

    /// Number of links used.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// No packet crosses a link (one tile, or no traffic between tiles).
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Number of pairs of cores on different tiles that exchange packets.
    pub fn pairs(&self) -> usize {
        self.pairs.len()
    }

    /// The pair number of packets from core `from` to core `to` (none within a tile).
    pub fn pair(&self, from: u32, to: u32) -> Option<u32> {
        let r = &self.routes[from as usize];
        r.binary_search_by_key(&to, |&(d, _)| d)
            .ok()
            .map(|i| r[i].1)
    }

    /// The links pair `p`'s packets cross, in order.
    pub fn pair_route(&self, p: u32) -> &[u32] {
        let (start, end) = self.pairs[p as usize];
        &self.hops[start as usize..end as usize]
    }

    /// The links a packet from core `from` to core `to` crosses, in order (none within a tile).
    pub fn route(&self, from: u32, to: u32) -> &[u32] {
        self.pair(from, to).map_or(&[], |p| self.pair_route(p))
    }
}

/// The mesh's links laid out lane by lane: each row's eastward links, each row's westward
/// links, each column's southward links, each column's northward links, every lane in
/// coordinate order with one spare slot at its end. A straight run of a route is then a range
/// of slots, so a count is added to a whole route with two writes into a difference array.
struct Lanes {
    width: u32,
    height: u32,
}

impl Lanes {
    /// The lanes of the smallest mesh holding `tiles`.
    fn of(tiles: &[(u32, u32)]) -> Self {
        Lanes {
            width: tiles.iter().map(|t| t.0 + 1).max().unwrap_or(1),
            height: tiles.iter().map(|t| t.1 + 1).max().unwrap_or(1),
        }
    }

    fn slots(&self) -> usize {
        4 * self.width as usize * self.height as usize
    }

    /// Slots of the lane along row `y` (eastward or westward) or column `x`.
    fn row(&self, y: u32, east: bool) -> u32 {
        (u32::from(!east) * self.height + y) * self.width
    }

    fn column(&self, x: u32, south: bool) -> u32 {
        2 * self.height * self.width + (u32::from(!south) * self.width + x) * self.height
    }

    /// The slot of link `l` (between neighbouring tiles).
    fn slot(&self, l: Link) -> u32 {
        let ((x0, y0), (x1, y1)) = (l.from, l.to);
        if y0 == y1 {
            self.row(y0, x1 > x0) + x0.min(x1)
        } else {
            self.column(x0, y1 > y0) + y0.min(y1)
        }
    }

    /// The slot ranges of the dimension-order route from tile `a` to tile `b`: along x in
    /// `a`'s row, then along y in `b`'s column.
    fn runs(&self, a: (u32, u32), b: (u32, u32)) -> [(u32, u32); 2] {
        let x = self.row(a.1, b.0 > a.0);
        let y = self.column(b.0, b.1 > a.1);
        [
            (x + a.0.min(b.0), x + a.0.max(b.0)),
            (y + a.1.min(b.1), y + a.1.max(b.1)),
        ]
    }
}

/// Adds packet counts of core pairs to the links of their routes: link by link when the routes
/// are few, else through a difference array over the mesh's lane slots (two writes per straight
/// run, then one pass over the slots), whichever touches less; the sums are the same integers.
#[derive(Default)]
pub(crate) struct LaneAdder {
    diff: Vec<u32>,
}

impl LaneAdder {
    /// Adds `counts[p]` packets for every pair `p` of `pairs` to `row` (per used link of
    /// `links`), and clears those counts.
    pub(crate) fn add(
        &mut self,
        links: &MeshLinks,
        pairs: &[u32],
        counts: &mut [u32],
        row: &mut [u32],
    ) {
        let hops: usize = pairs
            .iter()
            .map(|&p| {
                let (a, b) = links.pairs[p as usize];
                (b - a) as usize
            })
            .sum();
        if hops <= links.lane_slots + links.lane_slot.len() {
            for &p in pairs {
                let n = std::mem::take(&mut counts[p as usize]);
                for &k in links.pair_route(p) {
                    row[k as usize] += n;
                }
            }
            return;
        }
        self.diff.resize(links.lane_slots, 0);
        for &p in pairs {
            let n = std::mem::take(&mut counts[p as usize]);
            for (a, b) in links.runs[p as usize] {
                // Modular arithmetic: every run adds and takes back n within its lane.
                self.diff[a as usize] = self.diff[a as usize].wrapping_add(n);
                self.diff[b as usize] = self.diff[b as usize].wrapping_sub(n);
            }
        }
        let mut sum = 0u32;
        for d in &mut self.diff {
            sum = sum.wrapping_add(*d);
            *d = sum;
        }
        for (r, &s) in row.iter_mut().zip(&links.lane_slot) {
            *r += self.diff[s as usize];
        }
        self.diff.fill(0);
    }
}

/// The links of the dimension-order route from tile `a` to tile `b`: along x in `a`'s row,
/// then along y in `b`'s column.
fn walk(a: (u32, u32), b: (u32, u32), mut f: impl FnMut(Link)) {
    let (mut x, mut y) = a;
    while x != b.0 {
        let nx = if b.0 > x { x + 1 } else { x - 1 };
        f(Link {
            from: (x, y),
            to: (nx, y),
        });
        x = nx;
    }
    while y != b.1 {
        let ny = if b.1 > y { y + 1 } else { y - 1 };
        f(Link {
            from: (x, y),
            to: (x, ny),
        });
        y = ny;
    }
}

/// Link load over a run: per-link totals and, per chip step, the busiest link. Every field is
/// an integer sum or maximum of per-step values (the peak ratio a maximum of exact per-step
/// quotients), so it does not depend on how the steps were split between workers or shares.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinkLoad {
    /// Packets per link (numbered as in [`MeshLinks`]) over the run.
    pub per_link: Vec<u64>,
    /// Σ over chip steps of the busiest link's packets.
    pub busiest_sum: u64,
    /// Most packets one link carried in one step.
    pub busiest_max: u64,
    /// Σ over chip steps of the busiest link's busy time (packets × `link_packet_ns`), fs.
    pub busiest_fs: u128,
    /// Steps in which the busiest link needed longer than the busiest core, so the step was
    /// stretched to the link's time.
    pub stretched_steps: u64,
    /// Σ of those stretches (link time − busiest core time), fs.
    pub stretch_fs: u128,
    /// Largest share of one step's time (stretched, barrier included) that its busiest link
    /// was busy.
    pub peak_utilization: f64,
}

impl LinkLoad {
    /// An empty tally over `links` links.
    pub(crate) fn new(links: usize) -> Self {
        LinkLoad {
            per_link: vec![0; links],
            ..LinkLoad::default()
        }
    }

    /// Charges one chip step whose links carried `packets` (per link) and whose busiest core
    /// was busy `core_fs`; returns the step's time with the link's stretch and the barrier.
    pub(crate) fn step(
        &mut self,
        packets: &[u32],
        core_fs: u64,
        link_fs: u64,
        barrier: u64,
    ) -> u64 {
        let mut busiest = 0u32;
        for (total, &n) in self.per_link.iter_mut().zip(packets) {
            *total += u64::from(n);
            busiest = busiest.max(n);
        }
        let busiest = u64::from(busiest);
        let link = busiest * link_fs;
        self.busiest_sum += busiest;
        self.busiest_max = self.busiest_max.max(busiest);
        self.busiest_fs += u128::from(link);
        if link > core_fs {
            self.stretched_steps += 1;
            self.stretch_fs += u128::from(link - core_fs);
        }
        let step = core_fs.max(link) + barrier;
        if step > 0 {
            self.peak_utilization = self.peak_utilization.max(link as f64 / step as f64);
        }
        step
    }

    /// Adds another share's tally.
    pub(crate) fn add(&mut self, other: &LinkLoad) {
        for (a, b) in self.per_link.iter_mut().zip(&other.per_link) {
            *a += b;
        }
        self.busiest_sum += other.busiest_sum;
        self.busiest_max = self.busiest_max.max(other.busiest_max);
        self.busiest_fs += other.busiest_fs;
        self.stretched_steps += other.stretched_steps;
        self.stretch_fs += other.stretch_fs;
        self.peak_utilization = self.peak_utilization.max(other.peak_utilization);
    }

    /// Stretch over the run, seconds.
    pub fn stretch_seconds(&self) -> f64 {
        self.stretch_fs as f64 / FS
    }

    /// Busiest-link busy time over the run, seconds.
    pub fn busiest_seconds(&self) -> f64 {
        self.busiest_fs as f64 / FS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_go_along_x_then_y_and_share_link_numbers() {
        // Cores 0..3 on tiles (0,0), (2,1), (0,1), core 3 on tile (0,0) too.
        let tiles = [(0, 0), (2, 1), (0, 1), (0, 0)];
        let dests = vec![vec![1, 3], vec![0], vec![1], vec![1, 1]];
        let m = MeshLinks::new(&tiles, &dests);
        let ends = |r: &[u32]| -> Vec<Link> { r.iter().map(|&l| m.links[l as usize]).collect() };
        let link = |a, b| Link { from: a, to: b };
        assert_eq!(
            ends(m.route(0, 1)),
            [
                link((0, 0), (1, 0)),
                link((1, 0), (2, 0)),
                link((2, 0), (2, 1))
            ]
        );
        assert_eq!(
            ends(m.route(1, 0)),
            [
                link((2, 1), (1, 1)),
                link((1, 1), (0, 1)),
                link((0, 1), (0, 0))
            ]
        );
        // Same tile: no link; core 3 shares core 0's tile and so its route.
        assert!(m.route(0, 3).is_empty());
        assert_eq!(m.route(3, 1), m.route(0, 1));
        assert_eq!(
            ends(m.route(2, 1)),
            [link((0, 1), (1, 1)), link((1, 1), (2, 1))]
        );
        // Links: 3 + 3 + 2 (2 -> 1 runs opposite to 1 -> 0 over the same tiles).
        assert_eq!(m.len(), 8);
        assert!(m.links.is_sorted());
    }

    /// Both ways of adding pair counts (link by link, and the lane difference array) give the
    /// counts of walking every packet's route.
    #[test]
    fn pair_counts_reach_the_same_links_either_way() {
        // One core per tile of a 4 x 3 mesh, every core sending to every other.
        let tiles: Vec<(u32, u32)> = (0..12).map(|c| (c % 4, c / 4)).collect();
        let dests: Vec<Vec<u32>> = (0..12)
            .map(|c| (0..12).filter(|&d| d != c).collect())
            .collect();
        let m = MeshLinks::new(&tiles, &dests);
        let all: Vec<u32> = (0..m.pairs() as u32).collect();
        for pairs in [&all[..], &all[3..5]] {
            let mut counts: Vec<u32> = (0..m.pairs() as u32).map(|p| p % 7 + 1).collect();
            let mut want = vec![0u32; m.len()];
            for &p in pairs {
                for &k in m.pair_route(p) {
                    want[k as usize] += counts[p as usize];
                }
            }
            let mut got = vec![0u32; m.len()];
            LaneAdder::default().add(&m, pairs, &mut counts, &mut got);
            assert_eq!(got, want, "{} pairs", pairs.len());
            assert!(
                pairs.iter().all(|&p| counts[p as usize] == 0),
                "counts cleared"
            );
        }
        let hops: usize = all.iter().map(|&p| m.pair_route(p).len()).sum();
        assert!(
            hops > m.lane_slots + m.len(),
            "the full set takes the difference array"
        );
    }

    #[test]
    fn a_step_is_stretched_to_its_busiest_link() {
        let mut load = LinkLoad::new(3);
        // Busiest link 4 packets x 10 fs = 40 fs < core 100 fs: not stretched.
        assert_eq!(load.step(&[1, 4, 0], 100, 10, 5), 105);
        // 30 packets x 10 fs = 300 fs > 100 fs: stretched by 200 fs.
        assert_eq!(load.step(&[30, 0, 2], 100, 10, 5), 305);
        assert_eq!(load.per_link, [31, 4, 2]);
        assert_eq!((load.busiest_sum, load.busiest_max), (34, 30));
        assert_eq!((load.stretched_steps, load.stretch_fs), (1, 200));
        assert_eq!(load.busiest_fs, 340);
        assert!((load.peak_utilization - 300.0 / 305.0).abs() < 1e-12);
        let mut sum = LinkLoad::new(3);
        sum.add(&load);
        sum.add(&load);
        assert_eq!(sum.per_link, [62, 8, 4]);
        assert_eq!(
            (sum.busiest_sum, sum.busiest_max, sum.stretch_fs),
            (68, 30, 400)
        );
    }
}
