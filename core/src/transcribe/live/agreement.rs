//! LocalAgreement-2: the words of a turn in progress become stable once two decodes of the
//! growing audio agree on them, and stable words are never taken back.
//!
//! Each decode covers the whole turn so far, so it repeats the stable words, not always as
//! they were committed (Whisper revises a first word or a spelling as it hears more). A decode
//! is aligned to the stable words by edit distance and only the words after them count: a
//! revised stable word neither stops the turn's partial text nor comes back as a new word.
//! Past a word the two decodes heard differently they still agree when the words after it do
//! (see [`agreed`]).

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

/// Words that must agree after a word two decodes heard differently for the decodes to
/// agree past it.
const BRIDGE: usize = 2;

/// How many words at the start of `hyp` two decodes agree on, `previous` the other: words
/// both heard alike, and a word one of them heard differently (revised, added or left out)
/// when the [`BRIDGE`] words after it agree.
fn agreed(previous: &[String], hyp: &[String]) -> usize {
    let p: Vec<String> = previous.iter().map(|w| key(w)).collect();
    let h: Vec<String> = hyp.iter().map(|w| key(w)).collect();
    let same = |i: usize, j: usize, n: usize| {
        i + n <= p.len() && j + n <= h.len() && p[i..i + n] == h[j..j + n]
    };
    let (mut i, mut j) = (0, 0);
    loop {
        if same(i, j, 1) {
            (i, j) = (i + 1, j + 1);
        } else if same(i + 1, j + 1, BRIDGE) {
            // A word revised.
            (i, j) = (i + 1 + BRIDGE, j + 1 + BRIDGE);
        } else if same(i, j + 1, BRIDGE) {
            // A word heard only now.
            (i, j) = (i + BRIDGE, j + 1 + BRIDGE);
        } else if same(i + 1, j, BRIDGE) {
            // A word heard only before.
            (i, j) = (i + 1 + BRIDGE, j + BRIDGE);
        } else {
            return j;
        }
    }
}

impl Agreement {
    /// Takes a new decode of the turn's audio so far; the words it commits (those after the
    /// committed ones that it shares with the previous decode), if any.
    pub fn update(&mut self, text: &str) -> Vec<String> {
        let hyp: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        let from = after(&self.committed, &hyp);
        let new: Vec<String> = match (from, self.tail_from) {
            (Some(a), Some(b)) => hyp[a..a + agreed(&self.previous[b..], &hyp[a..])].to_vec(),
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
    fn a_word_heard_differently_is_bridged_by_the_words_after_it() {
        let mut a = Agreement::default();
        a.update("we can ship the order to Berlin");
        // "to" revised, "we" and "can" then agree but only one word follows the revision.
        assert_eq!(
            a.update("we can ship the order two Berlin"),
            ["we", "can", "ship", "the", "order"]
        );
        assert_eq!(
            a.update("we can ship the order today to Berlin by"),
            Vec::<String>::new()
        );
        // "today" heard only now, with "to Berlin" after it as before.
        let mut b = Agreement::default();
        b.update("ship the order to Berlin by");
        assert_eq!(
            b.update("ship the order today to Berlin by noon"),
            ["ship", "the", "order", "today", "to", "Berlin", "by"]
        );
        // A word left out, then two that agree.
        let mut c = Agreement::default();
        c.update("so the the order ships");
        assert_eq!(
            c.update("so the order ships today"),
            ["so", "the", "order", "ships"]
        );
        // Two words in a row heard differently: no agreement past them.
        let mut d = Agreement::default();
        d.update("call the customer back now");
        assert_eq!(d.update("call a costumer back now"), ["call"]);
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
