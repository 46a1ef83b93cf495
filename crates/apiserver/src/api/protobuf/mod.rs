//! Decoding of the Kubernetes protobuf encoding, which kubectl's typed `create` generators
//! send (`kubectl create deployment|configmap|secret|service|job|cronjob|ingress|role|...`):
//! the `k8s\0` envelope, `runtime.Unknown`, and the messages of those kinds (`kinds`), turned
//! into JSON objects. Field numbers are not in the OpenAPI schemas, so the messages are
//! tables; a field missing from them is refused rather than dropped.
use base64::Engine;
use serde_json::{json, Map, Value};

mod kinds;

/// How a field's value is turned into JSON. gogo-protobuf writes non-pointer scalars even when
/// zero, so the plain variants drop zero values (as JSON's `omitempty` would) and the `Keep`
/// variants, for pointer fields, keep them.
#[derive(Clone, Copy)]
enum T {
    Str,
    Int,
    /// An optional integer whose zero is meaningful (`replicas: 0`).
    IntKeep,
    /// An optional boolean (`*bool`): kept when false.
    Bool,
    /// A plain boolean: dropped when false.
    Flag,
    Msg(&'static [F]),
    /// A message kept even when empty (`resources: {}`).
    MsgKeep(&'static [F]),
    /// An embedded struct whose fields JSON inlines into the parent (`IngressRuleValue`).
    Inline(&'static [F]),
    RepStr,
    RepMsg(&'static [F]),
    MapSS,
    MapSB,
    /// `map<string, resource.Quantity>`.
    MapSQ,
    /// `intstr.IntOrString`.
    IntStr,
    Time,
    /// A known field that is not decoded (`status`, which create resets).
    Skip,
}

type F = (u64, &'static str, T);

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

/// How a map's values are encoded.
#[derive(Clone, Copy)]
enum MapValue {
    Str,
    Bytes,
    Quantity,
}

fn entry(b: &[u8], kind: MapValue) -> Result<(String, Value), String> {
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
                v = match kind {
                    MapValue::Bytes => {
                        Value::String(base64::engine::general_purpose::STANDARD.encode(raw))
                    }
                    MapValue::Str => string(raw)?,
                    MapValue::Quantity => quantity(raw)?,
                };
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok((k, v))
}

/// `resource.Quantity`: a message whose field 1 is the string form.
fn quantity(b: &[u8]) -> Result<Value, String> {
    let mut r = Reader { buf: b, pos: 0 };
    let mut v = json!("0");
    while r.pos < b.len() {
        let key = r.varint()?;
        match (key >> 3, key & 7) {
            (1, 2) => v = string(r.bytes()?)?,
            (_, w) => r.skip(w)?,
        }
    }
    Ok(v)
}

/// `intstr.IntOrString`: type (0 int, 1 string), intVal, strVal.
fn int_or_string(b: &[u8]) -> Result<Value, String> {
    let mut r = Reader { buf: b, pos: 0 };
    let (mut ty, mut int, mut st) = (0, 0i64, String::new());
    while r.pos < b.len() {
        let key = r.varint()?;
        match (key >> 3, key & 7) {
            (1, 0) => ty = r.varint()?,
            (2, 0) => int = i64::from(r.varint()? as i32),
            (3, 2) => {
                st = std::str::from_utf8(r.bytes()?)
                    .map_err(|e| e.to_string())?
                    .to_string()
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(if ty == 1 { json!(st) } else { json!(int) })
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

/// A field this decoder does not know. gogo-protobuf writes unset non-pointer fields as
/// zeros, which are skipped; any other value is refused, never silently dropped.
fn unknown(r: &mut Reader<'_>, num: u64, wire: u64, path: &str) -> Result<(), PbError> {
    let zero = match wire {
        0 => r.varint()? == 0,
        2 => r.bytes()?.is_empty(),
        w => {
            r.skip(w)?;
            false
        }
    };
    if zero {
        Ok(())
    } else {
        Err(PbError::Unsupported(format!(
            "field {num} of {} is not supported in protobuf by this server; send JSON",
            if path.is_empty() { "the object" } else { path }
        )))
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn message(b: &[u8], schema: &[F], path: &str) -> Result<Map<String, Value>, PbError> {
    let mut r = Reader { buf: b, pos: 0 };
    let mut out = Map::new();
    while r.pos < b.len() {
        let key = r.varint()?;
        let (num, wire) = (key >> 3, key & 7);
        let Some(&(_, name, t)) = schema.iter().find(|f| f.0 == num) else {
            unknown(&mut r, num, wire, path)?;
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
            (T::Flag, 0) => {
                if r.varint()? != 0 {
                    out.insert(name.into(), json!(true));
                }
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
            (T::IntStr, 2) => {
                out.insert(name.into(), int_or_string(r.bytes()?)?);
            }
            (T::Msg(s), 2) => {
                let m = message(r.bytes()?, s, &join(path, name))?;
                if !m.is_empty() {
                    out.insert(name.into(), Value::Object(m));
                }
            }
            (T::MsgKeep(s), 2) => {
                let m = message(r.bytes()?, s, &join(path, name))?;
                out.insert(name.into(), Value::Object(m));
            }
            (T::Inline(s), 2) => {
                let m = message(r.bytes()?, s, path)?;
                out.extend(m);
            }
            (T::RepStr, 2) => {
                let v = string(r.bytes()?)?;
                push(&mut out, name, v);
            }
            (T::RepMsg(s), 2) => {
                let v = Value::Object(message(r.bytes()?, s, &join(path, name))?);
                push(&mut out, name, v);
            }
            (T::MapSS | T::MapSB | T::MapSQ, 2) => {
                let kind = match t {
                    T::MapSB => MapValue::Bytes,
                    T::MapSQ => MapValue::Quantity,
                    _ => MapValue::Str,
                };
                let (k, v) = entry(r.bytes()?, kind)?;
                if let Value::Object(m) = out.entry(name).or_insert_with(|| json!({})) {
                    m.insert(k, v);
                }
            }
            (T::Skip, w) => r.skip(w)?,
            (_, w) => {
                return Err(PbError::Malformed(format!(
                    "field {num} ({}) has the unexpected wire type {w}",
                    join(path, name)
                )))
            }
        }
    }
    Ok(out)
}

fn push(out: &mut Map<String, Value>, name: &str, v: Value) {
    if let Value::Array(a) = out.entry(name).or_insert_with(|| json!([])) {
        a.push(v);
    }
}

/// Why a protobuf body was not decoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PbError {
    /// Not valid protobuf (400).
    #[error("{0}")]
    Malformed(String),
    /// Valid, but using what this decoder does not know (415).
    #[error("{0}")]
    Unsupported(String),
}

impl From<String> for PbError {
    fn from(s: String) -> Self {
        PbError::Malformed(s)
    }
}

impl From<&str> for PbError {
    fn from(s: &str) -> Self {
        PbError::Malformed(s.to_string())
    }
}

/// What a protobuf body decodes to.
#[derive(Debug)]
pub(crate) enum Decoded {
    /// The object, as JSON.
    Object(Value),
    /// A kind this decoder has no message for (apiVersion, kind).
    UnknownKind(String, String),
}

/// Decodes a `k8s\0`-prefixed protobuf body (`runtime.Unknown` around the typed message)
/// into a JSON object.
pub(crate) fn decode(body: &[u8]) -> Result<Decoded, PbError> {
    let rest = body
        .strip_prefix(b"k8s\0")
        .ok_or("missing the k8s protobuf magic prefix")?;
    let mut r = Reader { buf: rest, pos: 0 };
    let (mut type_meta, mut raw) = (Map::new(), &[][..]);
    while r.pos < rest.len() {
        let key = r.varint()?;
        match (key >> 3, key & 7) {
            (1, 2) => type_meta = message(r.bytes()?, kinds::TYPE_META, "typeMeta")?,
            (2, 2) => raw = r.bytes()?,
            (3, 2) => {
                let encoding = string(r.bytes()?)?;
                if encoding != "" {
                    return Err(PbError::Unsupported(format!(
                        "contentEncoding {encoding} is not supported"
                    )));
                }
            }
            (_, w) => r.skip(w)?,
        }
    }
    let api_version = type_meta
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let kind = type_meta
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(schema) = kinds::schema(&api_version, &kind) else {
        return Ok(Decoded::UnknownKind(api_version, kind));
    };
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    obj.extend(message(raw, schema, "")?);
    Ok(Decoded::Object(Value::Object(obj)))
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
        let Decoded::Object(obj) = decode(&body).unwrap() else {
            panic!("not decoded")
        };
        assert_eq!(
            obj,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": {"team": "a"}}})
        );
        assert!(decode(b"nope").is_err());
    }

    fn envelope(api_version: &[u8], kind: &[u8], raw: &[u8]) -> Vec<u8> {
        let type_meta = [field(1, 2, api_version), field(2, 2, kind)].concat();
        let unknown = [field(1, 2, &type_meta), field(2, 2, raw)].concat();
        [b"k8s\0".to_vec(), unknown].concat()
    }

    #[test]
    fn int_or_string_inline_and_zero_fields() {
        // A Service port with a named targetPort, and gogo's zero nodePort.
        let target = [field(1, 0, &[1]), field(3, 2, b"http")].concat();
        let port = [field(3, 0, &[80]), field(4, 2, &target), field(5, 0, &[0])].concat();
        let spec = [field(1, 2, &port), field(4, 2, b"ClusterIP")].concat();
        let raw = [field(2, 2, &spec), field(3, 2, &field(1, 2, b"x"))].concat();
        let Decoded::Object(obj) = decode(&envelope(b"v1", b"Service", &raw)).unwrap() else {
            panic!("not decoded")
        };
        assert_eq!(
            obj["spec"],
            json!({"ports": [{"port": 80, "targetPort": "http"}], "type": "ClusterIP"})
        );
        assert!(obj.get("status").is_none(), "status is skipped: {obj}");
        // An Ingress rule's IngressRuleValue is inlined.
        let path = [field(1, 2, b"/"), field(3, 2, b"Prefix")].concat();
        let http = field(1, 2, &path);
        let rule = [
            field(1, 2, b"a.example.com"),
            field(2, 2, &field(1, 2, &http)),
        ]
        .concat();
        let raw = field(2, 2, &field(3, 2, &rule));
        let Decoded::Object(obj) =
            decode(&envelope(b"networking.k8s.io/v1", b"Ingress", &raw)).unwrap()
        else {
            panic!("not decoded")
        };
        assert_eq!(
            obj["spec"]["rules"],
            json!([{"host": "a.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix"}]}}])
        );
    }

    #[test]
    fn unknown_kinds_and_fields_are_refused_not_dropped() {
        match decode(&envelope(b"v1", b"Pod", b"")).unwrap() {
            Decoded::UnknownKind(v, k) => assert_eq!((v.as_str(), k.as_str()), ("v1", "Pod")),
            Decoded::Object(o) => panic!("decoded {o}"),
        }
        // Field 99 of a ConfigMap, set: refused; written as zero: ignored.
        let set = [field(1, 2, &field(1, 2, b"c")), vec![0x98, 0x06, 0x01]].concat();
        let err = decode(&envelope(b"v1", b"ConfigMap", &set)).unwrap_err();
        assert!(matches!(err, PbError::Unsupported(_)), "{err}");
        let zero = [field(1, 2, &field(1, 2, b"c")), vec![0x98, 0x06, 0x00]].concat();
        assert!(matches!(
            decode(&envelope(b"v1", b"ConfigMap", &zero)),
            Ok(Decoded::Object(_))
        ));
        // Truncated: malformed.
        let err = decode(&envelope(b"v1", b"ConfigMap", &[0x0a, 0x05, b'a'])).unwrap_err();
        assert!(matches!(err, PbError::Malformed(_)), "{err}");
    }
}
