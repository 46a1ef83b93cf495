//! A commit's tree written out to a temporary directory (removed on drop), for the
//! renderer, which reads files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use gix::ObjectId;

use crate::error::{io, Result};
use crate::repo::Repo;

/// An extracted tree.
pub struct Extracted {
    dir: PathBuf,
}

impl Extracted {
    /// Writes every file of `commit`'s tree below a new temporary directory.
    pub fn new(repo: &Repo, commit: ObjectId) -> Result<Extracted> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "flotilla-diff-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            crate::repo::short(&commit)
        ));
        let out = Extracted { dir };
        std::fs::create_dir_all(&out.dir).map_err(io(&out.dir))?;
        for f in repo.files_at(commit)? {
            let path = out.dir.join(&f.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, repo.blob(f.id)?).map_err(io(&path))?;
        }
        Ok(out)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Extracted {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
