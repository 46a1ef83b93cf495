//! The artifact store: a content-addressed directory of archives.
//!
//! Layout under the root:
//! - `artifacts/<sha256 hex>.tar.gz` — immutable, named by the digest of their bytes;
//! - `sources/<source key>` — the history of one source's digests, newest last;
//! - `tmp/` — files being written.
//!
//! Every write goes to `tmp/` and is renamed into place, so a reader sees a whole file or
//! none. Garbage collection keeps the last N digests of each source and removes archives no
//! source keeps; an archive already opened by a reader stays readable until closed (unlink
//! semantics), and a reader that lost the race re-reads the source's latest digest.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sha2::Digest;

use crate::archive::{write_tar_gz, Files};
use crate::error::SourceError;

/// A stored artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// `sha256:<hex>` of the archive bytes.
    pub digest: String,
    /// Where the archive is.
    pub path: PathBuf,
    /// Archive size in bytes.
    pub size: u64,
    /// The revision the archive was built from (`main@sha1:…`).
    pub revision: String,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    keep: usize,
    gc_lock: Mutex<()>,
    seq: AtomicU64,
}

impl Store {
    /// Opens (creating) a store at `root` keeping `keep` artifacts per source (at least 1).
    pub fn open(root: &Path, keep: usize) -> Result<Store, SourceError> {
        for d in ["artifacts", "sources", "tmp", "repos"] {
            std::fs::create_dir_all(root.join(d))
                .map_err(|e| SourceError::storage("artifact store", e))?;
        }
        // Writes that a crashed process left behind.
        if let Ok(rd) = std::fs::read_dir(root.join("tmp")) {
            let hour = std::time::Duration::from_secs(3600);
            for e in rd.filter_map(Result::ok) {
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > hour);
                if old {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(Store {
            root: root.to_path_buf(),
            keep: keep.max(1),
            gc_lock: Mutex::new(()),
            seq: AtomicU64::new(0),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where cache repositories live.
    pub fn repos_dir(&self) -> PathBuf {
        self.root.join("repos")
    }

    fn tmp_path(&self) -> PathBuf {
        self.root.join("tmp").join(format!(
            "{}-{}.part",
            std::process::id(),
            self.seq.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// The path of the archive with `digest` (`sha256:<hex>`).
    pub fn artifact_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.root.join("artifacts").join(format!("{hex}.tar.gz"))
    }

    /// Writes `files` as an archive (atomically, deduplicated by content) and records it as
    /// the newest artifact of `source`, then collects garbage.
    pub fn put(
        &self,
        source: &str,
        revision: &str,
        files: &Files,
    ) -> Result<Artifact, SourceError> {
        let tmp = self.tmp_path();
        let io = |e: std::io::Error| SourceError::storage("writing artifact", e);
        let (digest, size) = {
            let f = std::fs::File::create(&tmp).map_err(io)?;
            let mut w = HashingWriter {
                inner: std::io::BufWriter::new(f),
                hash: sha2::Sha256::new(),
                size: 0,
            };
            write_tar_gz(files, &mut w).map_err(io)?;
            let f = w.inner.into_inner().map_err(|e| io(e.into_error()))?;
            f.sync_all().map_err(io)?;
            (format!("sha256:{}", crate::hex(&w.hash.finalize())), w.size)
        };
        let path = self.artifact_path(&digest);
        if path.exists() {
            let _ = std::fs::remove_file(&tmp);
        } else {
            std::fs::rename(&tmp, &path).map_err(io)?;
        }
        self.record(source, &digest, revision)?;
        Ok(Artifact {
            digest,
            path,
            size,
            revision: revision.to_string(),
        })
    }

    /// The newest artifact of `source`, if any is stored.
    pub fn latest(&self, source: &str) -> Option<Artifact> {
        let line = self.lines(source).pop()?;
        let (digest, revision) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let path = self.artifact_path(digest);
        let size = std::fs::metadata(&path).ok()?.len();
        Some(Artifact {
            digest: digest.to_string(),
            path,
            size,
            revision: revision.to_string(),
        })
    }

    /// The digests recorded for `source`, oldest first.
    pub fn history(&self, source: &str) -> Vec<String> {
        self.lines(source)
            .into_iter()
            .map(|l| l.split(' ').next().unwrap_or_default().to_string())
            .collect()
    }

    /// `<digest> <revision>` lines, oldest first.
    fn lines(&self, source: &str) -> Vec<String> {
        std::fs::read_to_string(self.source_file(source))
            .map(|s| {
                s.lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn source_file(&self, source: &str) -> PathBuf {
        self.root.join("sources").join(source)
    }

    fn record(&self, source: &str, digest: &str, revision: &str) -> Result<(), SourceError> {
        let _g = self
            .gc_lock
            .lock()
            .map_err(|_| SourceError::Storage("lock poisoned".into()))?;
        let mut hist = self.lines(source);
        hist.retain(|l| l.split(' ').next() != Some(digest));
        hist.push(format!("{digest} {revision}"));
        let dropped: Vec<String> = if hist.len() > self.keep {
            hist.drain(..hist.len() - self.keep)
                .map(|l| l.split(' ').next().unwrap_or_default().to_string())
                .collect()
        } else {
            Vec::new()
        };
        let tmp = self.tmp_path();
        let io = |e: std::io::Error| SourceError::storage("recording artifact", e);
        {
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(hist.join("\n").as_bytes()).map_err(io)?;
            f.write_all(b"\n").map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, self.source_file(source)).map_err(io)?;
        if !dropped.is_empty() {
            self.collect(&dropped)?;
        }
        Ok(())
    }

    /// Removes `candidates` that no source keeps. Call with the GC lock held.
    fn collect(&self, candidates: &[String]) -> Result<(), SourceError> {
        let mut kept = std::collections::HashSet::new();
        let rd = std::fs::read_dir(self.root.join("sources"))
            .map_err(|e| SourceError::storage("garbage collection", e))?;
        for entry in rd.filter_map(Result::ok) {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                kept.extend(
                    text.lines()
                        .filter_map(|l| l.split(' ').next())
                        .map(str::to_string),
                );
            }
        }
        for d in candidates {
            if !kept.contains(d) {
                let _ = std::fs::remove_file(self.artifact_path(d));
                tracing::debug!(digest = %d, "garbage collected artifact");
            }
        }
        Ok(())
    }
}

struct HashingWriter<W: Write> {
    inner: W,
    hash: sha2::Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::FileEntry;

    fn files(content: &str) -> Files {
        let mut f = Files::new();
        f.insert(
            "a.yaml".into(),
            FileEntry {
                path: "a.yaml".into(),
                executable: false,
                data: content.as_bytes().to_vec(),
            },
        );
        f
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("flotilla-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn content_addressed_and_gc_keeps_last_n() {
        let root = tmpdir("gc");
        let s = Store::open(&root, 2).unwrap();
        let a1 = s.put("src-a", "r", &files("1")).unwrap();
        let bytes = std::fs::read(&a1.path).unwrap();
        assert_eq!(
            a1.digest,
            format!("sha256:{}", crate::hex(&sha2::Sha256::digest(&bytes)))
        );
        // Same content from another source: same file, shared.
        let b1 = s.put("src-b", "r", &files("1")).unwrap();
        assert_eq!(a1, b1);
        let a2 = s.put("src-a", "r", &files("2")).unwrap();
        let a3 = s.put("src-a", "r", &files("3")).unwrap();
        assert_eq!(
            s.history("src-a"),
            vec![a2.digest.clone(), a3.digest.clone()]
        );
        // a1 dropped from src-a but src-b still keeps it.
        assert!(a1.path.exists());
        let b2 = s.put("src-b", "r", &files("4")).unwrap();
        let _b3 = s.put("src-b", "r", &files("5")).unwrap();
        assert!(!a1.path.exists(), "no source keeps it any more");
        assert!(b2.path.exists() && a2.path.exists());
        assert_eq!(s.latest("src-a").unwrap(), a3);
        assert!(std::fs::read_dir(root.join("tmp"))
            .unwrap()
            .next()
            .is_none());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn concurrent_readers_see_whole_archives() {
        let root = tmpdir("readers");
        let s = std::sync::Arc::new(Store::open(&root, 1).unwrap());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..3 {
            let s = s.clone();
            let stop = stop.clone();
            readers.push(std::thread::spawn(move || {
                let mut ok = 0;
                while !stop.load(Ordering::Relaxed) {
                    let Some(a) = s.latest("src") else { continue };
                    // Open, then read: a collected file stays readable once open.
                    if let Ok(f) = std::fs::File::open(&a.path) {
                        let files = crate::archive::read_tar_gz(f).expect("whole archive");
                        assert_eq!(files.len(), 1);
                        ok += 1;
                    }
                }
                ok
            }));
        }
        for i in 0..200 {
            s.put("src", "r", &files(&i.to_string())).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
        assert!(reads > 0);
        assert_eq!(
            std::fs::read_dir(root.join("artifacts")).unwrap().count(),
            1
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
