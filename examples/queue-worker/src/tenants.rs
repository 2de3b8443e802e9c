//! Tenant names: the rule that makes them safe as storage path segments, metric labels and log
//! fields.

/// Checks a tenant name: 1–64 ASCII letters, digits, `-`, `_` or `.`, starting with a letter
/// or digit (so never `.`, `..` or a hidden name).
pub fn check_name(name: &str) -> Result<(), String> {
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !starts_well
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "tenant '{name}' must be 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_path_segments() {
        for ok in ["a", "tenant-a", "Acme_1.eu", &"x".repeat(64)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "a/b",
            "a b",
            "é",
            &"x".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
