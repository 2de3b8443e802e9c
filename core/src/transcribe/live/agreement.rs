//! LocalAgreement-2: the words of a turn in progress become stable once two decodes of the
//! growing audio agree on them, and stable words are never taken back.

/// The stable words of one turn in progress.
#[derive(Debug, Default)]
pub(super) struct Agreement {
    /// Words committed so far, as decoded.
    committed: Vec<String>,
    /// The previous decode's words.
    previous: Vec<String>,
}

/// A word as compared: lower case, letters, digits and apostrophes only.
fn key(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric() || *c == '\'')
        .flat_map(char::to_lowercase)
        .collect()
}

impl Agreement {
    /// Takes a new decode of the turn's audio so far; the words it commits (those it shares
    /// with the previous decode beyond what was committed), if any.
    pub fn update(&mut self, text: &str) -> Vec<String> {
        let hyp: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        let agreed = hyp
            .iter()
            .zip(&self.previous)
            .take_while(|(a, b)| key(a) == key(b))
            .count();
        // Committed words stay as they are: a decode that reads them differently adds nothing.
        let consistent = hyp.len() >= self.committed.len()
            && hyp
                .iter()
                .zip(&self.committed)
                .all(|(a, b)| key(a) == key(b));
        let new = if consistent && agreed > self.committed.len() {
            hyp[self.committed.len()..agreed].to_vec()
        } else {
            Vec::new()
        };
        self.committed.extend(new.iter().cloned());
        self.previous = hyp;
        new
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
        assert_eq!(a.update("Please call the cust"), vec!["Please", "call"]);
        assert_eq!(a.update("please call the customer back"), vec!["the"]);
        // A decode that reads a committed word differently commits nothing and takes nothing
        // back.
        assert!(a.update("Police call the customer back").is_empty());
        assert_eq!(a.text(), "Please call the");
        assert_eq!(
            a.update("Please call the customer back before noon."),
            Vec::<String>::new()
        );
        assert_eq!(
            a.update("Please call the customer back before noon tomorrow."),
            vec!["customer", "back", "before", "noon"]
        );
        // Words are committed as the latest decode writes them.
        assert_eq!(a.text(), "Please call the customer back before noon");
    }
}
