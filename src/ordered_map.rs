//! A string-keyed map that keeps the order its entries were written in.
//!
//! Order carries meaning in capsim's inputs and outputs: placements print in the order
//! the scenario lists them, and a breakdown's parts are stacked in the order they are
//! written. TOML tables and JSON objects are read into this type (not a sorted map) and
//! written back from it, so `summary.json` round-trips with its key order intact.
//!
//! Lookups are linear: these maps hold tens of entries, never a hot-path workload.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `(key, value)` pairs in insertion order; serialized as a map (a TOML table, a JSON
/// object) in that order.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key` (the first one, should a hand-edited file repeat it).
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn push(&mut self, key: impl Into<String>, value: V) {
        self.0.push((key.into(), value));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> FromIterator<(String, V)> for OrderedMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        OrderedMap(iter.into_iter().collect())
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                // The size hint comes from the input: cap it so a hostile file cannot
                // make us reserve memory it never fills.
                let mut v = Vec::with_capacity(m.size_hint().unwrap_or(0).min(1024));
                while let Some((k, x)) = m.next_entry::<String, V>()? {
                    v.push((k, x));
                }
                Ok(OrderedMap(v))
            }
        }
        d.deserialize_map(Entries(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_order() {
        let text = r#"{"zeta":1.0,"alpha":null,"mid":3.5}"#;
        let m: OrderedMap<Option<f64>> = serde_json::from_str(text).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["zeta", "alpha", "mid"]);
        assert_eq!(m.get("mid"), Some(&Some(3.5)));
        assert_eq!(serde_json::to_string(&m).unwrap(), text);
    }

    #[test]
    fn toml_tables_keep_document_order() {
        #[derive(Deserialize)]
        struct Doc {
            t: OrderedMap<i64>,
        }
        let d: Doc = toml::from_str("[t]\nb = 1\na = 2\n").unwrap();
        assert_eq!(d.t.0, vec![("b".to_string(), 1), ("a".to_string(), 2)]);
    }
}
