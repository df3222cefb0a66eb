//! The text classifier: fastText (the pure-Rust `fasttext` crate) with a softmax
//! over the concepts, words and word pairs (bigrams hashed into
//! [`BIGRAM_BUCKETS`] rows), 50 dimensions and one thread, so that a run is
//! reproducible. Texts are normalised first (lower case, words of letters and
//! digits). When a text has no word the model knows, the class priors of the
//! training part answer (its word pairs alone would only hit hashed rows shared
//! with other pairs).

use std::io::Write;
use std::path::Path;

use fasttext::args::Args;
use fasttext::FastText;

use crate::ml::MlError;

/// Dimensions of the word vectors.
pub const DIM: i32 = 50;
/// Most passes over the training part (small data sets need many).
pub const MAX_EPOCHS: i32 = 25;
/// Fewest passes (large data sets need few).
pub const MIN_EPOCHS: i32 = 3;
/// Word updates a run aims at: epochs are chosen so that words × epochs stays
/// near this, which keeps 10,000 texts well under 15 s on one core.
pub const WORD_BUDGET: usize = 20_000_000;
/// Rows the word pairs are hashed into. On the SpamAssassin benchmark, pairs in
/// 10,000 rows (2 MB of model) took macro-F1 from .9894 to .9923 at the same
/// epochs; 20,000 or 50,000 rows did no better.
pub const BIGRAM_BUCKETS: i32 = 10_000;
/// Words of a text used for training and prediction (the rest of a long text adds
/// cost, hardly any signal).
pub const MAX_WORDS: usize = 300;
/// Learning rate.
pub const LEARNING_RATE: f64 = 0.5;
/// Longest word kept (longer "words" are mostly encoded blobs).
const MAX_TOKEN_CHARS: usize = 40;

/// Lower-cased words of letters and digits (the first [`MAX_WORDS`]), separated
/// by single spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_WORDS * 8));
    let mut words = 0;
    // Where the current word starts in `out` (its separator included), and its
    // length in the text's characters (`None` outside a word).
    let mut word: Option<(usize, usize)> = None;
    for c in text.chars() {
        // ASCII first: the same answers as the Unicode tables, without them.
        let alphanumeric = if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            c.is_alphanumeric()
        };
        if alphanumeric {
            let (_, chars) = word.get_or_insert_with(|| {
                let start = out.len();
                if start > 0 {
                    out.push(' ');
                }
                (start, 0)
            });
            *chars += 1;
            if *chars <= MAX_TOKEN_CHARS {
                if c.is_ascii() {
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.extend(c.to_lowercase());
                }
            }
        } else if let Some((start, chars)) = word.take() {
            if end_word(&mut out, start, chars, &mut words) {
                return out;
            }
        }
    }
    if let Some((start, chars)) = word {
        end_word(&mut out, start, chars, &mut words);
    }
    out
}

/// Keeps the word just written (true when it was the last one wanted), or takes
/// it back out when it is too long to be a word.
fn end_word(out: &mut String, start: usize, chars: usize, words: &mut usize) -> bool {
    if chars > MAX_TOKEN_CHARS {
        out.truncate(start);
        return false;
    }
    *words += 1;
    *words == MAX_WORDS
}

/// Passes over `words` training words: many for small sets, few for large ones.
pub fn epochs_for(words: usize) -> i32 {
    let epochs = WORD_BUDGET / words.max(1);
    epochs.clamp(MIN_EPOCHS as usize, MAX_EPOCHS as usize) as i32
}

/// A trained text classifier.
#[derive(Debug)]
pub struct TextModel {
    fasttext: FastText,
    priors: Vec<f32>,
}

fn label(class: usize) -> String {
    format!("__label__{class}")
}

/// Trains on `texts` with class indices `labels` (`n_classes` classes). fastText
/// reads its training data from a file: it is written under `workdir` and removed.
pub fn train(
    texts: &[String],
    labels: &[usize],
    n_classes: usize,
    workdir: &Path,
) -> Result<TextModel, MlError> {
    let mut counts = vec![0_usize; n_classes];
    std::fs::create_dir_all(workdir)
        .map_err(|e| MlError::Internal(format!("cannot create {}: {e}", workdir.display())))?;
    let path = workdir.join(format!("train-{}.txt", crate::models::random_id(16)));
    let written = (|| -> std::io::Result<(usize, usize)> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let (mut lines, mut words) = (0, 0);
        for (text, &class) in texts.iter().zip(labels) {
            let norm = normalize(text);
            if norm.is_empty() {
                continue;
            }
            lines += 1;
            words += norm.split(' ').count();
            counts[class] += 1;
            writeln!(file, "{} {norm}", label(class))?;
        }
        file.flush()?;
        Ok((lines, words))
    })();
    let result = match written {
        Ok((0, _)) => Err(MlError::NoWords),
        Ok((_, words)) => {
            let mut args = Args::default();
            args.apply_supervised_defaults();
            args.input = path.clone();
            args.dim = DIM;
            args.epoch = epochs_for(words);
            args.lr = LEARNING_RATE;
            args.word_ngrams = 2;
            args.bucket = BIGRAM_BUCKETS;
            args.min_count = 1;
            args.thread = 1;
            args.seed = 0;
            args.verbose = 0;
            FastText::train(args).map_err(|e| MlError::Internal(format!("fastText: {e}")))
        }
        Err(e) => Err(MlError::Internal(format!(
            "cannot write the training file: {e}"
        ))),
    };
    let _ = std::fs::remove_file(&path);
    let fasttext = result?;
    let total: usize = counts.iter().sum();
    let priors = counts
        .iter()
        .map(|&c| c as f32 / total.max(1) as f32)
        .collect();
    Ok(TextModel { fasttext, priors })
}

impl TextModel {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.priors.len()
    }

    /// A probability per class (the priors when no word of `text` is known).
    pub fn predict(&self, text: &str) -> Vec<f32> {
        let norm = normalize(text);
        let n = self.priors.len();
        if !norm
            .split(' ')
            .any(|w| self.fasttext.get_word_id(w).is_some())
        {
            return self.priors.clone();
        }
        let predictions = self.fasttext.predict(&norm, n, 0.0);
        if predictions.is_empty() {
            return self.priors.clone();
        }
        let mut scores = vec![0.0_f32; n];
        for p in predictions {
            if let Some(i) = p
                .label
                .strip_prefix("__label__")
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|&i| i < n)
            {
                scores[i] = p.prob;
            }
        }
        scores
    }

    /// Serialises the model: the priors, then fastText's own binary format.
    pub fn to_bytes(&self) -> Result<Vec<u8>, MlError> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.priors.len() as u32).to_le_bytes());
        for p in &self.priors {
            out.extend_from_slice(&p.to_le_bytes());
        }
        self.fasttext
            .save(&mut out)
            .map_err(|e| MlError::Internal(format!("fastText save: {e}")))?;
        Ok(out)
    }

    /// Reads what [`TextModel::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<TextModel, MlError> {
        let bad = || MlError::Corrupt("text model".to_owned());
        let n = u32::from_le_bytes(
            bytes
                .get(..4)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize;
        let end = 4 + n * 4;
        let priors = bytes
            .get(4..end)
            .ok_or_else(bad)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let mut rest = bytes.get(end..).ok_or_else(bad)?;
        let fasttext =
            FastText::load(&mut rest).map_err(|e| MlError::Corrupt(format!("fastText: {e}")))?;
        Ok(TextModel { fasttext, priors })
    }
}

#[cfg(test)]
mod tests {
    /// The first version of `normalize` (iterator chain over the Unicode
    /// tables): models trained with it must see the same words.
    fn normalize_reference(text: &str) -> String {
        let mut out = String::new();
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && w.chars().count() <= MAX_TOKEN_CHARS)
            .take(MAX_WORDS)
        {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().flat_map(char::to_lowercase));
        }
        out
    }

    #[test]
    fn normalize_matches_the_reference_on_mixed_texts() {
        let mut pieces: Vec<String> = [
            "Hello",
            "WORLD",
            "2024",
            " ",
            ", ",
            "!",
            "\n",
            "\t",
            "Ünïcödé",
            "STRASSE",
            "İstanbul",
            "ǅemal",
            "ΣΊΣΥΦΟΣ",
            "日本語",
            "_",
            "-",
            "__label__1",
            "a1b2",
            "\u{0}",
            "😀",
            "Ⅻ",
            "٣",
            "ß",
        ]
        .map(str::to_owned)
        .to_vec();
        pieces.extend([
            "x".repeat(40),
            "y".repeat(41),
            "é".repeat(40),
            "é".repeat(41),
        ]);
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            let mut text = String::new();
            let n = (seed % 700) as usize;
            for _ in 0..n {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(&pieces[(seed % pieces.len() as u64) as usize]);
            }
            assert_eq!(normalize(&text), normalize_reference(&text), "{text:?}");
        }
    }

    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(
            normalize("Hello, WORLD!  It's 2024"),
            "hello world it s 2024"
        );
        assert_eq!(normalize("__label__1 spam"), "label 1 spam");
        assert_eq!(normalize("  ...  "), "");
        assert_eq!(normalize("Ünïcödé straße"), "ünïcödé straße");
        assert_eq!(
            normalize(&"word ".repeat(5000)).split(' ').count(),
            MAX_WORDS
        );
        assert_eq!(epochs_for(400), MAX_EPOCHS);
        assert_eq!(epochs_for(100_000_000), MIN_EPOCHS);
        assert_eq!(epochs_for(1_400_000), 14);
    }

    #[test]
    fn unknown_words_get_the_priors_even_in_pairs() {
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        for i in 0..30 {
            texts.push(format!("goal match team player {i}"));
            labels.push(0);
            if i < 10 {
                texts.push(format!("butter sugar oven cake {i}"));
                labels.push(1);
            }
        }
        let dir = std::env::temp_dir().join(format!("atrium-text-{}", std::process::id()));
        let m = train(&texts, &labels, 2, &dir).expect("trains");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(m.predict("zzyzx qwerty plugh"), vec![0.75, 0.25]);
        let cake = m.predict("a cake with sugar");
        assert!(cake[1] > cake[0], "{cake:?}");
        let back = TextModel::from_bytes(&m.to_bytes().expect("saves")).expect("loads");
        assert_eq!(back.predict("a cake with sugar"), cake);
    }
}
