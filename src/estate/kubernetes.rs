//! Kubernetes: `kubectl get pods -A -o json` and `kubectl get nodes -o json`.
//!
//! Both commands print a `List` object, `{"apiVersion": "v1", "items": [ … ], "kind":
//! "List", …}`. The reader scans the top-level object byte by byte, skips every member
//! but `items`, and cuts the array's elements out one at a time into a reused buffer that
//! is decoded on its own: memory O(one item), whatever the cluster's size. Errors name the
//! line on which the item starts and the field's path in it.
//!
//! **Pods** (`core/v1` Pod) become instances:
//!
//! | field | record field |
//! | --- | --- |
//! | `metadata.namespace` + `/` + `metadata.name` | name |
//! | `metadata.namespace` | tenant |
//! | controlling `metadata.ownerReferences` | class: `Deployment/<name>` (a ReplicaSet's `pod-template-hash` suffix stripped), `StatefulSet/<name>`, `DaemonSet/<name>`, `Job/<name>`, … |
//! | `spec.containers[0].image` | image |
//! | `spec.nodeName` | host |
//! | `status.startTime` (RFC 3339) | start_s (Unix seconds) |
//! | `status.phase == "Running"` | powered_on |
//! | requests / limits (below) | cpu/mem request and limit; vcpus and memory_mib = limit, else request |
//!
//! A pod's effective request is the one the scheduler uses: the larger of the sum over its
//! app containers and the largest init container (init containers run one at a time before
//! the app containers), plus `spec.overhead` (RuntimeClass overhead). Its limit is computed
//! the same way and only if every container sets one (one unlimited container makes the pod
//! unlimited). Only pods in a selected phase (default `Running`) are kept.
//!
//! Quantities follow the Kubernetes `resource.Quantity` grammar: a decimal number and a
//! suffix — binary `Ki Mi Gi Ti Pi Ei` (powers of 1024), decimal `n u m k M G T P E`, or a
//! decimal exponent `e3`/`E3` ([`parse_quantity`]).
//!
//! With a column mapping, `tenant_column`, `class_column` and `image_column` name a pod
//! **label** to read instead (e.g. `tenant_column = "team"`).
//!
//! **Nodes** become [`Host`]s: `status.capacity.cpu` (logical CPUs = threads; physical
//! cores are not reported), `status.capacity.memory`, `status.allocatable.*`, the
//! instance-type label as CPU model, and the node-pool label as cluster.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use super::rows::open_input;
use super::{
    EstateError, Field, Host, Instance, InstanceStream, ReadOptions, ReadStats, RowError, display,
};

/// Parses a Kubernetes quantity ("250m", "1.5", "512Mi", "1G", "2e3") into its value in
/// base units (cores, bytes). Negative and malformed quantities are `None`.
pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '+' || c == '-'))))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    if num.is_empty() || num == "+" || num == "-" || num.matches('.').count() > 1 {
        return None;
    }
    let digits = num.trim_start_matches(['+', '-']);
    if digits == "." {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => {
            let exp = &e[1..];
            let body = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            10f64.powi(exp.parse().ok()?)
        }
        _ => return None,
    };
    let out = v * mult;
    (out.is_finite() && out >= 0.0).then_some(out)
}

/// Unix seconds of an RFC 3339 UTC timestamp as Kubernetes writes it
/// (`2024-05-01T12:00:00Z`, optional fraction, `Z` or `±hh:mm`).
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        frac = format!("0.{}", &r[..end]).parse().ok()?;
        rest = &r[end..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 3600
                + o.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Days from 1970-01-01 (H. Hinnant's days_from_civil).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + se - offset) as f64 + frac)
}

/// Cuts the elements of the top-level `items` array out of a JSON document, one at a time.
struct ItemScanner {
    input: Box<dyn BufRead>,
    file: String,
    line: u64,
    /// The current item's bytes.
    buf: Vec<u8>,
    started: bool,
    done: bool,
}

/// Items larger than this are refused (a hostile or corrupt file, not a pod).
const MAX_ITEM_BYTES: usize = 64 << 20;

impl ItemScanner {
    fn open(path: &Path) -> Result<ItemScanner, EstateError> {
        let mut s = ItemScanner {
            input: open_input(path)?,
            file: display(path),
            line: 1,
            buf: Vec::new(),
            started: false,
            done: false,
        };
        s.find_items()?;
        Ok(s)
    }

    fn fail(&self, message: impl Into<String>) -> EstateError {
        EstateError::Format {
            file: format!("{}:{}", self.file, self.line),
            message: message.into(),
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, EstateError> {
        let buf = self.input.fill_buf().map_err(|e| EstateError::Io {
            file: self.file.clone(),
            source: e,
        })?;
        Ok(buf.first().copied())
    }

    fn bump(&mut self, keep: bool) -> Result<Option<u8>, EstateError> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.input.consume(1);
            if b == b'\n' {
                self.line += 1;
            }
            if keep {
                if self.buf.len() >= MAX_ITEM_BYTES {
                    return Err(self.fail("item larger than 64 MiB"));
                }
                self.buf.push(b);
            }
        }
        Ok(b)
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, EstateError> {
        while let Some(b) = self.peek()? {
            if b.is_ascii_whitespace() {
                self.bump(false)?;
            } else {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    fn expect(&mut self, want: u8) -> Result<(), EstateError> {
        match self.skip_ws()? {
            Some(b) if b == want => {
                self.bump(false)?;
                Ok(())
            }
            Some(b) => Err(self.fail(format!(
                "expected `{}` in the JSON, found `{}`",
                want as char, b as char
            ))),
            None => Err(self.fail(format!(
                "unexpected end of the JSON, expected `{}`",
                want as char
            ))),
        }
    }

    /// Reads a string (the opening quote is next); returns its raw bytes if `collect`.
    fn string(&mut self, keep: bool) -> Result<Vec<u8>, EstateError> {
        let mut raw = Vec::new();
        self.bump(keep)?; // opening quote
        loop {
            match self.bump(keep)? {
                None => return Err(self.fail("unterminated string in the JSON")),
                Some(b'"') => return Ok(raw),
                Some(b'\\') => {
                    if self.bump(keep)?.is_none() {
                        return Err(self.fail("unterminated string in the JSON"));
                    }
                }
                Some(b) => {
                    if !keep {
                        raw.push(b);
                    }
                }
            }
        }
    }

    /// Skips (or, with `keep`, collects) one JSON value.
    fn value(&mut self, keep: bool) -> Result<(), EstateError> {
        match self.skip_ws()? {
            None => Err(self.fail("unexpected end of the JSON, expected a value")),
            Some(b'"') => self.string(keep).map(|_| ()),
            Some(b'{') | Some(b'[') => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        None => return Err(self.fail("unexpected end of the JSON inside a value")),
                        Some(b'"') => {
                            self.string(keep)?;
                        }
                        Some(b) => {
                            self.bump(keep)?;
                            match b {
                                b'{' | b'[' => depth += 1,
                                b'}' | b']' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        return Ok(());
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            Some(_) => {
                while let Some(b) = self.peek()? {
                    if b == b',' || b == b'}' || b == b']' || b.is_ascii_whitespace() {
                        break;
                    }
                    self.bump(keep)?;
                }
                Ok(())
            }
        }
    }

    /// Advances to the first element of the top-level `items` array.
    fn find_items(&mut self) -> Result<(), EstateError> {
        self.expect(b'{')?;
        loop {
            match self.skip_ws()? {
                Some(b'"') => {}
                Some(b'}') | None => {
                    return Err(self
                        .fail("no `items` array: expected the output of `kubectl get … -o json`"));
                }
                Some(b) => {
                    return Err(self.fail(format!(
                        "expected a member name in the JSON, found `{}`",
                        b as char
                    )));
                }
            }
            let key = self.string(false)?;
            self.expect(b':')?;
            if key == b"items" {
                self.expect(b'[')?;
                return Ok(());
            }
            self.value(false)?;
            if let Some(b',') = self.skip_ws()? {
                self.bump(false)?;
            }
        }
    }

    /// The next item into `self.buf`; returns the line it starts on.
    fn next_item(&mut self) -> Result<Option<u64>, EstateError> {
        if self.done {
            return Ok(None);
        }
        match self.skip_ws()? {
            Some(b']') => {
                self.done = true;
                return Ok(None);
            }
            Some(b',') if self.started => {
                self.bump(false)?;
            }
            None => return Err(self.fail("unexpected end of the JSON inside `items`")),
            _ if self.started => return Err(self.fail("expected `,` or `]` after an item")),
            _ => {}
        }
        self.started = true;
        self.skip_ws()?;
        let line = self.line;
        self.buf.clear();
        self.value(true)?;
        Ok(Some(line))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Meta {
    name: String,
    namespace: Option<String>,
    labels: BTreeMap<String, String>,
    #[serde(rename = "ownerReferences")]
    owner_references: Vec<OwnerRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OwnerRef {
    kind: String,
    name: String,
    controller: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Resources {
    requests: BTreeMap<String, serde_json::Value>,
    limits: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Container {
    image: Option<String>,
    resources: Resources,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PodSpec {
    containers: Vec<Container>,
    #[serde(rename = "initContainers")]
    init_containers: Vec<Container>,
    #[serde(rename = "nodeName")]
    node_name: Option<String>,
    overhead: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PodStatus {
    phase: Option<String>,
    #[serde(rename = "startTime")]
    start_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Pod {
    metadata: Meta,
    spec: PodSpec,
    status: PodStatus,
}

/// Options of the pod reader.
#[derive(Debug, Clone, PartialEq)]
pub struct PodOptions {
    pub read: ReadOptions,
    /// Pod phases kept (default `Running`).
    pub phases: Vec<String>,
}

impl Default for PodOptions {
    fn default() -> PodOptions {
        PodOptions {
            read: ReadOptions::default(),
            phases: vec!["Running".to_string()],
        }
    }
}

/// Streams the pods of `kubectl get pods -A -o json` as instances.
pub struct Pods {
    scan: ItemScanner,
    opts: PodOptions,
    stats: ReadStats,
    /// Set after an error: the iterator is fused.
    failed: bool,
}

/// Opens a pod list (optionally `.gz`).
pub fn open_pods(path: &Path, opts: &PodOptions) -> Result<Pods, EstateError> {
    let scan = ItemScanner::open(path)?;
    Ok(Pods {
        stats: ReadStats::new(scan.file.clone()),
        scan,
        opts: opts.clone(),

        failed: false,
    })
}

/// The name of a ReplicaSet's Deployment: the ReplicaSet is `<deployment>-<hash>`, where
/// the hash is the pod's `pod-template-hash` label (or, without the label, a last segment
/// drawn from the alphabet Kubernetes uses for such hashes: `bcdfghjklmnpqrstvwxz2456789`).
pub fn deployment_of(replicaset: &str, template_hash: Option<&str>) -> Option<String> {
    if let Some(h) = template_hash
        && let Some(base) = replicaset.strip_suffix(h).and_then(|b| b.strip_suffix('-'))
        && !base.is_empty()
    {
        return Some(base.to_string());
    }
    let (base, last) = replicaset.rsplit_once('-')?;
    let safe = |c: char| "bcdfghjklmnpqrstvwxz2456789".contains(c);
    (!base.is_empty() && (5..=10).contains(&last.len()) && last.chars().all(safe))
        .then(|| base.to_string())
}

struct Totals {
    request: Option<f64>,
    limit: Option<f64>,
}

/// The scheduler's effective request/limit of `resource` over a pod's containers.
fn effective(
    spec: &PodSpec,
    resource: &str,
    unit: f64,
    err: &dyn Fn(String, String) -> RowError,
) -> Result<Totals, RowError> {
    let q = |v: &serde_json::Value, path: String| -> Result<f64, RowError> {
        let t = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        parse_quantity(&t).map(|x| x / unit).ok_or_else(|| {
            err(
                path,
                format!(
                    "expected a Kubernetes quantity (e.g. 250m, 1.5, 512Mi, 1G), found `{}`",
                    super::rows::clip(&t)
                ),
            )
        })
    };
    let mut req_sum = 0.0;
    let mut lim_sum = Some(0.0);
    let mut any_req = false;
    for (i, c) in spec.containers.iter().enumerate() {
        match c.resources.requests.get(resource) {
            Some(v) => {
                any_req = true;
                req_sum += q(
                    v,
                    format!("spec.containers[{i}].resources.requests.{resource}"),
                )?;
            }
            // Kubernetes defaults a missing request to the limit.
            None => {
                if let Some(v) = c.resources.limits.get(resource) {
                    any_req = true;
                    req_sum += q(
                        v,
                        format!("spec.containers[{i}].resources.limits.{resource}"),
                    )?;
                }
            }
        }
        match (c.resources.limits.get(resource), lim_sum) {
            (Some(v), Some(s)) => {
                lim_sum = Some(
                    s + q(
                        v,
                        format!("spec.containers[{i}].resources.limits.{resource}"),
                    )?,
                )
            }
            _ => lim_sum = None,
        }
    }
    let mut init_req: f64 = 0.0;
    let mut init_lim: Option<f64> = Some(0.0);
    for (i, c) in spec.init_containers.iter().enumerate() {
        let r = c
            .resources
            .requests
            .get(resource)
            .or(c.resources.limits.get(resource));
        if let Some(v) = r {
            any_req = true;
            init_req = init_req.max(q(
                v,
                format!("spec.initContainers[{i}].resources.requests.{resource}"),
            )?);
        }
        match (c.resources.limits.get(resource), init_lim) {
            (Some(v), Some(m)) => {
                init_lim = Some(m.max(q(
                    v,
                    format!("spec.initContainers[{i}].resources.limits.{resource}"),
                )?))
            }
            _ => init_lim = None,
        }
    }
    let overhead = match spec.overhead.get(resource) {
        Some(v) => q(v, format!("spec.overhead.{resource}"))?,
        None => 0.0,
    };
    let has_containers = !spec.containers.is_empty();
    Ok(Totals {
        request: any_req.then(|| req_sum.max(init_req) + overhead),
        limit: match (lim_sum, init_lim) {
            (Some(a), Some(b)) if has_containers => Some(a.max(b) + overhead),
            _ => None,
        },
    })
}

impl Pods {
    fn parse(&self, line: u64) -> Result<Option<Instance>, RowError> {
        let file = &self.scan.file;
        let err = |column: String, message: String| RowError {
            file: file.clone(),
            row: line,
            column,
            message,
        };
        let pod: Pod = serde_json::from_slice(&self.scan.buf).map_err(|e| {
            err(
                "item".into(),
                format!(
                    "not a Kubernetes object: {e} (line {} of the item)",
                    e.line()
                ),
            )
        })?;
        let m = &pod.metadata;
        if m.name.is_empty() {
            return Err(err(
                "metadata.name".into(),
                "missing; expected the pod's name".into(),
            ));
        }
        let phase = pod.status.phase.clone().unwrap_or_default();
        if !self.opts.phases.contains(&phase) {
            return Ok(None);
        }
        let cpu = effective(&pod.spec, "cpu", 1.0, &err)?;
        let mem = effective(&pod.spec, "memory", 1024.0 * 1024.0, &err)?;
        let label = |f: Field| -> Option<Option<String>> {
            self.opts
                .read
                .columns
                .get(f)
                .map(|l| m.labels.get(l).cloned())
        };
        let namespace = m.namespace.clone().unwrap_or_else(|| "default".into());
        let owner = m
            .owner_references
            .iter()
            .find(|o| o.controller == Some(true))
            .or(m.owner_references.first());
        let class = owner.map(|o| {
            if o.kind == "ReplicaSet"
                && let Some(d) = deployment_of(
                    &o.name,
                    m.labels.get("pod-template-hash").map(String::as_str),
                )
            {
                return format!("Deployment/{d}");
            }
            format!("{}/{}", o.kind, o.name)
        });
        let start_s = match &pod.status.start_time {
            Some(t) => Some(parse_rfc3339(t).ok_or_else(|| {
                err(
                    "status.startTime".into(),
                    format!(
                        "expected an RFC 3339 time, found `{}`",
                        super::rows::clip(t)
                    ),
                )
            })?),
            None => None,
        };
        Ok(Some(Instance {
            name: format!("{namespace}/{}", m.name),
            vcpus: cpu.limit.or(cpu.request).unwrap_or(0.0),
            memory_mib: mem.limit.or(mem.request).unwrap_or(0.0),
            cpu_request_cores: cpu.request,
            cpu_limit_cores: cpu.limit,
            mem_request_mib: mem.request,
            mem_limit_mib: mem.limit,
            tenant: label(Field::Tenant).unwrap_or(Some(namespace)),
            class: label(Field::Class).unwrap_or(class),
            image: label(Field::Image)
                .unwrap_or_else(|| pod.spec.containers.first().and_then(|c| c.image.clone())),
            host: pod.spec.node_name.clone(),
            start_s,
            powered_on: phase == "Running",
            row: line,
            ..Instance::default()
        }))
    }
}

impl Iterator for Pods {
    type Item = Result<Instance, EstateError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.advance();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

impl Pods {
    fn advance(&mut self) -> Option<Result<Instance, EstateError>> {
        loop {
            let line = match self.scan.next_item() {
                Err(e) => return Some(Err(e)),
                Ok(None) => return None,
                Ok(Some(l)) => l,
            };
            self.stats.rows += 1;
            match self.parse(line) {
                Ok(Some(i)) => {
                    self.stats.records += 1;
                    return Some(Ok(i));
                }
                Ok(None) => self.stats.filtered += 1,
                Err(e) => {
                    if let Err(e) = self.stats.bad_row(self.opts.read.on_bad_row, e) {
                        return Some(Err(e));
                    }
                }
            }
        }
    }
}

impl InstanceStream for Pods {
    fn stats(&self) -> &ReadStats {
        &self.stats
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NodeStatus {
    capacity: BTreeMap<String, serde_json::Value>,
    allocatable: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Node {
    metadata: Meta,
    status: NodeStatus,
}

/// Labels naming a node's instance type (its hardware), in order of preference.
const MODEL_LABELS: [&str; 3] = [
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "feature.node.kubernetes.io/cpu-model.id",
];

/// Labels naming a node's pool (GKE, EKS, AKS, generic).
const POOL_LABELS: [&str; 4] = [
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "kubernetes.azure.com/agentpool",
    "node.kubernetes.io/pool",
];

/// Reads `kubectl get nodes -o json` into hosts (a node list is small: read whole).
pub fn read_nodes(path: &Path, opts: &ReadOptions) -> Result<(Vec<Host>, ReadStats), EstateError> {
    let mut scan = ItemScanner::open(path)?;
    let mut stats = ReadStats::new(scan.file.clone());
    let mut hosts = Vec::new();
    while let Some(line) = scan.next_item()? {
        stats.rows += 1;
        let file = scan.file.clone();
        let err = |column: &str, message: String| RowError {
            file: file.clone(),
            row: line,
            column: column.to_string(),
            message,
        };
        let r = (|| -> Result<Host, RowError> {
            let node: Node = serde_json::from_slice(&scan.buf)
                .map_err(|e| err("item", format!("not a Kubernetes object: {e}")))?;
            let q =
                |map: &BTreeMap<String, serde_json::Value>, key: &str, path: &str, unit: f64| {
                    match map.get(key) {
                        None => Ok(None),
                        Some(v) => {
                            let t = v
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string());
                            parse_quantity(&t).map(|x| Some(x / unit)).ok_or_else(|| {
                                err(
                                    path,
                                    format!(
                                        "expected a Kubernetes quantity, found `{}`",
                                        super::rows::clip(&t)
                                    ),
                                )
                            })
                        }
                    }
                };
            let cpus = q(&node.status.capacity, "cpu", "status.capacity.cpu", 1.0)?
                .filter(|c| *c > 0.0)
                .ok_or_else(|| {
                    err(
                        "status.capacity.cpu",
                        "missing; expected the node's CPUs".into(),
                    )
                })?;
            let mem = q(
                &node.status.capacity,
                "memory",
                "status.capacity.memory",
                1048576.0,
            )?
            .filter(|m| *m > 0.0)
            .ok_or_else(|| {
                err(
                    "status.capacity.memory",
                    "missing; expected the node's memory".into(),
                )
            })?;
            let labels = &node.metadata.labels;
            let pick = |keys: &[&str]| keys.iter().find_map(|k| labels.get(*k).cloned());
            Ok(Host {
                name: node.metadata.name.clone(),
                cluster: pick(&POOL_LABELS),
                cores: None,
                threads: cpus.round() as u32,
                memory_mib: mem,
                cpu_model: pick(&MODEL_LABELS),
                allocatable_cpus: q(
                    &node.status.allocatable,
                    "cpu",
                    "status.allocatable.cpu",
                    1.0,
                )?,
                allocatable_mib: q(
                    &node.status.allocatable,
                    "memory",
                    "status.allocatable.memory",
                    1048576.0,
                )?,
                row: line,
                ..Host::default()
            })
        })();
        match r {
            Ok(h) => {
                stats.records += 1;
                hosts.push(h);
            }
            Err(e) => stats.bad_row(opts.on_bad_row, e)?,
        }
    }
    Ok((hosts, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_follow_the_kubernetes_grammar() {
        let close = |s: &str, v: f64| {
            let got = parse_quantity(s).unwrap_or_else(|| panic!("{s} did not parse"));
            assert!(
                (got - v).abs() <= 1e-12 * v.abs().max(1.0),
                "{s}: {got} vs {v}"
            );
        };
        close("250m", 0.25);
        close("1.5", 1.5);
        close("2", 2.0);
        close("512Mi", 512.0 * 1048576.0);
        close("1Gi", 1073741824.0);
        close("1G", 1e9);
        close("1k", 1e3);
        close("2e3", 2000.0);
        close("1E3", 1000.0);
        close("1E", 1e18);
        close("100n", 1e-7);
        close("+1", 1.0);
        close(".5", 0.5);
        for bad in [
            "", "m", "1.2.3", "1Qi", "-1", "1e", "1e+", "1 Gi", "abc", "1KiB", ".",
        ] {
            assert_eq!(parse_quantity(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00Z"), Some(1_714_564_800.0));
        assert_eq!(
            parse_rfc3339("2024-05-01T14:00:00+02:00"),
            Some(1_714_564_800.0)
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T12:00:00.5Z"),
            Some(1_714_564_800.5)
        );
        assert_eq!(parse_rfc3339("2024-13-01T12:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn deployment_names_lose_the_template_hash() {
        assert_eq!(
            deployment_of("web-5d9c8f7b6", Some("5d9c8f7b6")).as_deref(),
            Some("web")
        );
        assert_eq!(
            deployment_of("api-v2-7c6d9bc8f4", None).as_deref(),
            Some("api-v2")
        );
        assert_eq!(
            deployment_of("standalone-rs", None),
            None,
            "`rs` is no hash"
        );
    }
}
