//! Bad input never panics: random edits, truncations and type swaps of valid scenarios
//! must give either a valid scenario or an error message.

use capsim::scenario::{DEFAULT_SCENARIO, Scenario};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Edit {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, String),
    /// Replace the value of the k-th `key = value` line.
    SwapValue(usize, String),
}

fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    match edit {
        _ if n == 0 => String::new(),
        Edit::Truncate(at) => chars[..at % n].iter().collect(),
        Edit::Delete(at, len) => {
            let a = at % n;
            let b = (a + len).min(n);
            chars[..a].iter().chain(&chars[b..]).collect()
        }
        Edit::Insert(at, s) => {
            let a = at % n;
            let mut v: String = chars[..a].iter().collect();
            v.push_str(s);
            v.extend(&chars[a..]);
            v
        }
        Edit::SwapValue(k, v) => {
            let lines: Vec<&str> = text.lines().collect();
            let assigns: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.contains(" = ") && !l.trim_start().starts_with('#'))
                .map(|(i, _)| i)
                .collect();
            if assigns.is_empty() {
                return text.to_string();
            }
            let target = assigns[k % assigns.len()];
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    if i == target {
                        let key = l.split(" = ").next().unwrap_or("");
                        format!("{key} = {v}")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"text\"".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e308".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("true".to_string()),
        Just("[]".to_string()),
        Just("[1, \"a\"]".to_string()),
        Just("{}".to_string()),
        Just("{ dist = \"lognormal\", mean = 0 , cv = -1 }".to_string()),
        Just("9223372036854775807".to_string()),
        Just("\"vm-kvm\"".to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..40).prop_map(|(a, l)| Edit::Delete(a, l)),
        (any::<usize>(), "[\\[\\]{}=\"a-z0-9 .,\\n#-]{1,12}").prop_map(|(a, s)| Edit::Insert(a, s)),
        (any::<usize>(), value()).prop_map(|(k, v)| Edit::SwapValue(k, v)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_never_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let mut text = DEFAULT_SCENARIO.to_string();
        for e in &edits {
            text = apply(&text, e);
        }
        match Scenario::from_toml("mutated.toml", "mutated", &text) {
            Ok(sc) => prop_assert!(!sc.configs().is_empty()),
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                prop_assert!(e.to_string().starts_with("mutated.toml"));
            }
        }
    }
}
