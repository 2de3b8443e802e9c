//! LocalAgreement-2: the words of a turn in progress become stable once two decodes of the
//! growing audio agree on them, and stable words are never taken back.
//!
//! Each decode covers the whole turn so far, so it repeats the stable words, not always as
//! they were committed (Whisper revises a first word or a spelling as it hears more). A decode
//! is aligned to the stable words by edit distance and only the words after them count: a
//! revised stable word neither stops the turn's partial text nor comes back as a new word.

/// The stable words of one turn in progress.
#[derive(Debug, Default)]
pub(super) struct Agreement {
    /// Words committed so far, as decoded.
    committed: Vec<String>,
    /// The previous decode's words.
    previous: Vec<String>,
    /// Where its words after the committed ones start (`None`: it read them another way).
    tail_from: Option<usize>,
}

/// A word as compared: lower case, letters, digits and apostrophes only.
fn key(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric() || *c == '\'')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Where the words after `stable` start in `hyp`: the end of the prefix of `hyp` closest to
/// `stable` by word edit distance (the longer prefix on a tie), or `None` when even that one
/// differs in more than a quarter of the stable words (plus one): a decode that reads the turn
/// another way commits nothing.
fn after(stable: &[String], hyp: &[String]) -> Option<usize> {
    if stable.is_empty() {
        return Some(0);
    }
    let hyp: Vec<String> = hyp.iter().map(|w| key(w)).collect();
    // row[j]: edit distance between the stable words so far and hyp[..j].
    let mut row: Vec<usize> = (0..=hyp.len()).collect();
    for s in stable.iter().map(|w| key(w)) {
        let mut next = vec![row[0] + 1; hyp.len() + 1];
        for (j, h) in hyp.iter().enumerate() {
            let sub = row[j] + usize::from(s != *h);
            next[j + 1] = sub.min(row[j + 1] + 1).min(next[j] + 1);
        }
        row = next;
    }
    let best = *row.iter().min()?;
    let end = row.iter().rposition(|&c| c == best)?;
    (best <= 1 + stable.len() / 4).then_some(end)
}

impl Agreement {
    /// Takes a new decode of the turn's audio so far; the words it commits (those after the
    /// committed ones that it shares with the previous decode), if any.
    pub fn update(&mut self, text: &str) -> Vec<String> {
        let hyp: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        let from = after(&self.committed, &hyp);
        let new: Vec<String> = match (from, self.tail_from) {
            (Some(a), Some(b)) => hyp[a..]
                .iter()
                .zip(&self.previous[b..])
                .take_while(|(x, y)| key(x) == key(y))
                .map(|(x, _)| x.clone())
                .collect(),
            _ => Vec::new(),
        };
        self.committed.extend(new.iter().cloned());
        self.tail_from = from.map(|a| a + new.len());
        self.previous = hyp;
        new
    }

    /// The words the latest decode heard after the committed ones: not agreed on yet, so a
    /// later decode may change them (none when it read the committed words another way).
    pub fn tail(&self) -> &[String] {
        self.tail_from.map_or(&[], |b| &self.previous[b..])
    }

    /// The committed text.
    pub fn text(&self) -> String {
        self.committed.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_commit_when_two_decodes_agree_and_stay() {
        let mut a = Agreement::default();
        assert!(a.update("Please call").is_empty());
        assert_eq!(a.tail(), ["Please", "call"]);
        assert_eq!(a.update("Please call the cust"), vec!["Please", "call"]);
        assert_eq!(a.tail(), ["the", "cust"]);
        assert_eq!(a.update("please call the customer back"), vec!["the"]);
        // A decode that reads a committed word differently takes nothing back; the words
        // after it still count.
        assert_eq!(
            a.update("Police call the customer back"),
            vec!["customer", "back"]
        );
        assert_eq!(a.text(), "Please call the customer back");
        assert!(a
            .update("Please call the customer back before noon.")
            .is_empty());
        assert_eq!(
            a.update("Please call the customer back before noon tomorrow."),
            vec!["before", "noon"]
        );
        // Words are committed as the latest decode writes them.
        assert_eq!(a.text(), "Please call the customer back before noon");
        assert_eq!(a.tail(), ["tomorrow."]);
        // The same words again settle the tail.
        assert_eq!(
            a.update("Please call the customer back before noon tomorrow."),
            vec!["tomorrow."]
        );
        assert!(a.tail().is_empty());
    }

    #[test]
    fn a_revised_first_word_does_not_stop_the_turn() {
        let mut a = Agreement::default();
        a.update("so my fellow");
        assert_eq!(
            a.update("so my fellow Americans"),
            vec!["so", "my", "fellow"]
        );
        // Whisper now hears the turn's first word: the stable words are found after it.
        assert_eq!(
            a.update("And so my fellow Americans ask"),
            vec!["Americans"]
        );
        assert_eq!(
            a.update("And so, my fellow Americans, ask not"),
            vec!["ask"]
        );
        assert_eq!(a.text(), "so my fellow Americans ask");
    }

    #[test]
    fn a_decode_that_reads_the_turn_another_way_commits_nothing() {
        let mut a = Agreement::default();
        a.update("we will ship the order today");
        a.update("we will ship the order today and");
        assert_eq!(a.text(), "we will ship the order today");
        assert!(a.update("the weather is fine in the north").is_empty());
        assert!(a.tail().is_empty());
        assert!(a.update("the weather is fine in the north and").is_empty());
        assert_eq!(a.text(), "we will ship the order today");
    }
}
