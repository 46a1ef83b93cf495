//! Decoding of the Kubernetes protobuf encoding for the kinds kubectl's typed commands send
//! that way (`kubectl create namespace|configmap|secret|serviceaccount|deployment`): the `k8s\0`
//! envelope, `runtime.Unknown`, and the messages of those kinds, turned into JSON objects.
use base64::Engine;
use serde_json::{json, Map, Value};

#[derive(Clone, Copy)]
enum T {
    Str,
    Int,
    /// An optional integer whose zero is meaningful (`replicas: 0`).
    IntKeep,
    Bool,
    Msg(&'static [F]),
    RepStr,
    RepMsg(&'static [F]),
    MapSS,
    MapSB,
    Time,
}

type F = (u64, &'static str, T);

const OWNER_REF: &[F] = &[
    (1, "kind", T::Str),
    (3, "name", T::Str),
    (4, "uid", T::Str),
    (5, "apiVersion", T::Str),
    (6, "controller", T::Bool),
    (7, "blockOwnerDeletion", T::Bool),
];
const META: &[F] = &[
    (1, "name", T::Str),
    (2, "generateName", T::Str),
    (3, "namespace", T::Str),
    (5, "uid", T::Str),
    (6, "resourceVersion", T::Str),
    (7, "generation", T::Int),
    (8, "creationTimestamp", T::Time),
    (11, "labels", T::MapSS),
    (12, "annotations", T::MapSS),
    (13, "ownerReferences", T::RepMsg(OWNER_REF)),
    (14, "finalizers", T::RepStr),
];
const NS_SPEC: &[F] = &[(1, "finalizers", T::RepStr)];
const NAMESPACE: &[F] = &[(1, "metadata", T::Msg(META)), (2, "spec", T::Msg(NS_SPEC))];
const CONFIGMAP: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "data", T::MapSS),
    (3, "binaryData", T::MapSB),
    (4, "immutable", T::Bool),
];
const SECRET: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "data", T::MapSB),
    (3, "type", T::Str),
    (4, "stringData", T::MapSS),
    (5, "immutable", T::Bool),
];
const OBJ_REF: &[F] = &[
    (1, "kind", T::Str),
    (2, "namespace", T::Str),
    (3, "name", T::Str),
];
const LOCAL_REF: &[F] = &[(1, "name", T::Str)];
const SERVICE_ACCOUNT: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "secrets", T::RepMsg(OBJ_REF)),
    (3, "imagePullSecrets", T::RepMsg(LOCAL_REF)),
    (4, "automountServiceAccountToken", T::Bool),
];
const TYPE_META: &[F] = &[(1, "apiVersion", T::Str), (2, "kind", T::Str)];
const REQUIREMENT: &[F] = &[
    (1, "key", T::Str),
    (2, "operator", T::Str),
    (3, "values", T::RepStr),
];
const LABEL_SELECTOR: &[F] = &[
    (1, "matchLabels", T::MapSS),
    (2, "matchExpressions", T::RepMsg(REQUIREMENT)),
];
const CONTAINER_PORT: &[F] = &[
    (1, "name", T::Str),
    (2, "hostPort", T::Int),
    (3, "containerPort", T::Int),
    (4, "protocol", T::Str),
];
const ENV_VAR: &[F] = &[(1, "name", T::Str), (2, "value", T::Str)];
const CONTAINER: &[F] = &[
    (1, "name", T::Str),
    (2, "image", T::Str),
    (3, "command", T::RepStr),
    (4, "args", T::RepStr),
    (5, "workingDir", T::Str),
    (6, "ports", T::RepMsg(CONTAINER_PORT)),
    (7, "env", T::RepMsg(ENV_VAR)),
    (14, "imagePullPolicy", T::Str),
];
const POD_SPEC: &[F] = &[
    (2, "containers", T::RepMsg(CONTAINER)),
    (3, "restartPolicy", T::Str),
    (4, "terminationGracePeriodSeconds", T::Int),
    (6, "dnsPolicy", T::Str),
    (7, "nodeSelector", T::MapSS),
    (8, "serviceAccountName", T::Str),
    (10, "nodeName", T::Str),
    (20, "initContainers", T::RepMsg(CONTAINER)),
];
const POD_TEMPLATE: &[F] = &[(1, "metadata", T::Msg(META)), (2, "spec", T::Msg(POD_SPEC))];
const DEPLOYMENT_SPEC: &[F] = &[
    (1, "replicas", T::IntKeep),
    (2, "selector", T::Msg(LABEL_SELECTOR)),
    (3, "template", T::Msg(POD_TEMPLATE)),
    (5, "minReadySeconds", T::Int),
    (6, "revisionHistoryLimit", T::Int),
    (7, "paused", T::Bool),
    (9, "progressDeadlineSeconds", T::Int),
];
const DEPLOYMENT: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(DEPLOYMENT_SPEC)),
];

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = usize::try_from(self.varint()?).map_err(|e| e.to_string())?;
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or("truncated field")?;
        let b = &self.buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn skip(&mut self, wire: u64) -> Result<(), String> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.advance(8),
            2 => self.bytes().map(|_| ()),
            5 => self.advance(4),
            w => Err(format!("unsupported wire type {w}")),
        }
    }

    fn advance(&mut self, n: usize) -> Result<(), String> {
        if self.pos + n > self.buf.len() {
            return Err("truncated field".into());
        }
        self.pos += n;
        Ok(())
    }
}

fn string(b: &[u8]) -> Result<Value, String> {
    std::str::from_utf8(b)
        .map(|s| Value::String(s.to_string()))
        .map_err(|e| e.to_string())
}

fn entry(b: &[u8], bytes_value: bool) -> Result<(String, Value), String> {
    let mut r = Reader { buf: b, pos: 0 };
    let (mut k, mut v) = (String::new(), json!(""));
    while r.pos < b.len() {
        let key = r.varint()?;
        match (key >> 3, key & 7) {
            (1, 2) => {
                k = std::str::from_utf8(r.bytes()?)
                    .map_err(|e| e.to_string())?
                    .to_string()
            }
            (2, 2) => {
                let raw = r.bytes()?;
                v = if bytes_value {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(raw))
                } else {
                    string(raw)?
                };
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok((k, v))
}

fn time(b: &[u8]) -> Result<Value, String> {
    let mut r = Reader { buf: b, pos: 0 };
    let mut secs = 0i64;
    while r.pos < b.len() {
        let key = r.varint()?;
        match (key >> 3, key & 7) {
            (1, 0) => secs = r.varint()? as i64,
            (_, w) => r.skip(w)?,
        }
    }
    Ok(Value::String(crate::time::format_unix(secs)))
}

fn message(b: &[u8], schema: &[F]) -> Result<Map<String, Value>, String> {
    let mut r = Reader { buf: b, pos: 0 };
    let mut out = Map::new();
    while r.pos < b.len() {
        let key = r.varint()?;
        let (num, wire) = (key >> 3, key & 7);
        let Some(&(_, name, t)) = schema.iter().find(|f| f.0 == num) else {
            r.skip(wire)?;
            continue;
        };
        match (t, wire) {
            (T::Int, 0) => {
                let v = r.varint()? as i64;
                if v != 0 {
                    out.insert(name.into(), json!(v));
                }
            }
            (T::IntKeep, 0) => {
                out.insert(name.into(), json!(r.varint()? as i64));
            }
            (T::Bool, 0) => {
                out.insert(name.into(), json!(r.varint()? != 0));
            }
            (T::Str, 2) => {
                // Empty strings are how gogo-protobuf writes unset fields (JSON omits them).
                let v = string(r.bytes()?)?;
                if v != "" {
                    out.insert(name.into(), v);
                }
            }
            (T::Time, 2) => {
                let b = r.bytes()?;
                if !b.is_empty() {
                    out.insert(name.into(), time(b)?);
                }
            }
            (T::Msg(s), 2) => {
                let m = message(r.bytes()?, s)?;
                if !m.is_empty() {
                    out.insert(name.into(), Value::Object(m));
                }
            }
            (T::RepStr, 2) => {
                let v = string(r.bytes()?)?;
                push(&mut out, name, v);
            }
            (T::RepMsg(s), 2) => {
                let v = Value::Object(message(r.bytes()?, s)?);
                push(&mut out, name, v);
            }
            (T::MapSS | T::MapSB, 2) => {
                let (k, v) = entry(r.bytes()?, matches!(t, T::MapSB))?;
                if let Value::Object(m) = out.entry(name).or_insert_with(|| json!({})) {
                    m.insert(k, v);
                }
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(out)
}

fn push(out: &mut Map<String, Value>, name: &str, v: Value) {
    if let Value::Array(a) = out.entry(name).or_insert_with(|| json!([])) {
        a.push(v);
    }
}

/// Decodes a `k8s\0`-prefixed protobuf body of a supported kind into a JSON object; `None`
/// when the kind is not one this decoder knows.
pub(crate) fn decode(body: &[u8]) -> Result<Option<Value>, String> {
    let rest = body
        .strip_prefix(b"k8s\0")
        .ok_or("missing the k8s protobuf magic prefix")?;
    let mut r = Reader { buf: rest, pos: 0 };
    let (mut type_meta, mut raw) = (Map::new(), &[][..]);
    while r.pos < rest.len() {
        let key = r.varint()?;
        match (key >> 3, key & 7) {
            (1, 2) => type_meta = message(r.bytes()?, TYPE_META)?,
            (2, 2) => raw = r.bytes()?,
            (_, w) => r.skip(w)?,
        }
    }
    let api_version = type_meta
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = type_meta.get("kind").and_then(Value::as_str).unwrap_or("");
    let schema = match (api_version, kind) {
        ("v1", "Namespace") => NAMESPACE,
        ("v1", "ConfigMap") => CONFIGMAP,
        ("v1", "Secret") => SECRET,
        ("v1", "ServiceAccount") => SERVICE_ACCOUNT,
        ("apps/v1", "Deployment") => DEPLOYMENT,
        _ => return Ok(None),
    };
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    obj.extend(message(raw, schema)?);
    Ok(Some(Value::Object(obj)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(num: u64, wire: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![(num << 3 | wire) as u8];
        if wire == 2 {
            v.push(payload.len() as u8);
        }
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_a_namespace_envelope() {
        let type_meta = [field(1, 2, b"v1"), field(2, 2, b"Namespace")].concat();
        let labels = [field(1, 2, b"team"), field(2, 2, b"a")].concat();
        let meta = [field(1, 2, b"team-a"), field(11, 2, &labels)].concat();
        let raw = field(1, 2, &meta);
        let unknown = [field(1, 2, &type_meta), field(2, 2, &raw), field(4, 2, b"")].concat();
        let body = [b"k8s\0".to_vec(), unknown].concat();
        let obj = decode(&body).unwrap().unwrap();
        assert_eq!(
            obj,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": {"team": "a"}}})
        );
        assert!(decode(b"nope").is_err());
    }
}
