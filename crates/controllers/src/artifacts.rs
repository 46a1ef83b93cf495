//! Unpacked artifacts: each stored archive (by digest) is extracted once, atomically, under
//! `<data>/artifacts/<hex>/`, and shared by every Kustomization that renders from it.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::ControllerError;

/// The extraction cache.
pub struct Unpacked {
    root: PathBuf,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Unpacked {
    /// A cache under `root`.
    pub fn new(root: PathBuf) -> Unpacked {
        Unpacked {
            root,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The directory holding the unpacked archive `archive` of digest `digest`
    /// (`sha256:<hex>`), extracting it first when needed.
    pub async fn dir(&self, digest: &str, archive: &Path) -> Result<PathBuf, ControllerError> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ControllerError::Artifact(format!(
                "invalid artifact digest '{digest}'"
            )));
        }
        let dir = self.root.join(hex);
        if dir.is_dir() {
            return Ok(dir);
        }
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(hex.to_string()).or_default().clone()
        };
        let _guard = lock.lock().await;
        if dir.is_dir() {
            return Ok(dir);
        }
        let archive = archive.to_path_buf();
        let target = dir.clone();
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || extract(&archive, &root, &target))
            .await
            .map_err(|e| ControllerError::Artifact(format!("extraction task: {e}")))??;
        self.collect_garbage();
        Ok(dir)
    }

    /// Removes all but the [`KEEP`] most recently unpacked artifacts (a source that moves
    /// on leaves its old revisions behind; a Kustomization still reading one retries).
    fn collect_garbage(&self) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if dirs.len() <= KEEP {
            return;
        }
        dirs.sort();
        for (_, path) in &dirs[..dirs.len() - KEEP] {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// How many unpacked artifacts are kept.
const KEEP: usize = 16;

fn extract(archive: &Path, root: &Path, target: &Path) -> Result<(), ControllerError> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        ControllerError::Artifact(format!("{what} {}: {e}", p.display()))
    };
    std::fs::create_dir_all(root).map_err(|e| io("creating", root, e))?;
    let file = std::fs::File::open(archive).map_err(|e| io("opening artifact", archive, e))?;
    let files = flotilla_source::archive::read_tar_gz(std::io::BufReader::new(file))
        .map_err(|e| io("reading artifact", archive, e))?;
    let tmp = root.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    flotilla_source::archive::extract(&files, &tmp).map_err(|e| io("unpacking into", &tmp, e))?;
    match std::fs::rename(&tmp, target) {
        Ok(()) => Ok(()),
        Err(_) if target.is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => Err(io("moving into place", target, e)),
    }
}
