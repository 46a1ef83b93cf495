//! Object keys: `(cluster, group, resource, namespace, name)` encoded so that byte order is
//! prefix order, which makes "everything of a resource", "everything in a namespace" and
//! "everything of a cluster" contiguous ranges.

/// The separator between key parts; no part of a Kubernetes name can contain it.
pub(crate) const SEP: char = '\u{0}';

/// The address of one stored object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Logical (virtual) cluster.
    pub cluster: String,
    /// API group, `""` for core.
    pub group: String,
    /// Plural resource name.
    pub resource: String,
    /// Namespace, `""` for cluster-scoped objects.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

impl Key {
    /// Builds a key.
    pub fn new(cluster: &str, group: &str, resource: &str, namespace: &str, name: &str) -> Key {
        Key {
            cluster: cluster.to_string(),
            group: group.to_string(),
            resource: resource.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The encoded form stored in the database.
    pub fn encode(&self) -> String {
        let mut s =
            Prefix::namespace(&self.cluster, &self.group, &self.resource, &self.namespace).0;
        s.push_str(&self.name);
        s
    }

    /// Parses an encoded key.
    pub fn decode(s: &str) -> Option<Key> {
        let mut it = s.split(SEP);
        let k = Key {
            cluster: it.next()?.to_string(),
            group: it.next()?.to_string(),
            resource: it.next()?.to_string(),
            namespace: it.next()?.to_string(),
            name: it.next()?.to_string(),
        };
        if it.next().is_some() {
            return None;
        }
        Some(k)
    }
}

/// A key prefix selecting a contiguous range of objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(pub(crate) String);

impl Prefix {
    /// Every object of a cluster.
    pub fn cluster(cluster: &str) -> Prefix {
        Prefix(format!("{cluster}{SEP}"))
    }

    /// Every object of one resource in a cluster (all namespaces).
    pub fn resource(cluster: &str, group: &str, resource: &str) -> Prefix {
        Prefix(format!("{cluster}{SEP}{group}{SEP}{resource}{SEP}"))
    }

    /// Every object of one resource in one namespace (`""`: the cluster-scoped ones).
    pub fn namespace(cluster: &str, group: &str, resource: &str, namespace: &str) -> Prefix {
        Prefix(format!(
            "{cluster}{SEP}{group}{SEP}{resource}{SEP}{namespace}{SEP}"
        ))
    }

    /// The encoded prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_prefixes() {
        let k = Key::new("c1", "apps", "deployments", "ns", "web");
        let e = k.encode();
        assert_eq!(Key::decode(&e), Some(k.clone()));
        assert!(e.starts_with(Prefix::cluster("c1").as_str()));
        assert!(e.starts_with(Prefix::resource("c1", "apps", "deployments").as_str()));
        assert!(e.starts_with(Prefix::namespace("c1", "apps", "deployments", "ns").as_str()));
        assert!(!e.starts_with(Prefix::namespace("c1", "apps", "deployments", "n").as_str()));
        assert!(!e.starts_with(Prefix::cluster("c").as_str()));
        let cs = Key::new("c1", "", "namespaces", "", "default");
        assert_eq!(Key::decode(&cs.encode()), Some(cs));
    }
}
