//! Compliance labels (`hipaa`, `gdpr`, ...): carried by apps, required by teams'
//! restrictions. Stored as one text column, sorted and wrapped in commas
//! (`,gdpr,hipaa,`; empty for none), so that "carries L" is `LIKE '%,L,%'`.

/// Most labels on one app or one team restriction.
pub const MAX_LABELS: usize = 10;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 32;

/// The labels of a stored value, in order.
pub fn split(stored: &str) -> impl Iterator<Item = &str> {
    stored.split(',').filter(|l| !l.is_empty())
}

/// The stored form of already valid labels.
pub fn store(labels: &[String]) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!(",{},", labels.join(","))
    }
}

/// The stored value as the screens show it: `gdpr, hipaa`.
pub fn display(stored: &str) -> String {
    split(stored).collect::<Vec<_>>().join(", ")
}

/// Reads labels typed as `HIPAA, gdpr` (commas or spaces between them): lower-cased,
/// sorted, duplicates dropped. Each is 1 to 32 of `a-z 0-9 - _`, at most 10.
pub fn parse(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for l in raw.split(|c: char| c == ',' || c.is_whitespace()) {
        let l = l.trim().to_ascii_lowercase();
        if l.is_empty() {
            continue;
        }
        if l.chars().count() > MAX_LABEL_LEN
            || !l
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            let shown: String = l.chars().take(40).collect();
            return Err(format!(
                "\"{shown}\" is not a label: use 1 to {MAX_LABEL_LEN} letters, digits, - or _."
            ));
        }
        if !out.contains(&l) {
            out.push(l);
        }
    }
    if out.len() > MAX_LABELS {
        return Err(format!("At most {MAX_LABELS} labels."));
    }
    out.sort();
    Ok(out)
}

/// The LIKE pattern (to use with `ESCAPE '\\'`) matching stored values that
/// carry `label` (its `_` escaped).
pub fn like_pattern(label: &str) -> String {
    format!("%,{},%", crate::models::app::escape_like(label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_normalised() {
        assert_eq!(parse(" HIPAA, gdpr hipaa ").unwrap(), vec!["gdpr", "hipaa"]);
        assert_eq!(store(&parse("hipaa,gdpr").unwrap()), ",gdpr,hipaa,");
        assert_eq!(store(&[]), "");
        assert_eq!(display(",gdpr,hipaa,"), "gdpr, hipaa");
        assert!(parse("hip%aa").is_err());
        assert!(parse(&"x".repeat(33)).is_err());
        assert!(parse("a b c d e f g h i j k").is_err());
        assert_eq!(split("").count(), 0);
    }
}
