//! The git repository, read and written through gix: revisions, tags, history walks,
//! trees, and new commits and annotated tags made from blobs (no checkout needed).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;
use gix::refs::transaction::PreviousValue;
use gix::ObjectId;

use crate::error::{git, Error, Result};

/// An open repository.
pub struct Repo {
    inner: gix::Repository,
}

/// One commit, decoded.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: ObjectId,
    pub parents: Vec<ObjectId>,
    pub message: String,
    /// Committer time, seconds since the epoch, and its UTC offset in seconds.
    pub time: (i64, i32),
}

impl CommitInfo {
    /// The first line of the message.
    pub fn title(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
    /// Seven hex digits.
    pub fn short(&self) -> String {
        short(&self.id)
    }
}

/// A tag whose name is `<prefix><semver>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTag {
    pub name: String,
    pub version: semver::Version,
    /// The commit the tag points to (peeled).
    pub commit: ObjectId,
}

/// Seven hex digits of an id.
pub fn short(id: &ObjectId) -> String {
    id.to_hex_with_len(7).to_string()
}

/// A file in a tree.
#[derive(Debug, Clone)]
pub struct TreeFile {
    pub path: String,
    pub id: ObjectId,
    pub executable: bool,
}

impl Repo {
    /// Opens the repository containing `path`.
    pub fn open(path: &Path) -> Result<Repo> {
        let inner = gix::discover(path).map_err(git(format!("open {}", path.display())))?;
        Ok(Repo { inner })
    }

    /// The gix handle, for what this wrapper does not cover.
    pub fn gix(&self) -> &gix::Repository {
        &self.inner
    }

    /// The working tree, if any.
    pub fn workdir(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// The working tree, or the git directory of a bare repository.
    pub fn root(&self) -> PathBuf {
        self.workdir().unwrap_or(self.inner.git_dir()).to_path_buf()
    }

    /// The commit a revision names (tags peeled).
    pub fn resolve(&self, rev: &str) -> Result<ObjectId> {
        let id = self
            .inner
            .rev_parse_single(rev)
            .map_err(|_| Error::UnknownRevision(rev.to_string()))?;
        let commit = id
            .object()
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| Error::UnknownRevision(rev.to_string()))?;
        Ok(commit.id)
    }

    /// Whether `refs/<name>` exists (e.g. `tags/v1.0.0`, `heads/main`).
    pub fn has_ref(&self, full_name: &str) -> Result<bool> {
        self.inner
            .try_find_reference(full_name)
            .map(|r| r.is_some())
            .map_err(git(format!("look up {full_name}")))
    }

    /// Every tag named `<prefix><semver>`, highest version first.
    pub fn version_tags(&self, prefix: &str) -> Result<Vec<VersionTag>> {
        let platform = self.inner.references().map_err(git("list tags"))?;
        let mut out = Vec::new();
        for r in platform.tags().map_err(git("list tags"))? {
            let mut r = r.map_err(|e| Error::Git {
                context: "list tags".into(),
                message: e.to_string(),
            })?;
            let name = r.name().shorten().to_string();
            let Some(version) = name
                .strip_prefix(prefix)
                .and_then(|v| semver::Version::parse(v).ok())
            else {
                continue;
            };
            let commit = r
                .peel_to_commit()
                .map_err(git(format!("peel tag {name}")))?
                .id;
            out.push(VersionTag {
                name,
                version,
                commit,
            });
        }
        out.sort_by(|a, b| b.version.cmp(&a.version));
        Ok(out)
    }

    /// The highest version tag on a commit reachable from `to` (`to` included).
    pub fn last_tag(&self, to: ObjectId, prefix: &str) -> Result<Option<VersionTag>> {
        let reachable = self.reachable(&[to])?;
        Ok(self
            .version_tags(prefix)?
            .into_iter()
            .find(|t| reachable.contains(&t.commit)))
    }

    /// Reads one commit.
    pub fn commit(&self, id: ObjectId) -> Result<CommitInfo> {
        let c = self
            .inner
            .find_commit(id)
            .map_err(git(format!("read commit {}", short(&id))))?;
        let message = c
            .message_raw()
            .map_err(git(format!("read commit {}", short(&id))))?
            .to_str_lossy()
            .into_owned();
        let time = c
            .time()
            .map_err(git(format!("read commit {}", short(&id))))?;
        Ok(CommitInfo {
            id,
            parents: c.parent_ids().map(|p| p.detach()).collect(),
            message,
            time: (time.seconds, time.offset),
        })
    }

    /// Every commit reachable from `tips`, tips included.
    pub fn reachable(&self, tips: &[ObjectId]) -> Result<HashSet<ObjectId>> {
        let mut seen: HashSet<ObjectId> = HashSet::new();
        let mut queue: VecDeque<ObjectId> = tips.iter().copied().collect();
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id) {
                continue;
            }
            queue.extend(self.commit(id)?.parents);
        }
        Ok(seen)
    }

    /// Commits reachable from `tip` and not in `hidden`, newest first (by committer time,
    /// then parents after children).
    pub fn walk_excluding(
        &self,
        tip: ObjectId,
        hidden: &HashSet<ObjectId>,
    ) -> Result<Vec<CommitInfo>> {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([tip]);
        let mut out = Vec::new();
        while let Some(id) = queue.pop_front() {
            if hidden.contains(&id) || !seen.insert(id) {
                continue;
            }
            let c = self.commit(id)?;
            queue.extend(c.parents.iter().copied());
            out.push(c);
        }
        // Stable sort: newest first; the breadth-first order breaks ties.
        out.sort_by_key(|c| std::cmp::Reverse(c.time.0));
        Ok(out)
    }

    /// Whether the tracked files differ from HEAD (in the index or the working tree).
    /// Untracked files do not count.
    pub fn is_dirty(&self) -> Result<bool> {
        self.inner.is_dirty().map_err(git("status"))
    }

    /// Every file in the tree of `commit`, with its path.
    pub fn files_at(&self, commit: ObjectId) -> Result<Vec<TreeFile>> {
        let tree = self.tree_of(commit)?;
        let mut out = Vec::new();
        let mut stack = vec![(String::new(), tree)];
        while let Some((prefix, tree_id)) = stack.pop() {
            let tree = self
                .inner
                .find_tree(tree_id)
                .map_err(git(format!("read tree {}", short(&tree_id))))?;
            let decoded = tree
                .decode()
                .map_err(git(format!("decode tree {}", short(&tree_id))))?;
            for e in &decoded.entries {
                let path = format!("{prefix}{}", e.filename.to_str_lossy());
                if e.mode.is_tree() {
                    stack.push((format!("{path}/"), e.oid.to_owned()));
                } else if e.mode.is_blob() {
                    out.push(TreeFile {
                        path,
                        id: e.oid.to_owned(),
                        executable: e.mode.is_executable(),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The bytes of a blob.
    /// The YAML files (`.yaml`/`.yml`, valid UTF-8) at `commit` whose text contains
    /// `needle`, as (path, text): the cheap pre-filter before parsing manifests.
    pub fn yaml_files_containing(
        &self,
        commit: ObjectId,
        needle: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for f in self.files_at(commit)? {
            if !(f.path.ends_with(".yaml") || f.path.ends_with(".yml")) {
                continue;
            }
            let Ok(text) = String::from_utf8(self.blob(f.id)?) else {
                continue;
            };
            if text.contains(needle) {
                out.push((f.path, text));
            }
        }
        Ok(out)
    }

    pub fn blob(&self, id: ObjectId) -> Result<Vec<u8>> {
        let blob = self
            .inner
            .find_blob(id)
            .map_err(git(format!("read blob {}", short(&id))))?;
        Ok(blob.data.clone())
    }

    /// The bytes of `path` at `commit`, or `None` when there is no such file.
    pub fn file_at(&self, commit: ObjectId, path: &str) -> Result<Option<Vec<u8>>> {
        let tree = self
            .inner
            .find_tree(self.tree_of(commit)?)
            .map_err(git("read tree"))?;
        let entry = tree
            .lookup_entry_by_path(path)
            .map_err(git(format!("look up {path}")))?;
        match entry {
            Some(e) if e.mode().is_blob() => Ok(Some(self.blob(e.object_id())?)),
            _ => Ok(None),
        }
    }

    fn tree_of(&self, commit: ObjectId) -> Result<ObjectId> {
        let c = self
            .inner
            .find_commit(commit)
            .map_err(git(format!("read commit {}", short(&commit))))?;
        Ok(c.tree_id()
            .map_err(git(format!("read commit {}", short(&commit))))?
            .detach())
    }

    /// Writes a commit whose tree is `parent`'s with `files` replaced (path → new bytes),
    /// and points `reference` at it (`"HEAD"` writes through to the current branch; a
    /// reference that does not exist yet is created). Returns the new commit.
    pub fn commit_files(
        &self,
        reference: &str,
        parent: ObjectId,
        files: &BTreeMap<String, Vec<u8>>,
        message: &str,
    ) -> Result<ObjectId> {
        let mut editor = self
            .inner
            .edit_tree(self.tree_of(parent)?)
            .map_err(git("edit tree"))?;
        for (path, bytes) in files {
            let blob = self
                .inner
                .write_blob(bytes)
                .map_err(git(format!("write {path}")))?;
            editor
                .upsert(
                    path.as_str(),
                    gix::objs::tree::EntryKind::Blob,
                    blob.detach(),
                )
                .map_err(git(format!("add {path} to the tree")))?;
        }
        let tree = editor.write().map_err(git("write tree"))?.detach();
        let id = self
            .inner
            .commit(reference, message, tree, [parent])
            .map_err(git(format!("commit to {reference}")))?;
        Ok(id.detach())
    }

    /// Creates the annotated tag `name` on `target` with `message`; fails if it exists.
    pub fn create_tag(&self, name: &str, target: ObjectId, message: &str) -> Result<()> {
        let tagger = self
            .inner
            .committer()
            .ok_or_else(|| Error::Git {
                context: format!("tag {name}"),
                message: "no committer identity: set user.name and user.email".into(),
            })?
            .map_err(git(format!("tag {name}")))?;
        self.inner
            .tag(
                name,
                target,
                gix::objs::Kind::Commit,
                Some(tagger),
                message,
                PreviousValue::MustNotExist,
            )
            .map_err(git(format!("tag {name}")))?;
        Ok(())
    }

    /// After a commit on HEAD that replaced `files`: writes them to the working tree and
    /// points their index entries at the new blobs, so the checkout is clean again.
    pub fn sync_worktree(&self, files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
        let Some(workdir) = self.workdir() else {
            return Ok(());
        };
        for (path, bytes) in files {
            let full = workdir.join(path);
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir).map_err(crate::error::io(dir))?;
            }
            std::fs::write(&full, bytes).map_err(crate::error::io(&full))?;
        }
        // Rebuild the index from the new HEAD tree: entries carry no stat data, so git
        // re-hashes them on the next status and finds them unchanged.
        let head = self.inner.head_id().map_err(git("read HEAD"))?.detach();
        let tree = self.tree_of(head)?;
        let mut index = self
            .inner
            .index_from_tree(&tree)
            .map_err(git("build the index"))?;
        index
            .write(gix::index::write::Options::default())
            .map_err(git("write the index"))?;
        Ok(())
    }
}

/// `YYYY-MM-DD` of a commit time in its own offset.
pub fn date(time: (i64, i32)) -> String {
    let days = (time.0 + i64::from(time.1)).div_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date((0, 0)), "1970-01-01");
        assert_eq!(date((1_714_521_600, 0)), "2024-05-01");
        assert_eq!(date((1_714_521_600, -3600)), "2024-04-30");
        assert_eq!(date((951_782_400, 0)), "2000-02-29");
    }
}
