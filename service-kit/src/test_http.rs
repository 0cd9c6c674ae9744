//! A response as both services' test suites read it (feature `test-util`): status, headers,
//! the body as JSON and as text, and the assertions every problem+json answer must pass.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A response, read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON (`null` when it is not JSON).
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Reads the whole response.
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `field`s of a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts a problem+json answer (RFC 9457) with `status`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status, "{}", self.text);
        for member in ["type", "title", "detail"] {
            assert!(
                self.body[member].is_string(),
                "no `{member}`: {}",
                self.text
            );
        }
        self
    }

    /// Asserts a 422 naming exactly `fields`.
    #[track_caller]
    pub fn assert_invalid(&self, fields: &[&str]) {
        self.assert_problem(422);
        assert_eq!(self.error_fields(), fields, "{}", self.text);
    }
}

/// A `/metrics` answer read as Prometheus reads it: families with `# HELP` and `# TYPE`, and
/// samples with their labels.
#[derive(Debug)]
pub struct Exposition {
    described: std::collections::BTreeSet<String>,
    typed: std::collections::BTreeMap<String, String>,
    samples: Vec<Sample>,
}

/// One sample line: `name{label="value",…} value`.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Exposition {
    pub fn parse(text: &str) -> Exposition {
        let mut exposition = Exposition {
            described: Default::default(),
            typed: Default::default(),
            samples: Vec::new(),
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(help) = line.strip_prefix("# HELP ") {
                let name = help.split(' ').next().unwrap_or_default();
                exposition.described.insert(name.to_owned());
            } else if let Some(kind) = line.strip_prefix("# TYPE ") {
                let (name, kind) = kind.split_once(' ').expect("# TYPE name kind");
                exposition.typed.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') {
                exposition.samples.push(parse_sample(line));
            }
        }
        exposition
    }

    /// Asserts that every family has a `# HELP` line, and that each of `names` has samples.
    #[track_caller]
    pub fn assert_described(&self, names: &[&str]) {
        let undescribed: Vec<&String> = self
            .typed
            .keys()
            .filter(|name| !self.described.contains(*name))
            .collect();
        assert!(undescribed.is_empty(), "no # HELP for {undescribed:?}");
        for name in names {
            assert!(
                self.samples.iter().any(|s| s.family() == *name),
                "no sample of {name}"
            );
            assert!(self.described.contains(*name), "no # HELP for {name}");
        }
    }

    /// The value of the first sample of `name` whose labels include `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
            })
            .map(|s| s.value)
    }
}

impl Sample {
    /// The family a sample belongs to (a histogram's `_bucket`, `_sum` and `_count` are one).
    fn family(&self) -> &str {
        ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| self.name.strip_suffix(suffix))
            .unwrap_or(&self.name)
    }
}

fn parse_sample(line: &str) -> Sample {
    let (series, value) = line.rsplit_once(' ').expect("a sample and its value");
    let value = value.parse().expect("a numeric sample value");
    let Some((name, rest)) = series.split_once('{') else {
        return Sample {
            name: series.to_owned(),
            labels: Vec::new(),
            value,
        };
    };
    let mut labels = Vec::new();
    let mut rest = rest.strip_suffix('}').expect("labels end with }");
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect("label=\"value\"");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("a closing quote") {
                (_, '\\') => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(if escaped == 'n' { '\n' } else { escaped });
                    }
                }
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        labels.push((key.to_owned(), value));
        rest = after[end + 1..].trim_start_matches(',');
    }
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}
