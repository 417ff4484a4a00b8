//! Parity with Istio's own validator: every case of Istio's validator unit-test tables,
//! transcribed into objects under `tests/fixtures/istio-validation/<kind>/` with the table's
//! verdict, is run through meshgate's rules, and meshgate's verdict is compared with Istio's.
//! Where they still differ the case is listed in `tests/fixtures/istio-validation/known-gaps.txt`,
//! the work left: the test fails when a case differs that the list does not name, and when a
//! listed case has come to agree (so the list only ever shrinks). `MESHGATE_BLESS=1` rewrites it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use meshgate::rules::{self, IstioVersion, ObjectKind, Rule, Severity, Subject};
use serde::Deserialize;
use serde_json::Value;

use crate::support::fixtures;

/// The tables are Istio's master at the commit the fixtures name, whose `VERSION` file reads
/// 1.32 (release-1.31 had branched): every version-dependent verdict is the newest one.
const TABLES_ISTIO: IstioVersion = IstioVersion::new(1, 32);

/// A verdict: Istio's (from the table) or meshgate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Valid,
    Warning,
    Error,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Valid => "valid",
            Verdict::Warning => "warning",
            Verdict::Error => "error",
        })
    }
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Source {
    repo: String,
    commit: String,
    file: String,
    test: String,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    verdict: Verdict,
    object: Option<Value>,
    skip: Option<String>,
    fill: Option<Fill>,
    #[allow(dead_code)]
    note: Option<String>,
}

/// A value too large to keep in the file (a body at Istio's size limits), written by the test:
/// `repeat` `times` over, as text or base64-encoded bytes, at `pointer`.
#[derive(Debug, Deserialize)]
struct Fill {
    pointer: String,
    repeat: String,
    times: usize,
    encoding: FillEncoding,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FillEncoding {
    Text,
    Base64,
}

impl Fill {
    fn apply(&self, object: &mut Value, id: &str) {
        use base64::Engine as _;
        let text = self.repeat.repeat(self.times);
        let value = match self.encoding {
            FillEncoding::Text => text,
            FillEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(text),
        };
        *object
            .pointer_mut(&self.pointer)
            .unwrap_or_else(|| panic!("{id}: fill: no {} in the object", self.pointer)) =
            Value::String(value);
    }
}

#[derive(Debug, Deserialize)]
struct Table {
    source: Source,
    cases: Vec<Case>,
}

/// Rules that are not Istio's validation: API-version hints, meshgate's own annotations.
fn counts_for_parity(rule: Rule) -> bool {
    !matches!(
        rule,
        Rule::VirtualServiceApiVersion
            | Rule::ServiceEntryApiVersion
            | Rule::IgnoreAnnotation
            | Rule::NamespaceInjectionConflict
            | Rule::NamespaceInjectionShadowedRevision
            | Rule::NamespaceInjectionLabelValue
    )
}

/// meshgate's verdict on an object, and the findings behind it.
fn meshgate_verdict(object: &Value) -> (Verdict, Vec<String>) {
    let Some(kind) = ObjectKind::of(object) else {
        return (Verdict::Error, vec!["not a kind meshgate checks".into()]);
    };
    let findings: Vec<_> = rules::evaluate(&Subject {
        min_istio_version: TABLES_ISTIO,
        ..Subject::created(kind, object)
    })
    .into_iter()
    .filter(|f| counts_for_parity(f.rule) && f.severity > Severity::Info)
    .collect();
    let verdict = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => Verdict::Error,
        Some(_) => Verdict::Warning,
        None => Verdict::Valid,
    };
    let said = findings
        .iter()
        .map(|f| format!("{} {}: {}", f.rule, f.path, f.message))
        .collect();
    (verdict, said)
}

fn tables() -> Vec<(PathBuf, Table)> {
    let root = fixtures("istio-validation");
    let mut found = Vec::new();
    for kind in ["destinationrule", "serviceentry", "virtualservice"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let table: Table =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            found.push((file, table));
        }
    }
    found
}

fn gaps_file() -> PathBuf {
    fixtures("istio-validation").join("known-gaps.txt")
}

/// `<kind>/<test>: <case>` → the line of the gaps file.
fn read_gaps(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let id = l.split(" => ").next().unwrap_or(l).to_string();
            (id, l.to_string())
        })
        .collect()
}

#[test]
fn every_transcribed_case_gets_istios_verdict_or_is_a_known_gap() {
    let mut differing: BTreeMap<String, String> = BTreeMap::new();
    let mut totals: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for (file, table) in tables() {
        let kind = file
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            table.source.commit.len() == 40 && table.source.repo == "istio/istio",
            "{}: the source names the commit",
            file.display()
        );
        let mut names = std::collections::HashSet::new();
        for case in &table.cases {
            assert!(
                names.insert(&case.name),
                "{}: `{}` twice",
                file.display(),
                case.name
            );
            let counts = totals.entry(kind.clone()).or_default();
            let id = format!("{kind}/{}: {}", table.source.test, case.name);
            match (&case.object, &case.skip) {
                (_, Some(reason)) => {
                    assert!(!reason.trim().is_empty(), "{id}: a skip says why");
                    counts[3] += 1;
                }
                (Some(object), None) => {
                    let mut object = object.clone();
                    if let Some(fill) = &case.fill {
                        fill.apply(&mut object, &id);
                    }
                    let (verdict, said) = meshgate_verdict(&object);
                    if verdict == case.verdict {
                        counts[0] += 1;
                    } else {
                        counts[if case.verdict == Verdict::Valid { 2 } else { 1 }] += 1;
                        differing.insert(
                            id.clone(),
                            format!(
                                "{id} => Istio {}, meshgate {verdict}{}",
                                case.verdict,
                                if said.is_empty() {
                                    String::new()
                                } else {
                                    format!(" ({})", said.join("; "))
                                }
                            ),
                        );
                    }
                }
                (None, None) => panic!("{id}: neither an object nor a reason to skip"),
            }
        }
    }
    let summary: Vec<String> = totals
        .iter()
        .map(|(kind, [agree, missed, extra, skipped])| {
            format!("{kind}: {agree} agree, {missed} Istio-flagged cases missed or judged differently, {extra} valid cases flagged, {skipped} skipped")
        })
        .collect();
    let path = gaps_file();
    if std::env::var_os("MESHGATE_BLESS").is_some() {
        let mut text = String::from(
            "# Cases of Istio's validator tables where meshgate's verdict still differs from Istio's:\n\
             # the work left. Written by `MESHGATE_BLESS=1 cargo test istio_parity`; a case leaves\n\
             # this list when meshgate agrees with Istio, and none may join it unnoticed.\n",
        );
        for line in &summary {
            text.push_str(&format!("# {line}\n"));
        }
        for line in differing.values() {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
    }
    let known = read_gaps(&path);
    let new: Vec<&String> = differing
        .iter()
        .filter(|(id, _)| !known.contains_key(*id))
        .map(|(_, line)| line)
        .collect();
    let closed: Vec<&String> = known
        .keys()
        .filter(|id| !differing.contains_key(*id))
        .collect();
    assert!(
        new.is_empty() && closed.is_empty(),
        "{}\ncases that now differ from Istio:\n{}\ncases that now agree (remove them from known-gaps.txt):\n{}",
        summary.join("\n"),
        new.iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
        closed
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}
