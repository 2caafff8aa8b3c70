//! Sweep points: the cartesian product of the axes, each built by editing the parsed
//! scenario document at the axis paths and resolving it like a file.

use crate::diagnostics::InputError;
use crate::scenario::Scenario;
use crate::scenario::study::display_value;

/// One point of a sweep: its index, the axis values that define it, and the scenario.
#[derive(Clone, Debug)]
pub struct Point {
    pub index: u64,
    pub axis_values: Vec<(String, String)>,
    pub scenario: Scenario,
}

/// Every point of `sc`'s sweep, first axis slowest; a scenario without a sweep is one
/// point (index 0, the scenario itself). Every point is resolved here, before anything
/// runs, so a value that makes a point invalid is reported up front.
pub fn points(sc: &Scenario) -> Result<Vec<Point>, InputError> {
    if sc.sweep.is_empty() {
        return Ok(vec![Point {
            index: 0,
            axis_values: vec![],
            scenario: sc.clone(),
        }]);
    }
    let mut doc: toml::Table = toml::from_str(sc.source_text())
        .map_err(|e| crate::scenario::toml_error(&sc.source.name, sc.source_text(), &e))?;
    // A point is a plain scenario: its own sweep would otherwise be expanded again.
    doc.remove("sweep");
    let sizes: Vec<usize> = sc.sweep.iter().map(|a| a.values.len()).collect();
    let total: usize = sizes.iter().product();
    let mut out = Vec::with_capacity(total);
    for p in 0..total {
        // Mixed radix, last axis fastest.
        let mut rest = p;
        let mut pick = vec![0; sizes.len()];
        for (i, n) in sizes.iter().enumerate().rev() {
            pick[i] = rest % n;
            rest /= n;
        }
        let mut d = doc.clone();
        let mut axis_values = vec![];
        for (a, &k) in sc.sweep.iter().zip(&pick) {
            let v = &a.values[k];
            set_path(&mut d, &a.path, v);
            axis_values.push((a.path.clone(), display_value(v)));
        }
        let desc = axis_values
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut scenario = sc.resolve_document(d).map_err(|e| {
            let at = e
                .line_col
                .map(|(l, c)| format!(" (see line {l}, column {c})"))
                .unwrap_or_default();
            sc.source.error(
                &["sweep", "axis", "0", "path"],
                format!("sweep point {p} ({desc}) is invalid: {}{at}", e.message),
            )
        })?;
        // The seed may have been overridden on the command line after loading.
        scenario.seed = sc.seed;
        scenario.study = sc.study.clone();
        out.push(Point {
            index: p as u64,
            axis_values,
            scenario,
        });
    }
    Ok(out)
}

/// Sets the dotted `path` of `doc` to `value`, creating missing tables; a `*` segment
/// stands for every entry of its table. `placements` keeps only the named placements, in
/// the document's order.
fn set_path(doc: &mut toml::Table, path: &str, value: &toml::Value) {
    if path == "placements" {
        let keep: Vec<&str> = match value {
            toml::Value::Array(xs) => xs.iter().filter_map(|x| x.as_str()).collect(),
            x => x.as_str().into_iter().collect(),
        };
        if let Some(toml::Value::Table(t)) = doc.get_mut("placements") {
            t.retain(|k, _| keep.contains(&k));
        }
        return;
    }
    let segs: Vec<&str> = path.split('.').collect();
    set_segs(doc, &segs, value);
}

fn set_segs(t: &mut toml::Table, segs: &[&str], value: &toml::Value) {
    match segs {
        [] => {}
        [last] => {
            t.insert(last.to_string(), value.clone());
        }
        ["*", rest @ ..] => {
            for (_, v) in t.iter_mut() {
                if let toml::Value::Table(sub) = v {
                    set_segs(sub, rest, value);
                }
            }
        }
        [first, rest @ ..] => {
            let entry = t
                .entry(first.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(sub) = entry {
                set_segs(sub, rest, value);
            }
        }
    }
}
