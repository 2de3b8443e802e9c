//! Grouping voice embeddings by speaker: agglomerative clustering with average linkage on
//! cosine similarity, merging the two most similar groups until a given number remains or no
//! two are more alike than a threshold. Each group keeps its best neighbour, so a merge
//! rescans only the rows that pointed at the merged pair (about n² work in all, not n³).

/// How many groups to make.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Stop {
    /// Exactly this many (fewer only when there are fewer items).
    Count(usize),
    /// Merge while two groups' mean similarity is at least this.
    Similarity(f32),
}

/// The group of each item (0-based, numbered by first appearance) for unit-length
/// `embeddings` (`dim` values each, back to back).
pub(crate) fn cluster(embeddings: &[f32], dim: usize, stop: Stop) -> Vec<usize> {
    let n = embeddings.len().checked_div(dim).unwrap_or(0);
    if n == 0 {
        return Vec::new();
    }
    let row = |i: usize| &embeddings[i * dim..(i + 1) * dim];
    // Mean pairwise similarity between live groups; sizes for the average.
    let mut sim = vec![0.0f32; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let s: f32 = row(i).iter().zip(row(j)).map(|(a, b)| a * b).sum();
            sim[i * n + j] = s;
            sim[j * n + i] = s;
        }
    }
    let mut size = vec![1usize; n];
    let mut alive = vec![true; n];
    let mut parent: Vec<usize> = (0..n).collect();
    let best_of = |i: usize, sim: &[f32], alive: &[bool]| -> Option<(usize, f32)> {
        (0..n)
            .filter(|&j| j != i && alive[j])
            .map(|j| (j, sim[i * n + j]))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    };
    let mut best: Vec<Option<(usize, f32)>> = (0..n).map(|i| best_of(i, &sim, &alive)).collect();
    let mut groups = n;
    loop {
        let want_more = match stop {
            Stop::Count(k) => groups > k.max(1),
            Stop::Similarity(_) => groups > 1,
        };
        if !want_more {
            break;
        }
        let Some((a, (b, s))) = (0..n)
            .filter(|&i| alive[i])
            .filter_map(|i| best[i].map(|bst| (i, bst)))
            .max_by(|x, y| x.1 .1.total_cmp(&y.1 .1))
        else {
            break;
        };
        if let Stop::Similarity(t) = stop {
            if s < t {
                break;
            }
        }
        // Merge b into a: average linkage by the Lance–Williams update.
        let (na, nb) = (size[a] as f32, size[b] as f32);
        for k in 0..n {
            if alive[k] && k != a && k != b {
                let v = (na * sim[a * n + k] + nb * sim[b * n + k]) / (na + nb);
                sim[a * n + k] = v;
                sim[k * n + a] = v;
            }
        }
        size[a] += size[b];
        alive[b] = false;
        parent[b] = a;
        groups -= 1;
        for k in 0..n {
            if !alive[k] {
                continue;
            }
            let stale = k == a || matches!(best[k], Some((j, _)) if j == a || j == b);
            if stale {
                best[k] = best_of(k, &sim, &alive);
            } else if let Some((_, s)) = best[k] {
                // The merged group may now be k's best.
                let v = sim[k * n + a];
                if v > s {
                    best[k] = Some((a, v));
                }
            }
        }
    }
    // Each item's root, numbered by first appearance.
    let root = |mut i: usize| {
        while parent[i] != i {
            i = parent[i];
        }
        i
    };
    let mut names: Vec<usize> = Vec::new();
    (0..n)
        .map(|i| {
            let r = root(i);
            match names.iter().position(|&x| x == r) {
                Some(k) => k,
                None => {
                    names.push(r);
                    names.len() - 1
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unit vectors near one of `centres` (2-d), a little noise each.
    fn points(labels: &[usize]) -> Vec<f32> {
        let centres = [(1.0f32, 0.0f32), (0.0, 1.0), (-0.7, 0.7)];
        labels
            .iter()
            .enumerate()
            .flat_map(|(i, &l)| {
                let wobble = ((i * 7919) % 13) as f32 / 13.0 * 0.2 - 0.1;
                let (x, y) = centres[l];
                let (x, y) = (x + wobble, y - wobble);
                let norm = (x * x + y * y).sqrt();
                [x / norm, y / norm]
            })
            .collect()
    }

    #[test]
    fn groups_come_out_by_count_and_by_threshold() {
        let truth = [0, 1, 0, 2, 1, 1, 0, 2, 2, 0];
        let e = points(&truth);
        for stop in [Stop::Count(3), Stop::Similarity(0.8)] {
            let got = cluster(&e, 2, stop);
            assert_eq!(got, vec![0, 1, 0, 2, 1, 1, 0, 2, 2, 0], "{stop:?}");
        }
        assert_eq!(cluster(&e, 2, Stop::Count(1)), vec![0; 10]);
        assert!(cluster(&e, 2, Stop::Count(2)).iter().all(|&g| g < 2));
        assert_eq!(
            cluster(&e, 2, Stop::Similarity(1.1)),
            (0..10).collect::<Vec<_>>()
        );
        assert!(cluster(&[], 2, Stop::Count(2)).is_empty());
        assert_eq!(cluster(&e[..2], 2, Stop::Count(4)), vec![0]);
    }
}
