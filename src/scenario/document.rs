//! The scenario as a document: the parsed TOML table that every edit goes through before
//! resolution. Command-line overrides (`--seed`, `--replications`) and sweep points are
//! both [`Override`]s of this table, so a value given on the command line is resolved and
//! validated exactly like one written in the file, and is never patched into a resolved
//! scenario afterwards.

/// One edit of a scenario document: set a dotted `path` to `value`, or remove it (`None`).
///
/// Path syntax: `hosts.x86.memory_gib`; a `*` segment stands for every entry of its
/// table (`workloads.*.private_mib`); the path `placements` keeps only the named
/// placements, in the document's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: Option<toml::Value>,
}

impl Override {
    pub fn set(path: impl Into<String>, value: impl Into<toml::Value>) -> Override {
        Override {
            path: path.into(),
            value: Some(value.into()),
        }
    }

    pub fn remove(path: impl Into<String>) -> Override {
        Override {
            path: path.into(),
            value: None,
        }
    }

    /// The edits behind the command-line options every subcommand shares: `--seed N`
    /// sets `seed`; `--replications N` runs exactly N replications per point (no
    /// sequential stopping). Errors name the option.
    pub fn command_line(
        seed: Option<u64>,
        replications: Option<u64>,
    ) -> Result<Vec<Override>, String> {
        let mut v = vec![];
        if let Some(s) = seed {
            // TOML integers are signed 64-bit: a seed must be writable in the file too.
            let s = i64::try_from(s)
                .map_err(|_| format!("--seed {s}: a seed is at most {}", i64::MAX))?;
            v.push(Override::set("seed", s));
        }
        if let Some(r) = replications {
            let r = i64::try_from(r).map_err(|_| format!("--replications {r} is too large"))?;
            v.push(Override::set("study.replications_min", r));
            v.push(Override::set("study.replications_max", r));
            v.push(Override::remove("study.target_rel_half_width"));
        }
        Ok(v)
    }
}

/// Applies `o` to `doc`, creating missing tables on the way.
pub(crate) fn apply(doc: &mut toml::Table, o: &Override) {
    if o.path == "placements"
        && let Some(value) = &o.value
    {
        let keep: Vec<&str> = match value {
            toml::Value::Array(xs) => xs.iter().filter_map(|x| x.as_str()).collect(),
            x => x.as_str().into_iter().collect(),
        };
        if let Some(toml::Value::Table(t)) = doc.get_mut("placements") {
            t.retain(|k, _| keep.contains(&k));
        }
        return;
    }
    let segs: Vec<&str> = o.path.split('.').collect();
    edit(doc, &segs, o.value.as_ref());
}

fn edit(t: &mut toml::Table, segs: &[&str], value: Option<&toml::Value>) {
    match segs {
        [] => {}
        [last] => match value {
            Some(v) => {
                t.insert(last.to_string(), v.clone());
            }
            None => {
                t.remove(*last);
            }
        },
        ["*", rest @ ..] => {
            for (_, v) in t.iter_mut() {
                if let toml::Value::Table(sub) = v {
                    edit(sub, rest, value);
                }
            }
        }
        [first, rest @ ..] => {
            if value.is_none() && !t.contains_key(*first) {
                return;
            }
            let entry = t
                .entry(first.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(sub) = entry {
                edit(sub, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_wildcard_select_and_remove() {
        let mut doc: toml::Table = toml::from_str(
            "[workloads.a]\nprivate_mib = 1\n[workloads.b]\nprivate_mib = 2\n[placements.x]\n[placements.y]\n[study]\nmetric = \"m\"\n",
        )
        .unwrap();
        apply(&mut doc, &Override::set("workloads.*.private_mib", 7));
        assert_eq!(doc["workloads"]["a"]["private_mib"].as_integer(), Some(7));
        assert_eq!(doc["workloads"]["b"]["private_mib"].as_integer(), Some(7));
        apply(
            &mut doc,
            &Override::set("placements", toml::Value::Array(vec!["y".into()])),
        );
        assert_eq!(doc["placements"].as_table().unwrap().len(), 1);
        apply(&mut doc, &Override::remove("study.metric"));
        assert!(doc["study"].as_table().unwrap().is_empty());
        // Removing what is not there creates nothing.
        apply(&mut doc, &Override::remove("ksm.enabled"));
        assert!(!doc.contains_key("ksm"));
        apply(&mut doc, &Override::set("seed", 9));
        assert_eq!(doc["seed"].as_integer(), Some(9));
    }
}
