//! Balanced token allocation for a joining node ([`allocate_tokens`]), in the spirit of
//! Cassandra's `allocate_tokens_for_local_replication_factor`: tokens are chosen so that the
//! effective ownership of the nodes of the joining node's datacenter, under
//! `NetworkTopologyStrategy` with the given factor in that datacenter, is as even as
//! possible. Nothing is random: the result is a function of the ring and the arguments.
//!
//! How: NTS places the replicas of a datacenter by walking only that datacenter's tokens, so
//! the datacenter's ring is modelled alone.
//! - The first node of a datacenter gets evenly spaced tokens.
//! - While the datacenter has fewer nodes than the factor, every node replicates everything
//!   whatever the tokens, so the next node takes the next slot of a lattice of
//!   `rf * num_tokens` equal ranges (node `k` shifted by `k / rf` of a step): the first `rf`
//!   nodes interleave regularly, which later joins can split evenly. (Rings not on such a
//!   lattice fall through to the general case.)
//! - Otherwise tokens are placed one at a time, greedily: for every gap between two
//!   consecutive tokens of the datacenter, inserting a token at offset `x` in the gap changes
//!   which ranges each node replicates, and for a given gap those replica sets do not depend
//!   on `x`; so every node's ownership is an affine function of `x`, and the objective (the
//!   sum of squared ownerships, plus a small term preferring to split wide ranges near their
//!   middle) is a quadratic in `x`, minimised exactly. The best gap and offset win. Only the
//!   ranges whose replica walk passes the inserted token are recomputed. Then a few passes
//!   move single tokens of the new node to their best position given the others while that
//!   lowers the objective.
//!
//! Balance is bounded by the rack layout, as in Cassandra: with racks at least as many as
//! the factor, every rack replicates every range exactly once (per replica), so nodes of a
//! rack with more nodes than another own less (4 nodes over 3 racks at factor 3: 0.5, 0.5,
//! 1, 1). Within 10 % of the datacenter's mean needs racks with equal node counts (or a
//! single rack); the nodes sharing a rack then share it evenly. With more racks than the
//! factor but fewer than the nodes, balance is best effort.
//!
//! Invariants of the result: `num_tokens` distinct tokens, none equal to [`Token::MIN`] or
//! to a token already in the ring.

use std::collections::BTreeSet;

use meridian_types::token::Token;

use super::metadata::{TokenMetadata, MAX_TOKENS_PER_NODE};

/// 2^64 as a float: ring fractions are positions divided by it.
const RING_SIZE: f64 = 18_446_744_073_709_551_616.0;
/// Weight of the term preferring even range widths (relative to squared ownerships).
const WIDTH_WEIGHT: f64 = 0.05;
/// Positions tried around a colliding candidate before moving on to the next gap.
const COLLISION_PROBES: u64 = 64;
/// How far (in ring positions) a token may be from its lattice point and still count as on
/// it (evenly spaced tokens are rounded, and moved past collisions).
const LATTICE_TOLERANCE: f64 = 1_048_576.0;
/// Most improvement passes over the chosen tokens.
const REFINE_ROUNDS: usize = 4;
/// Smallest objective decrease worth moving a token for.
const REFINE_MIN_GAIN: f64 = 1e-12;
/// 1/φ: successive datacenters' first tokens are offset by this fraction of a step.
const GOLDEN_FRACTION: f64 = 0.618_033_988_749_894_9;

/// Errors allocating tokens.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllocationError {
    /// `num_tokens` must be between 1 and [`MAX_TOKENS_PER_NODE`].
    #[error("num_tokens must be between 1 and {max}, not {num_tokens}", max = MAX_TOKENS_PER_NODE)]
    NumTokens {
        /// The value given.
        num_tokens: usize,
    },
    /// The replication factor must be at least 1.
    #[error("the replication factor for token allocation must be at least 1")]
    ReplicationFactor,
    /// Datacenter and rack names must not be empty.
    #[error("empty datacenter or rack name")]
    EmptyLocation,
    /// No free position is left (the ring is saturated).
    #[error("no free token position left in the ring")]
    NoRoom,
}

/// Ring position of a token: `Token::MIN` is 0 and order is preserved.
fn position(token: Token) -> u64 {
    (token.0 as u64) ^ (1 << 63)
}

fn token_at(position: u64) -> Token {
    Token((position ^ (1 << 63)) as i64)
}

/// Chooses `num_tokens` tokens for a node joining `datacenter` on `rack`, balancing the
/// effective ownership of that datacenter's nodes for `replication_factor` replicas there.
pub fn allocate_tokens(
    ring: &TokenMetadata,
    datacenter: &str,
    rack: &str,
    num_tokens: usize,
    replication_factor: usize,
) -> Result<Vec<Token>, AllocationError> {
    if num_tokens == 0 || num_tokens > MAX_TOKENS_PER_NODE {
        return Err(AllocationError::NumTokens { num_tokens });
    }
    if replication_factor == 0 {
        return Err(AllocationError::ReplicationFactor);
    }
    if datacenter.is_empty() || rack.is_empty() {
        return Err(AllocationError::EmptyLocation);
    }
    let mut taken: BTreeSet<u64> = ring.sorted_tokens().iter().map(|t| position(*t)).collect();
    let mut dc = DcRing::new(ring, datacenter, rack, replication_factor);
    if dc.pos.is_empty() {
        let other_dcs = ring.datacenters().len();
        return evenly_spaced(num_tokens, other_dcs, &taken);
    }
    if dc.node_count < replication_factor {
        if let Some(tokens) = dc.lattice_slot(num_tokens, &taken) {
            return Ok(tokens);
        }
    }
    let mut chosen: Vec<Token> = dc
        .place(num_tokens, &mut taken)?
        .into_iter()
        .map(token_at)
        .collect();
    chosen.sort_unstable();
    Ok(chosen)
}

/// Tokens `offset + i * 2^64 / n`, the offset depending on how many datacenters exist so
/// that datacenters do not stack their tokens, moved forward past any taken position.
fn evenly_spaced(
    num_tokens: usize,
    other_dcs: usize,
    taken: &BTreeSet<u64>,
) -> Result<Vec<Token>, AllocationError> {
    let step = (1u128 << 64) / num_tokens as u128;
    let fraction = (0.5 + other_dcs as f64 * GOLDEN_FRACTION).fract();
    let base = (fraction * step as f64) as u128;
    for shift in 0..COLLISION_PROBES as u128 {
        let positions: Vec<u64> = (0..num_tokens as u128)
            .map(|i| ((base + shift + i * step) % (1u128 << 64)) as u64)
            .collect();
        if positions.iter().all(|p| *p != 0 && !taken.contains(p)) {
            let mut tokens: Vec<Token> = positions.into_iter().map(token_at).collect();
            tokens.sort_unstable();
            return Ok(tokens);
        }
    }
    Err(AllocationError::NoRoom)
}

/// The joining node's datacenter alone: its sorted positions, node and rack of each, and
/// the NTS parameters.
struct DcRing {
    /// Sorted positions of the datacenter's tokens (including those chosen so far).
    pos: Vec<u64>,
    /// Local node index of each position.
    node: Vec<u32>,
    /// Local rack index of each local node.
    rack_of: Vec<u32>,
    /// Nodes and racks in the ring now (the new node counts once it has a token).
    node_count: usize,
    rack_count: usize,
    /// The new node's index and rack index; whether its rack is new.
    new_node: u32,
    new_rack: u32,
    new_rack_is_new: bool,
    rf: usize,
}

/// The objective `a x^2 + b x + c` of inserting a token at offset `x` (a ring fraction)
/// into a gap.
struct GapObjective {
    /// Index of the range `(pos[gap - 1], pos[gap]]` split.
    gap: usize,
    /// Its width in positions.
    gap_width: u128,
    a: f64,
    b: f64,
    c: f64,
}

impl GapObjective {
    fn at(&self, x: f64) -> f64 {
        self.a * x * x + self.b * x + self.c
    }
}

/// A replica walk's result: replicas (local node indices) and tokens visited.
#[derive(Clone, Default)]
struct WalkResult {
    replicas: Vec<u32>,
    visited: usize,
}

impl DcRing {
    fn new(ring: &TokenMetadata, datacenter: &str, rack: &str, rf: usize) -> DcRing {
        let members: Vec<_> = ring
            .nodes()
            .filter(|d| d.datacenter == datacenter)
            .collect();
        let racks: Vec<&str> = {
            let set: BTreeSet<&str> = members.iter().map(|d| d.rack.as_str()).collect();
            set.into_iter().collect()
        };
        let rack_index = |name: &str| racks.iter().position(|r| *r == name);
        let mut rack_of: Vec<u32> = members
            .iter()
            .map(|d| rack_index(&d.rack).unwrap_or(0) as u32)
            .collect();
        let (new_rack, new_rack_is_new) = match rack_index(rack) {
            Some(i) => (i as u32, false),
            None => (racks.len() as u32, true),
        };
        let new_node = members.len() as u32;
        rack_of.push(new_rack);
        let mut entries: Vec<(u64, u32)> = members
            .iter()
            .enumerate()
            .flat_map(|(i, d)| d.tokens.iter().map(move |t| (position(*t), i as u32)))
            .collect();
        entries.sort_unstable();
        DcRing {
            pos: entries.iter().map(|e| e.0).collect(),
            node: entries.iter().map(|e| e.1).collect(),
            rack_of,
            node_count: members.len(),
            rack_count: racks.len(),
            new_node,
            new_rack,
            new_rack_is_new,
            rf,
        }
    }

    fn has_new_node(&self) -> bool {
        self.node.contains(&self.new_node)
    }

    /// Node and rack counts once the new node is in.
    fn counts_with_new(&self) -> (usize, usize) {
        if self.has_new_node() {
            (self.node_count, self.rack_count)
        } else {
            (
                self.node_count + 1,
                self.rack_count + usize::from(self.new_rack_is_new),
            )
        }
    }

    /// Width of range `i`, `(pos[i - 1], pos[i]]`, in ring positions (2^64 for one token).
    fn width(&self, i: usize) -> u128 {
        let n = self.pos.len();
        if n == 1 {
            return 1u128 << 64;
        }
        self.pos[i].wrapping_sub(self.pos[(i + n - 1) % n]) as u128
    }

    /// Cassandra's NTS walk restricted to one datacenter, over `len` entries given by
    /// `node_at`, from `start`.
    fn walk(
        &self,
        len: usize,
        node_at: impl Fn(usize) -> u32,
        start: usize,
        counts: (usize, usize),
        seen_racks: &mut Vec<bool>,
    ) -> WalkResult {
        let (node_count, rack_count) = counts;
        let mut rf_left = self.rf.min(node_count);
        let mut repeats_left = self.rf as isize - rack_count as isize;
        seen_racks.clear();
        seen_racks.resize(self.rack_of.len().max(rack_count) + 1, false);
        let mut result = WalkResult::default();
        for k in 0..len {
            if rf_left == 0 {
                break;
            }
            result.visited = k + 1;
            let node = node_at((start + k) % len);
            if result.replicas.contains(&node) {
                continue;
            }
            let rack = self.rack_of[node as usize] as usize;
            if !seen_racks[rack] {
                seen_racks[rack] = true;
            } else if repeats_left > 0 {
                repeats_left -= 1;
            } else {
                continue;
            }
            result.replicas.push(node);
            rf_left -= 1;
        }
        result
    }

    /// For every gap that can hold a token, the objective as a quadratic in the offset of
    /// a new-node token inserted there.
    fn gap_objectives(&self) -> Vec<GapObjective> {
        let len = self.pos.len();
        let mut seen = Vec::new();
        let current_counts = (self.node_count, self.rack_count);
        let after_counts = self.counts_with_new();
        // While the new node is not in the ring yet, its arrival may change the walk's
        // parameters (nodes to take, rack repeats allowed) and so every range's replicas.
        let parameters_change = !self.has_new_node()
            && (self.rf.min(current_counts.0) != self.rf.min(after_counts.0)
                || (self.rf as isize - current_counts.1 as isize).max(0)
                    != (self.rf as isize - after_counts.1 as isize).max(0));
        let walks: Vec<WalkResult> = (0..len)
            .map(|i| self.walk(len, |k| self.node[k], i, current_counts, &mut seen))
            .collect();
        let widths: Vec<f64> = (0..len).map(|i| self.width(i) as f64 / RING_SIZE).collect();
        let mut own = vec![0.0f64; self.rack_of.len()];
        for (walk, w) in walks.iter().zip(&widths) {
            for n in &walk.replicas {
                own[*n as usize] += w;
            }
        }
        let max_visited = walks.iter().map(|w| w.visited).max().unwrap_or(0);

        let mut objectives = Vec::with_capacity(len);
        let mut c = vec![0.0f64; own.len()];
        let mut d = vec![0.0f64; own.len()];
        for g in 0..len {
            let gap_width = self.width(g);
            if gap_width < 2 {
                continue;
            }
            // The ring with the new token inserted at index g.
            let virtual_node = |k: usize| -> u32 {
                match k.cmp(&g) {
                    std::cmp::Ordering::Less => self.node[k],
                    std::cmp::Ordering::Equal => self.new_node,
                    std::cmp::Ordering::Greater => self.node[k - 1],
                }
            };
            c.copy_from_slice(&own);
            // Ranges whose walk passes the new token change replicas (all of them may when
            // the walk's parameters change).
            let affected: Vec<usize> = if parameters_change {
                (0..len).collect()
            } else {
                (0..max_visited.min(len))
                    .map(|back| ((g + len - 1 - back) % len, back))
                    .filter(|(i, back)| back + 1 < walks[*i].visited)
                    .map(|(i, _)| i)
                    .collect()
            };
            let mut gap_replicas = walks[g].replicas.clone();
            for i in affected {
                let start = if i < g { i } else { i + 1 };
                let new = self.walk(len + 1, virtual_node, start, after_counts, &mut seen);
                for n in &walks[i].replicas {
                    c[*n as usize] -= widths[i];
                }
                for n in &new.replicas {
                    c[*n as usize] += widths[i];
                }
                if i == g {
                    gap_replicas = new.replicas;
                }
            }
            // (pos[g-1], p] gets the walk from p; (p, pos[g]] keeps gap_replicas.
            let from_new = self.walk(len + 1, virtual_node, g, after_counts, &mut seen);
            d.iter_mut().for_each(|x| *x = 0.0);
            for n in &from_new.replicas {
                d[*n as usize] += 1.0;
            }
            for n in &gap_replicas {
                d[*n as usize] -= 1.0;
            }
            // own(x) = c + x d for x in (0, w); objective = sum (c + x d)^2 plus the width
            // term k ((x^2 + (w - x)^2) - w^2) = k (2x^2 - 2wx).
            let w = gap_width as f64 / RING_SIZE;
            objectives.push(GapObjective {
                gap: g,
                gap_width,
                a: d.iter().map(|v| v * v).sum::<f64>() + 2.0 * WIDTH_WEIGHT,
                b: 2.0 * c.iter().zip(&d).map(|(ci, di)| ci * di).sum::<f64>()
                    - 2.0 * WIDTH_WEIGHT * w,
                c: c.iter().map(|v| v * v).sum(),
            });
        }
        objectives
    }

    /// The best free position for one more token of the new node, with its objective, or
    /// `None` if no gap has room.
    fn best_position(&self, taken: &BTreeSet<u64>) -> Option<(u64, f64)> {
        let len = self.pos.len();
        let mut candidates: Vec<(f64, usize, u128)> = self
            .gap_objectives()
            .into_iter()
            .map(|q| {
                let lo = 1.0 / RING_SIZE;
                let hi = (q.gap_width as f64 / RING_SIZE - lo).max(lo);
                let x = (-q.b / (2.0 * q.a)).clamp(lo, hi);
                let offset = ((x * RING_SIZE) as u128).clamp(1, q.gap_width - 1);
                (q.at(x), q.gap, offset)
            })
            .collect();
        candidates.sort_by(|l, r| l.0.total_cmp(&r.0).then(l.1.cmp(&r.1)));
        for (objective, g, offset) in candidates {
            let start = self.pos[(g + len - 1) % len];
            let gap_width = self.width(g);
            // Probe offset, offset + 1, offset - 1, ... inside the gap.
            for probe in 0..COLLISION_PROBES as i128 {
                let delta = if probe % 2 == 0 {
                    probe / 2
                } else {
                    -(probe + 1) / 2
                };
                let o = offset as i128 + delta;
                if o < 1 || o >= gap_width as i128 {
                    continue;
                }
                let p = start.wrapping_add(o as u64);
                if p != 0 && !taken.contains(&p) {
                    return Some((p, objective));
                }
            }
        }
        None
    }

    /// The objective if a new-node token were inserted at position `p` (not in the ring).
    fn objective_at(&self, p: u64) -> Option<f64> {
        let len = self.pos.len();
        let mut g = self.pos.partition_point(|q| *q < p);
        if g == len {
            g = 0;
        }
        let start = self.pos[(g + len - 1) % len];
        let x = p.wrapping_sub(start) as f64 / RING_SIZE;
        self.gap_objectives()
            .into_iter()
            .find(|q| q.gap == g)
            .map(|q| q.at(x))
    }

    /// Places `num_tokens` tokens greedily, then moves single tokens to better positions
    /// while that lowers the objective (at most [`REFINE_ROUNDS`] passes).
    fn place(
        &mut self,
        num_tokens: usize,
        taken: &mut BTreeSet<u64>,
    ) -> Result<Vec<u64>, AllocationError> {
        let mut chosen = Vec::with_capacity(num_tokens);
        for _ in 0..num_tokens {
            let (p, _) = self.best_position(taken).ok_or(AllocationError::NoRoom)?;
            taken.insert(p);
            self.insert_new(p);
            chosen.push(p);
        }
        if num_tokens < 2 {
            return Ok(chosen);
        }
        for _ in 0..REFINE_ROUNDS {
            let mut moved = false;
            for slot in chosen.iter_mut() {
                let old = *slot;
                self.remove_new(old);
                taken.remove(&old);
                let stay = self.objective_at(old);
                let best = self.best_position(taken);
                let p = match (best, stay) {
                    (Some((p, better)), Some(stay)) if better < stay - REFINE_MIN_GAIN => p,
                    (Some((p, _)), None) => p,
                    _ => old,
                };
                moved |= p != old;
                taken.insert(p);
                self.insert_new(p);
                *slot = p;
            }
            if !moved {
                break;
            }
        }
        Ok(chosen)
    }

    /// While the datacenter has fewer nodes than the replication factor every node
    /// replicates everything, so balance is about the future: the first `rf` nodes, each
    /// with `num_tokens` evenly spaced tokens, are interleaved on a lattice of `rf *
    /// num_tokens` equal ranges (node `k` shifted by `k / rf` of a step), which later joins
    /// can split evenly. Returns the tokens of the first free lattice slot, or `None` if the
    /// datacenter's tokens are not on such a lattice.
    fn lattice_slot(&self, num_tokens: usize, taken: &BTreeSet<u64>) -> Option<Vec<Token>> {
        let slots = (num_tokens * self.rf) as f64;
        let slot = RING_SIZE / slots;
        let anchor = *self.pos.first()?;
        // Slot of every existing token (within a rounding tolerance), one per node.
        let mut slot_of_node: Vec<Option<usize>> = vec![None; self.rack_of.len()];
        let mut tokens_of_node = vec![0usize; self.rack_of.len()];
        for (p, n) in self.pos.iter().zip(&self.node) {
            let offset = p.wrapping_sub(anchor) as f64;
            let index = (offset / slot).round();
            if (offset - index * slot).abs() > LATTICE_TOLERANCE {
                return None;
            }
            let s = (index as usize) % self.rf;
            match slot_of_node[*n as usize] {
                None => slot_of_node[*n as usize] = Some(s),
                Some(previous) if previous == s => {}
                Some(_) => return None,
            }
            tokens_of_node[*n as usize] += 1;
        }
        if tokens_of_node[..self.new_node as usize]
            .iter()
            .any(|count| *count != num_tokens)
        {
            return None;
        }
        let used: BTreeSet<usize> = slot_of_node.iter().flatten().copied().collect();
        if used.len() != self.node_count {
            return None;
        }
        let free = (0..self.rf).find(|s| !used.contains(s))?;
        let positions: Vec<u64> = (0..num_tokens)
            .map(|i| anchor.wrapping_add((((i * self.rf + free) as f64) * slot) as u64))
            .collect();
        if positions.iter().any(|p| *p == 0 || taken.contains(p)) {
            return None;
        }
        let mut tokens: Vec<Token> = positions.into_iter().map(token_at).collect();
        tokens.sort_unstable();
        Some(tokens)
    }

    /// Adds a token of the new node at position `p`.
    fn insert_new(&mut self, p: u64) {
        if !self.has_new_node() {
            let (nodes, racks) = self.counts_with_new();
            self.node_count = nodes;
            self.rack_count = racks;
        }
        let i = self.pos.partition_point(|q| *q < p);
        self.pos.insert(i, p);
        self.node.insert(i, self.new_node);
        debug_assert!(self.rack_of[self.new_node as usize] == self.new_rack);
    }

    /// Removes the new node's token at position `p`.
    fn remove_new(&mut self, p: u64) {
        if let Ok(i) = self.pos.binary_search(&p) {
            self.pos.remove(i);
            self.node.remove(i);
        }
        if !self.has_new_node() {
            self.node_count -= 1;
            self.rack_count -= usize::from(self.new_rack_is_new);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::HostId;
    use crate::ring::{ownership, NodeDesc, ReplicationStrategy};
    use std::collections::BTreeMap;

    fn host(n: u128) -> HostId {
        HostId(uuid::Uuid::from_u128(n))
    }

    /// Adds nodes one by one with allocated tokens; `layout` gives, per node in join order,
    /// (datacenter, rack). Returns the ring after each join.
    fn grow(layout: &[(&str, String)], num_tokens: usize, rf: usize) -> Vec<TokenMetadata> {
        let mut ring = TokenMetadata::new();
        let mut states = Vec::new();
        for (i, (dc, rack)) in layout.iter().enumerate() {
            let tokens = allocate_tokens(&ring, dc, rack, num_tokens, rf).unwrap();
            assert_eq!(tokens.len(), num_tokens);
            ring.add_or_update(NodeDesc {
                host_id: host(i as u128 + 1),
                datacenter: dc.to_string(),
                rack: rack.clone(),
                tokens,
            })
            .unwrap();
            states.push(ring.clone());
        }
        states
    }

    /// Per datacenter, the largest relative deviation of a node's effective ownership from
    /// the datacenter's mean; only datacenters whose racks hold equal node counts.
    fn worst_deviation(ring: &TokenMetadata, strategy: &ReplicationStrategy) -> f64 {
        let own = ownership(ring, strategy);
        let mut worst = 0.0f64;
        for (dc, info) in ring.datacenters() {
            let counts: BTreeSet<usize> = info.racks.values().copied().collect();
            if counts.len() > 1 {
                continue;
            }
            let values: Vec<f64> = ring
                .nodes()
                .filter(|d| d.datacenter == *dc)
                .map(|d| own[&d.host_id])
                .collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            for v in values {
                worst = worst.max((v - mean).abs() / mean);
            }
        }
        worst
    }

    fn nts(rf: usize) -> ReplicationStrategy {
        ReplicationStrategy::NetworkTopology {
            datacenters: BTreeMap::from([("east".to_string(), rf), ("west".to_string(), rf)]),
        }
    }

    /// Join order east-1, west-1, east-2, ... with `rack(i)` naming the i-th node's rack.
    fn two_dcs(per_dc: usize, rack: impl Fn(usize) -> String) -> Vec<(&'static str, String)> {
        (0..per_dc)
            .flat_map(|i| [("east", rack(i)), ("west", rack(i))])
            .collect()
    }

    #[test]
    fn balanced_with_one_rack_per_datacenter() {
        let states = grow(&two_dcs(6, |_| "rack1".into()), 16, 3);
        for (i, ring) in states.iter().enumerate() {
            let worst = worst_deviation(ring, &nts(3));
            assert!(worst <= 0.10, "after {} joins: {worst:.3}", i + 1);
        }
    }

    #[test]
    fn balanced_with_a_rack_per_node() {
        let states = grow(&two_dcs(6, |i| format!("rack{}", i + 1)), 16, 3);
        for (i, ring) in states.iter().enumerate() {
            let worst = worst_deviation(ring, &nts(3));
            assert!(worst <= 0.10, "after {} joins: {worst:.3}", i + 1);
        }
    }

    #[test]
    fn balanced_over_three_racks() {
        // Nodes spread round-robin over rack1..rack3 (as `meridian cluster up --racks 3`):
        // balanced whenever racks hold equal counts (3 and 6 nodes per datacenter); in
        // between, the nodes sharing a rack share it evenly.
        let states = grow(&two_dcs(6, |i| format!("rack{}", i % 3 + 1)), 16, 3);
        for (i, ring) in states.iter().enumerate() {
            let worst = worst_deviation(ring, &nts(3));
            assert!(worst <= 0.10, "after {} joins: {worst:.3}", i + 1);
            let own = ownership(ring, &nts(3));
            for (dc, info) in ring.datacenters() {
                for rack in info.racks.keys() {
                    let values: Vec<f64> = ring
                        .nodes()
                        .filter(|d| d.datacenter == *dc && d.rack == *rack)
                        .map(|d| own[&d.host_id])
                        .collect();
                    let mean = values.iter().sum::<f64>() / values.len() as f64;
                    for v in values {
                        assert!(
                            (v - mean).abs() / mean <= 0.10,
                            "{dc}/{rack}: {v} vs {mean}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn first_node_of_a_datacenter_is_evenly_spaced_and_datacenters_do_not_stack() {
        let ring = TokenMetadata::new();
        let tokens = allocate_tokens(&ring, "east", "r1", 4, 3).unwrap();
        let pos: Vec<u64> = tokens.iter().map(|t| position(*t)).collect();
        for w in pos.windows(2) {
            assert_eq!(w[1] - w[0], 1 << 62);
        }
        let mut ring = TokenMetadata::new();
        ring.add_or_update(NodeDesc {
            host_id: host(1),
            datacenter: "east".into(),
            rack: "r1".into(),
            tokens: tokens.clone(),
        })
        .unwrap();
        let west = allocate_tokens(&ring, "west", "r1", 4, 3).unwrap();
        assert!(west.iter().all(|t| !tokens.contains(t)));
        assert!(west.iter().all(|t| *t != Token::MIN));
        // Deterministic.
        assert_eq!(allocate_tokens(&ring, "west", "r1", 4, 3).unwrap(), west);
        let east2 = allocate_tokens(&ring, "east", "r2", 16, 3).unwrap();
        assert_eq!(allocate_tokens(&ring, "east", "r2", 16, 3).unwrap(), east2);
        let distinct: BTreeSet<Token> = east2.iter().copied().collect();
        assert_eq!(distinct.len(), 16);
        assert!(east2.iter().all(|t| !tokens.contains(t)));
    }

    /// The quadratic objective of every gap predicts the ownership that a full replica map
    /// computes once the token is really inserted.
    #[test]
    fn gap_objectives_predict_real_ownership() {
        for (rf, racks, nodes) in [(3, 1, 4), (5, 1, 5), (3, 3, 5), (2, 2, 3), (3, 2, 4)] {
            let layout: Vec<(&str, String)> = (0..nodes)
                .map(|i| ("east", format!("r{}", i % racks)))
                .collect();
            let states = grow(&layout, 4, rf);
            let ring = states.last().unwrap();
            for new_rack in [0, racks] {
                let rack = format!("r{new_rack}");
                let mut dc = DcRing::new(ring, "east", &rack, rf);
                let mut placed: Vec<u64> = Vec::new();
                for step in 0..3 {
                    for q in dc.gap_objectives() {
                        let len = dc.pos.len();
                        let start = dc.pos[(q.gap + len - 1) % len];
                        for offset in [1u128, q.gap_width / 3, q.gap_width - 1] {
                            if offset == 0 || offset >= q.gap_width {
                                continue;
                            }
                            let p = start.wrapping_add(offset as u64);
                            if p == 0 {
                                continue;
                            }
                            let x = offset as f64 / RING_SIZE;
                            let w = q.gap_width as f64 / RING_SIZE;
                            let predicted = q.at(x) - WIDTH_WEIGHT * (2.0 * x * x - 2.0 * w * x);
                            let mut real = ring.clone();
                            let mut tokens: Vec<Token> =
                                placed.iter().map(|p| token_at(*p)).collect();
                            tokens.push(token_at(p));
                            real.add_or_update(NodeDesc {
                                host_id: host(1000),
                                datacenter: "east".into(),
                                rack: rack.clone(),
                                tokens,
                            })
                            .unwrap();
                            let strategy = ReplicationStrategy::NetworkTopology {
                                datacenters: BTreeMap::from([("east".to_string(), rf)]),
                            };
                            let actual: f64 =
                                ownership(&real, &strategy).values().map(|v| v * v).sum();
                            assert!(
                                (predicted - actual).abs() < 1e-9,
                                "rf {rf} racks {racks} step {step} gap {}: {predicted} vs {actual}",
                                q.gap
                            );
                        }
                    }
                    let taken: BTreeSet<u64> = dc.pos.iter().copied().collect();
                    let (p, _) = dc.best_position(&taken).unwrap();
                    dc.insert_new(p);
                    placed.push(p);
                }
            }
        }
    }

    #[test]
    fn refuses_bad_arguments() {
        let ring = TokenMetadata::new();
        assert_eq!(
            allocate_tokens(&ring, "dc", "r", 0, 3),
            Err(AllocationError::NumTokens { num_tokens: 0 })
        );
        assert_eq!(
            allocate_tokens(&ring, "dc", "r", MAX_TOKENS_PER_NODE + 1, 3),
            Err(AllocationError::NumTokens {
                num_tokens: MAX_TOKENS_PER_NODE + 1
            })
        );
        assert_eq!(
            allocate_tokens(&ring, "dc", "r", 16, 0),
            Err(AllocationError::ReplicationFactor)
        );
        assert_eq!(
            allocate_tokens(&ring, "", "r", 16, 3),
            Err(AllocationError::EmptyLocation)
        );
    }

    #[test]
    fn a_crowded_gap_is_skipped() {
        // Two adjacent tokens leave no room between them; the allocator must still find
        // free positions elsewhere and never reuse a taken one.
        let mut ring = TokenMetadata::new();
        ring.add_or_update(NodeDesc {
            host_id: host(1),
            datacenter: "dc".into(),
            rack: "r".into(),
            tokens: vec![Token(0), Token(1), Token(2)],
        })
        .unwrap();
        let tokens = allocate_tokens(&ring, "dc", "r", 8, 1).unwrap();
        assert_eq!(tokens.len(), 8);
        assert!(tokens.iter().all(|t| ![0, 1, 2, i64::MIN].contains(&t.0)));
    }
}
