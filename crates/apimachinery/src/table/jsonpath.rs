//! The JSONPath subset of additionalPrinterColumns: `.a.b`, `['a.b']`, `[0]`, `[-1]`, `[*]`,
//! `..`-free filters `[?(@.type=="Ready")]`, with or without surrounding `{}`.
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    All,
    Filter(Vec<String>, Value),
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    let p = p.strip_prefix('$').unwrap_or(p);
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut steps = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                if name == "*" {
                    steps.push(Step::All);
                } else if !name.is_empty() {
                    steps.push(Step::Field(name));
                }
            }
            '[' => {
                let close = chars[i..].iter().position(|c| *c == ']')? + i;
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Some(f) = inner.strip_prefix("?(").and_then(|x| x.strip_suffix(')')) {
                    let (lhs, rhs) = f.split_once("==")?;
                    let field: Vec<String> = lhs
                        .trim()
                        .strip_prefix("@.")?
                        .split('.')
                        .map(String::from)
                        .collect();
                    let rhs = rhs.trim();
                    let val = if let Some(s) = rhs
                        .strip_prefix('"')
                        .and_then(|x| x.strip_suffix('"'))
                        .or_else(|| rhs.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                    {
                        Value::String(s.to_string())
                    } else {
                        serde_json::from_str(rhs).ok()?
                    };
                    steps.push(Step::Filter(field, val));
                } else if let Some(s) = inner
                    .strip_prefix('\'')
                    .and_then(|x| x.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
                {
                    steps.push(Step::Field(s.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().ok()?));
                }
                i = close + 1;
            }
            _ => {
                // A path without a leading dot: `spec.replicas`.
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                steps.push(Step::Field(chars[start..i].iter().collect()));
            }
        }
    }
    Some(steps)
}

/// All values the path selects in `obj`, in document order.
pub fn find<'v>(obj: &'v Value, path: &str) -> Vec<&'v Value> {
    let Some(steps) = parse(path) else {
        return Vec::new();
    };
    let mut cur = vec![obj];
    for step in &steps {
        let mut next = Vec::new();
        for v in cur {
            match step {
                Step::Field(f) => next.extend(v.get(f.as_str())),
                Step::Index(i) => {
                    if let Some(a) = v.as_array() {
                        let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                        next.extend(usize::try_from(idx).ok().and_then(|i| a.get(i)));
                    }
                }
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(m) => next.extend(m.values()),
                    _ => {}
                },
                Step::Filter(field, want) => {
                    if let Some(a) = v.as_array() {
                        next.extend(a.iter().filter(|it| {
                            field.iter().try_fold(*it, |c, f| c.get(f.as_str())) == Some(want)
                        }));
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::find;

    #[test]
    fn printer_column_paths() {
        let o = json!({"spec": {"replicas": 3, "items": [{"n": "a"}, {"n": "b"}]},
            "metadata": {"labels": {"app.kubernetes.io/name": "x"}},
            "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}});
        assert_eq!(find(&o, ".spec.replicas"), [&json!(3)]);
        assert_eq!(find(&o, "{.spec.items[1].n}"), [&json!("b")]);
        assert_eq!(find(&o, ".spec.items[-1].n"), [&json!("b")]);
        assert_eq!(find(&o, ".spec.items[*].n").len(), 2);
        assert_eq!(
            find(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            [&json!("True")]
        );
        assert_eq!(
            find(&o, ".metadata.labels['app.kubernetes.io/name']"),
            [&json!("x")]
        );
        assert!(find(&o, ".spec.missing").is_empty());
    }
}
