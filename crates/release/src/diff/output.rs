//! Text output of a [`FleetDiff`]: per cluster, per object, with the differing fields;
//! ANSI colours optional. Multi-line string fields (ConfigMap data, embedded manifests)
//! are shown as a line diff.

use std::fmt::Write as _;

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::{FieldChange, FleetDiff, ObjectChange};

/// Output style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// Show whole added/removed objects as YAML, not only their names.
    pub objects: bool,
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
}

impl FleetDiff {
    /// The report: a `cluster NAME` heading per cluster with changes, a line per object
    /// (`+` added, `-` removed, `~` changed) and, for changed objects, the fields.
    pub fn render(&self, style: Style) -> String {
        let p = Paint(style.color);
        let mut out = String::new();
        let mut objects = 0;
        let mut clusters = 0;
        for c in self.clusters.iter().filter(|c| !c.objects.is_empty()) {
            clusters += 1;
            let _ = writeln!(out, "{}", p.bold(&format!("cluster {}", c.cluster)));
            for o in &c.objects {
                objects += 1;
                let line = |sign: &str| format!("  {sign} {}  ({})", o.id, o.kustomization);
                match &o.change {
                    ObjectChange::Added { object } => {
                        let _ = writeln!(out, "{}", p.green(&line("+")));
                        if style.objects {
                            whole(&mut out, object, "+", &|s| p.green(s));
                        }
                    }
                    ObjectChange::Removed { object } => {
                        let _ = writeln!(out, "{}", p.red(&line("-")));
                        if style.objects {
                            whole(&mut out, object, "-", &|s| p.red(s));
                        }
                    }
                    ObjectChange::Changed { fields } => {
                        let _ = writeln!(out, "{}", p.yellow(&line("~")));
                        for f in fields {
                            field(&mut out, f, &p);
                        }
                    }
                }
            }
        }
        if objects == 0 {
            let _ = writeln!(out, "no changes between {} and {}", self.from, self.to);
        } else {
            let _ = writeln!(
                out,
                "{objects} object{} changed in {clusters} cluster{} between {} and {}",
                if objects == 1 { "" } else { "s" },
                if clusters == 1 { "" } else { "s" },
                self.from,
                self.to
            );
        }
        out
    }
}

fn whole(out: &mut String, obj: &Value, sign: &str, paint: &dyn Fn(&str) -> String) {
    for l in flotilla_yaml::to_yaml(obj).lines() {
        let _ = writeln!(out, "{}", paint(&format!("      {sign} {l}")));
    }
}

fn field(out: &mut String, f: &FieldChange, p: &Paint) {
    if let (Some(Value::String(a)), Some(Value::String(b))) = (&f.old, &f.new) {
        if a.contains('\n') || b.contains('\n') {
            let _ = writeln!(out, "      {}:", f.path);
            for change in TextDiff::from_lines(a, b).iter_all_changes() {
                let text = change.value().trim_end_matches('\n');
                let _ = match change.tag() {
                    ChangeTag::Delete => writeln!(out, "{}", p.red(&format!("        - {text}"))),
                    ChangeTag::Insert => writeln!(out, "{}", p.green(&format!("        + {text}"))),
                    ChangeTag::Equal => writeln!(out, "          {text}"),
                };
            }
            return;
        }
    }
    if let Some(v) = &f.old {
        let _ = writeln!(
            out,
            "{}",
            p.red(&format!("      - {}: {}", f.path, compact(v)))
        );
    }
    if let Some(v) = &f.new {
        let _ = writeln!(
            out,
            "{}",
            p.green(&format!("      + {}: {}", f.path, compact(v)))
        );
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::{ClusterDiff, ObjectDiff};
    use super::*;
    use serde_json::json;

    fn sample() -> FleetDiff {
        FleetDiff {
            from: "v1".into(),
            to: "v2".into(),
            clusters: vec![
                ClusterDiff {
                    cluster: "idle".into(),
                    objects: vec![],
                },
                ClusterDiff {
                    cluster: "prod-1".into(),
                    objects: vec![
                        ObjectDiff {
                            id: "ConfigMap ns/c".into(),
                            kustomization: "flux-system/apps".into(),
                            change: ObjectChange::Changed {
                                fields: vec![
                                    FieldChange {
                                        path: "data.a".into(),
                                        old: Some(json!("1")),
                                        new: Some(json!("2")),
                                    },
                                    FieldChange {
                                        path: "data.conf".into(),
                                        old: Some(json!("x\ny\n")),
                                        new: Some(json!("x\nz\n")),
                                    },
                                    FieldChange {
                                        path: "data.new".into(),
                                        old: None,
                                        new: Some(json!(3)),
                                    },
                                ],
                            },
                        },
                        ObjectDiff {
                            id: "Namespace n".into(),
                            kustomization: "flux-system/apps".into(),
                            change: ObjectChange::Added {
                                object: json!({"kind": "Namespace"}),
                            },
                        },
                    ],
                },
            ],
        }
    }

    #[test]
    fn plain_report() {
        let d = sample();
        assert_eq!(d.exit_code(), 1);
        assert_eq!(
            d.render(Style::default()),
            "cluster prod-1\n  ~ ConfigMap ns/c  (flux-system/apps)\n      - data.a: \"1\"\n      + data.a: \"2\"\n      data.conf:\n          x\n        - y\n        + z\n      + data.new: 3\n  + Namespace n  (flux-system/apps)\n2 objects changed in 1 cluster between v1 and v2\n"
        );
    }

    #[test]
    fn coloured_report_and_no_change() {
        let text = sample().render(Style {
            color: true,
            objects: true,
        });
        assert!(text.contains("\x1b[31m      - data.a: \"1\"\x1b[0m"));
        assert!(text.contains("\x1b[32m  + Namespace n  (flux-system/apps)\x1b[0m"));
        assert!(text.contains("\x1b[32m      + kind: Namespace\x1b[0m"));
        let none = FleetDiff {
            from: "a".into(),
            to: "b".into(),
            clusters: vec![],
        };
        assert_eq!(none.exit_code(), 0);
        assert_eq!(
            none.render(Style::default()),
            "no changes between a and b\n"
        );
    }
}
