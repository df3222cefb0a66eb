//! The reproducible 80/20 stratified split: every concept keeps about the same
//! share in the training and the test part, and a fixed seed gives the same split
//! on every machine (a tiny SplitMix64 generator, independent of crate versions).

/// SplitMix64: small, fast, and the same everywhere.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// The seed every training run uses.
pub const SEED: u64 = 0;

/// Share of each concept's examples kept for the test part.
pub const TEST_FRACTION: f64 = 0.2;

/// Splits example indices by their labels: about `test_fraction` of each label's
/// examples go to the test part (at least one when the label has two or more, never
/// all of them). The training part comes shuffled (SGD learners need that), the
/// test part sorted.
pub fn stratified_split(
    labels: &[usize],
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l].push(i);
    }
    let mut rng = SplitMix64::new(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut members in by_class {
        let n = members.len();
        if n == 0 {
            continue;
        }
        rng.shuffle(&mut members);
        let mut n_test = (n as f64 * test_fraction).round() as usize;
        if n >= 2 {
            n_test = n_test.clamp(1, n - 1);
        } else {
            n_test = 0;
        }
        test.extend_from_slice(&members[..n_test]);
        train.extend_from_slice(&members[n_test..]);
    }
    rng.shuffle(&mut train);
    test.sort_unstable();
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_and_reproducible() {
        let labels: Vec<usize> = (0..100).map(|i| if i < 70 { 0 } else { 1 }).collect();
        let (train, test) = stratified_split(&labels, 0.2, SEED);
        assert_eq!(train.len() + test.len(), 100);
        assert_eq!(test.iter().filter(|&&i| labels[i] == 0).count(), 14);
        assert_eq!(test.iter().filter(|&&i| labels[i] == 1).count(), 6);
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(stratified_split(&labels, 0.2, SEED), (train, test));
        assert_ne!(
            stratified_split(&labels, 0.2, 1).1,
            stratified_split(&labels, 0.2, 2).1
        );
    }

    #[test]
    fn tiny_classes_keep_a_training_example() {
        let (train, test) = stratified_split(&[0, 1, 1], 0.2, SEED);
        assert_eq!(test.len(), 1);
        assert_eq!(train.len(), 2);
        assert!(train.contains(&0));
    }
}
