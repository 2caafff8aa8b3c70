//! Errors a user can act on: every input problem names the file, the line and column where
//! it applies, what was expected, and — for a misspelt name — the nearest valid one.
//!
//! Input errors map to exit code 2, runtime failures to exit code 1 (`main.rs`).

use std::fmt;

/// A problem with the user's input (scenario file, CLI arguments, saved results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// 1-based line and column, when the problem has a place in the file.
    pub line_col: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_col {
            Some((l, c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// Everything the library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: exit code 2, nothing written.
    #[error("{0}")]
    Input(#[from] InputError),
    /// Bad command-line usage that has no file (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// Something failed while running (I/O, …): exit code 1.
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Usage(_) => 2,
            Error::Runtime(_) => 1,
        }
    }

    pub(crate) fn io(what: &str, e: std::io::Error) -> Error {
        Error::Runtime(format!("{what}: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Converts a byte offset into 1-based (line, column) with columns counted in characters.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Levenshtein edit distance (small inputs: key names).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The valid name closest to `wrong`, if it is plausibly a typo of it.
pub(crate) fn nearest<'a>(
    wrong: &str,
    valid: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wrong_l = wrong.to_ascii_lowercase();
    valid
        .into_iter()
        .map(|v| (edit_distance(&wrong_l, &v.to_ascii_lowercase()), v))
        .filter(|(d, v)| *d <= (v.len().max(wrong.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// "unknown X `foo`; did you mean `bar`? (valid: …)"
pub(crate) fn unknown_name<'a>(
    what: &str,
    wrong: &str,
    valid: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    let list: Vec<&str> = valid.clone().into_iter().collect();
    match nearest(wrong, valid) {
        Some(n) => format!(
            "unknown {what} `{wrong}`; did you mean `{n}`? (valid: {})",
            list.join(", ")
        ),
        None => format!("unknown {what} `{wrong}` (valid: {})", list.join(", ")),
    }
}

/// A TOML source, kept so that errors found after parsing can still point at a line.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub(crate) fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Line and column of the deepest key of `path` present in the document.
    pub(crate) fn locate(&self, path: &[&str]) -> Option<(usize, usize)> {
        use toml::de::{DeTable, DeValue};
        let doc = DeTable::parse(&self.text).ok()?;
        let mut table = doc.get_ref();
        let mut found: Option<usize> = None;
        let mut array_item: Option<&DeValue> = None;
        for seg in path {
            if let Some(DeValue::Array(items)) = array_item {
                let idx: usize = seg.parse().ok()?;
                let item = items.get(idx)?;
                found = Some(item.span().start);
                match item.get_ref() {
                    DeValue::Table(t) => {
                        table = t;
                        array_item = None;
                        continue;
                    }
                    _ => break,
                }
            }
            let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *seg) else {
                break;
            };
            found = Some(k.span().start);
            match v.get_ref() {
                DeValue::Table(t) => {
                    table = t;
                    array_item = None;
                }
                a @ DeValue::Array(_) => array_item = Some(a),
                _ => break,
            }
        }
        found.map(|o| line_col(&self.text, o))
    }

    pub(crate) fn error(&self, path: &[&str], message: impl Into<String>) -> InputError {
        InputError {
            file: self.name.clone(),
            line_col: self.locate(path),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let s = "a = 1\nbb = 2\n";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 6), (2, 1));
        assert_eq!(line_col(s, 9), (2, 4));
        assert_eq!(line_col(s, 999), (3, 1));
    }

    #[test]
    fn suggests_nearest_name() {
        assert_eq!(edit_distance("cores", "coress"), 1);
        assert_eq!(
            nearest("memroy_gib", ["cores", "memory_gib", "smt_gain"]),
            Some("memory_gib")
        );
        assert_eq!(nearest("zzzzzzzz", ["cores", "memory_gib"]), None);
        let m = unknown_name("key", "coress", ["cores", "count"]);
        assert!(m.contains("did you mean `cores`"), "{m}");
    }
}
