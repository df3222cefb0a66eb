//! **Upload Inputs**: turns what was typed or sent (texts, `.txt` / `.csv` files
//! with an optional label column, PNG / JPEG / WebP images) into checked inputs.
//! A bad item is skipped with a reason in the report; the good ones are then
//! written in one transaction.

use crate::ml::picture;
use crate::models::concept::validate_concept_id;
use crate::models::input::{InputContent, NewInput};
use crate::models::random_id;

/// Longest text input, in bytes.
pub const MAX_TEXT_BYTES: usize = 100 * 1024;
/// Most inputs in one upload.
pub const MAX_ITEMS: usize = 20_000;
/// Largest `.txt` / `.csv` file.
pub const MAX_TEXT_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Largest whole upload (all files together).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Most concepts on one input.
pub const MAX_CONCEPTS_PER_INPUT: usize = 50;

/// One part of an upload.
#[derive(Debug, Clone)]
pub enum UploadPart {
    /// The text box: one input per line.
    Typed(String),
    /// A `.txt` (one input per line) or `.csv` (text, optional labels) file.
    TextFile { name: String, bytes: Vec<u8> },
    /// An image file.
    Image { name: String, bytes: Vec<u8> },
}

/// An item that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub item: String,
    pub reason: String,
}

/// The checked inputs and the skipped items.
#[derive(Debug, Default)]
pub struct Upload {
    pub items: Vec<NewInput>,
    pub skipped: Vec<Skipped>,
}

/// Checks one text input.
pub fn validate_text(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("The text is empty.".to_owned());
    }
    if t.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "The text is {} KB; texts can be at most {} KB.",
            t.len() / 1024,
            MAX_TEXT_BYTES / 1024
        ));
    }
    if t.chars().any(|c| c == '\0') {
        return Err("The text contains a NUL character.".to_owned());
    }
    Ok(t.to_owned())
}

/// Parses a list of concept ids separated by commas, semicolons, `|` or spaces
/// (at most [`MAX_CONCEPTS_PER_INPUT`]).
pub fn parse_concepts(raw: &str) -> Result<Vec<String>, String> {
    parse_concept_ids(raw, MAX_CONCEPTS_PER_INPUT)
}

/// Parses a list of at most `max` concept ids separated by commas, semicolons, `|`
/// or spaces, without repeats.
pub fn parse_concept_ids(raw: &str, max: usize) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for part in raw
        .split(|c: char| c == ',' || c == ';' || c == '|' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        let id = validate_concept_id(part)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > max {
        return Err(format!("At most {max} concepts at a time."));
    }
    Ok(out)
}

fn metadata(file: Option<&str>, line: Option<usize>) -> String {
    let mut m = serde_json::Map::new();
    if let Some(f) = file {
        m.insert("filename".to_owned(), f.into());
    }
    if let Some(l) = line {
        m.insert("line".to_owned(), l.into());
    }
    serde_json::Value::Object(m).to_string()
}

fn is_header(cells: &[&str]) -> bool {
    let first = cells.first().map(|c| c.trim().to_ascii_lowercase());
    let second = cells.get(1).map(|c| c.trim().to_ascii_lowercase());
    matches!(first.as_deref(), Some("text" | "input" | "content"))
        && matches!(
            second.as_deref(),
            None | Some("label" | "labels" | "concept" | "concepts")
        )
}

impl Upload {
    fn full(&self) -> bool {
        self.items.len() >= MAX_ITEMS
    }

    fn add_text(
        &mut self,
        item: String,
        raw: &str,
        labels: Vec<String>,
        meta: String,
        common: &[String],
    ) {
        match validate_text(raw) {
            Ok(text) => {
                let mut concepts: Vec<(String, f64)> =
                    common.iter().map(|c| (c.clone(), 1.0)).collect();
                for l in labels {
                    if !concepts.iter().any(|(c, _)| *c == l) {
                        concepts.push((l, 1.0));
                    }
                }
                self.items.push(NewInput {
                    input_id: random_id(32),
                    content: InputContent::Text(text),
                    metadata: meta,
                    concepts,
                });
            }
            Err(reason) => self.skipped.push(Skipped { item, reason }),
        }
    }

    fn add_lines(&mut self, name: Option<&str>, text: &str, common: &[String]) {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if self.full() {
                return;
            }
            let item = match name {
                Some(f) => format!("line {} of {f}", n + 1),
                None => format!("line {}", n + 1),
            };
            self.add_text(item, line, Vec::new(), metadata(name, Some(n + 1)), common);
        }
    }

    fn add_csv(&mut self, name: &str, bytes: &[u8], common: &[String]) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        for (n, record) in reader.records().enumerate() {
            let line = n + 1;
            let item = format!("row {line} of {name}");
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    self.skipped.push(Skipped {
                        item,
                        reason: format!("The row could not be read as CSV: {e}"),
                    });
                    continue;
                }
            };
            let cells: Vec<&str> = record.iter().collect();
            if cells.iter().all(|c| c.trim().is_empty()) || (line == 1 && is_header(&cells)) {
                continue;
            }
            if self.full() {
                return;
            }
            let labels = match cells.get(1).map(|c| parse_concepts(c)) {
                None => Vec::new(),
                Some(Ok(l)) => l,
                Some(Err(reason)) => {
                    self.skipped.push(Skipped { item, reason });
                    continue;
                }
            };
            self.add_text(
                item,
                cells[0],
                labels,
                metadata(Some(name), Some(line)),
                common,
            );
        }
    }
}

/// Checks every part; `common` concepts go on every input. `Err` refuses the
/// whole upload (too large, or nothing at all in it).
pub fn build(parts: Vec<UploadPart>, common: &[String]) -> Result<Upload, String> {
    let size: usize = parts
        .iter()
        .map(|p| match p {
            UploadPart::Typed(t) => t.len(),
            UploadPart::TextFile { bytes, .. } | UploadPart::Image { bytes, .. } => bytes.len(),
        })
        .sum();
    if size > MAX_UPLOAD_BYTES {
        return Err(format!(
            "The upload is too large: at most {} MB at a time.",
            MAX_UPLOAD_BYTES / (1024 * 1024)
        ));
    }
    let mut up = Upload::default();
    let mut dropped = 0_usize;
    for part in parts {
        if up.full() {
            dropped += 1;
            continue;
        }
        match part {
            UploadPart::Typed(text) => up.add_lines(None, &text, common),
            UploadPart::TextFile { name, bytes } => {
                if bytes.len() > MAX_TEXT_FILE_BYTES {
                    up.skipped.push(Skipped {
                        item: name,
                        reason: format!(
                            "Text files can be at most {} MB.",
                            MAX_TEXT_FILE_BYTES / (1024 * 1024)
                        ),
                    });
                    continue;
                }
                let Ok(text) = std::str::from_utf8(&bytes) else {
                    up.skipped.push(Skipped {
                        item: name,
                        reason: "The file is not UTF-8 text.".to_owned(),
                    });
                    continue;
                };
                let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                if name.to_ascii_lowercase().ends_with(".csv") {
                    up.add_csv(&name, text.as_bytes(), common);
                } else {
                    up.add_lines(Some(&name), text, common);
                }
            }
            UploadPart::Image { name, bytes } => match picture::prepare(bytes) {
                Ok(img) => up.items.push(NewInput {
                    input_id: random_id(32),
                    content: InputContent::Image(img),
                    metadata: metadata(Some(&name), None),
                    concepts: common.iter().map(|c| (c.clone(), 1.0)).collect(),
                }),
                Err(reason) => up.skipped.push(Skipped { item: name, reason }),
            },
        }
    }
    if up.full() && dropped > 0 {
        up.skipped.push(Skipped {
            item: format!("{dropped} more file(s)"),
            reason: format!("At most {MAX_ITEMS} inputs per upload."),
        });
    }
    if up.items.is_empty() && up.skipped.is_empty() {
        return Err("Nothing to upload: type some texts or choose files.".to_owned());
    }
    Ok(up)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(up: &Upload) -> Vec<(String, Vec<String>)> {
        up.items
            .iter()
            .map(|i| match &i.content {
                InputContent::Text(t) => {
                    (t.clone(), i.concepts.iter().map(|c| c.0.clone()).collect())
                }
                InputContent::Image(_) => (String::new(), Vec::new()),
            })
            .collect()
    }

    #[test]
    fn typed_lines_and_csv_with_labels() {
        let csv = "text,label\n\"hello, world\",greeting\nbuy now,spam;ads\nbad row,<x>\n\n"
            .as_bytes()
            .to_vec();
        let up = build(
            vec![
                UploadPart::Typed("first\n\n  second  \n".to_owned()),
                UploadPart::TextFile {
                    name: "d.csv".to_owned(),
                    bytes: csv,
                },
            ],
            &["batch1".to_owned()],
        )
        .expect("builds");
        assert_eq!(
            texts(&up),
            vec![
                ("first".to_owned(), vec!["batch1".to_owned()]),
                ("second".to_owned(), vec!["batch1".to_owned()]),
                (
                    "hello, world".to_owned(),
                    vec!["batch1".to_owned(), "greeting".to_owned()]
                ),
                (
                    "buy now".to_owned(),
                    vec!["batch1".to_owned(), "spam".to_owned(), "ads".to_owned()]
                ),
            ]
        );
        assert_eq!(up.skipped.len(), 1);
        assert_eq!(up.skipped[0].item, "row 4 of d.csv");
    }

    #[test]
    fn refusals() {
        assert!(build(vec![UploadPart::Typed("  \n ".to_owned())], &[]).is_err());
        let up = build(
            vec![
                UploadPart::TextFile {
                    name: "x.txt".to_owned(),
                    bytes: vec![0xff, 0xfe, 0x00],
                },
                UploadPart::Image {
                    name: "cat.png".to_owned(),
                    bytes: b"not really".to_vec(),
                },
            ],
            &[],
        )
        .expect("report");
        assert!(up.items.is_empty());
        assert_eq!(up.skipped.len(), 2);
        assert!(validate_text(&"x".repeat(MAX_TEXT_BYTES + 1)).is_err());
        assert!(parse_concepts("a, b;c |d").expect("ok").len() == 4);
        assert!(parse_concepts("ok, no way!").is_err());
    }
}
