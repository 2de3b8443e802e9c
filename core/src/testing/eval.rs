//! Word error rate, for accuracy checks and benchmarks.

/// Lower-case words with punctuation removed (apostrophes kept).
///
/// ```
/// assert_eq!(stenograph::testing::eval::words("Hello, World!"), ["hello", "world"]);
/// ```
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word-level edit distance (substitutions + insertions + deletions) between a reference and a
/// hypothesis, and the number of reference words.
///
/// ```
/// assert_eq!(stenograph::testing::eval::word_errors("a b c", "a x c d"), (2, 3));
/// ```
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let (r, h) = (words(reference), words(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for i in 1..=r.len() {
        let mut cur = vec![i; h.len() + 1];
        for j in 1..=h.len() {
            let sub = prev[j - 1] + usize::from(r[i - 1] != h[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    (prev[h.len()], r.len())
}

/// Word error rate over (reference, hypothesis) pairs: total errors over total reference words.
///
/// ```
/// let w = stenograph::testing::eval::wer([("the cat sat", "the cat sat"), ("a dog", "a frog")]);
/// assert!((w - 0.2).abs() < 1e-9);
/// ```
pub fn wer<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> f64 {
    let (mut errors, mut total) = (0, 0);
    for (r, h) in pairs {
        let (e, n) = word_errors(r, h);
        errors += e;
        total += n;
    }
    errors as f64 / total.max(1) as f64
}
