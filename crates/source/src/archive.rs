//! From a commit to artifact contents: the files of the tree (symlinks inside the tree
//! resolved, submodules optionally filled in), sparse directories, includes, ignore rules,
//! and the canonical archive.
//!
//! The archive is a gzip'd tar with entries sorted by path, regular files only (mode 0644 or
//! 0755), owner 0:0, mtime 0, no user names, directories implied — so the same tree always
//! gives the same bytes, and the artifact digest is `sha256:` of those bytes.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use crate::error::SourceError;
use crate::ignore::{read_patterns, Matcher, IGNORE_FILE};

/// One file of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Slash-separated path relative to the root.
    pub path: String,
    /// True for executables (mode 0755).
    pub executable: bool,
    /// Contents.
    pub data: Vec<u8>,
}

/// Files keyed by path, in canonical (byte) order.
pub type Files = BTreeMap<String, FileEntry>;

/// A submodule found in a tree: its path, the pinned commit and its URL from `.gitmodules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submodule {
    /// Path in the parent tree.
    pub path: String,
    /// Pinned commit.
    pub commit: gix::ObjectId,
    /// URL from `.gitmodules` (`None` when absent).
    pub url: Option<String>,
}

fn corrupt(url: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::Corrupt {
        url: crate::error::redact_url(url),
        reason: crate::error::one_line(&e.to_string()),
    }
}

/// Reads the files of `commit`'s tree, restricted to `sparse` directories when given.
/// Submodule entries are returned separately.
pub fn tree_files(
    repo: &gix::Repository,
    url: &str,
    commit: gix::ObjectId,
    sparse: &[String],
) -> Result<(Files, Vec<Submodule>), SourceError> {
    let commit = repo.find_commit(commit).map_err(|e| corrupt(url, e))?;
    let tree = commit.tree_id().map_err(|e| corrupt(url, e))?;
    let mut files = Files::new();
    let mut links = Vec::new();
    let mut gitlinks = Vec::new();
    walk(
        repo,
        url,
        tree.detach(),
        "",
        &mut files,
        &mut links,
        &mut gitlinks,
    )?;
    // Symlinks pointing at files inside the tree become copies; others are dropped.
    for (path, target) in links {
        if let Some(resolved) = resolve_link(&path, &target) {
            if let Some(f) = files.get(&resolved).cloned() {
                files.insert(path.clone(), FileEntry { path, ..f });
            }
        }
    }
    let mut subs = Vec::new();
    if !gitlinks.is_empty() {
        let urls = files
            .get(".gitmodules")
            .map(|f| submodule_urls(&f.data))
            .unwrap_or_default();
        for (path, commit) in gitlinks {
            let url = urls.get(&path).cloned();
            subs.push(Submodule { path, commit, url });
        }
    }
    if !sparse.is_empty() {
        for dir in sparse {
            let d = dir.trim_matches('/');
            let present = files.keys().any(|p| p.starts_with(&format!("{d}/")))
                || subs
                    .iter()
                    .any(|s| s.path == d || s.path.starts_with(&format!("{d}/")));
            if !present {
                return Err(SourceError::InvalidSpec(format!(
                    "sparse checkout dir '{dir}' does not exist in repository"
                )));
            }
        }
        let keep = |p: &str| {
            !p.contains('/')
                || sparse
                    .iter()
                    .any(|d| p.starts_with(&format!("{}/", d.trim_matches('/'))))
        };
        files.retain(|p, _| keep(p));
        subs.retain(|s| keep(&s.path));
    }
    Ok((files, subs))
}

fn walk(
    repo: &gix::Repository,
    url: &str,
    tree: gix::ObjectId,
    prefix: &str,
    files: &mut Files,
    links: &mut Vec<(String, String)>,
    gitlinks: &mut Vec<(String, gix::ObjectId)>,
) -> Result<(), SourceError> {
    use gix::object::tree::EntryKind;
    let tree = repo.find_tree(tree).map_err(|e| corrupt(url, e))?;
    let decoded = tree.decode().map_err(|e| corrupt(url, e))?;
    for entry in &decoded.entries {
        let name = entry.filename.to_string();
        let path = format!("{prefix}{name}");
        match entry.mode.kind() {
            EntryKind::Tree => walk(
                repo,
                url,
                entry.oid.to_owned(),
                &format!("{path}/"),
                files,
                links,
                gitlinks,
            )?,
            EntryKind::Blob | EntryKind::BlobExecutable => {
                let mut blob = repo.find_blob(entry.oid).map_err(|e| corrupt(url, e))?;
                files.insert(
                    path.clone(),
                    FileEntry {
                        path,
                        executable: entry.mode.kind() == EntryKind::BlobExecutable,
                        data: blob.take_data(),
                    },
                );
            }
            EntryKind::Link => {
                let blob = repo.find_blob(entry.oid).map_err(|e| corrupt(url, e))?;
                links.push((path, String::from_utf8_lossy(&blob.data).into_owned()));
            }
            EntryKind::Commit => gitlinks.push((path, entry.oid.to_owned())),
        }
    }
    Ok(())
}

/// Resolves a relative symlink target against the link's directory; `None` if it leaves
/// the tree or is absolute.
fn resolve_link(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// `submodule.<name>.path` → `submodule.<name>.url` from `.gitmodules` text.
fn submodule_urls(text: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(file) = gix::config::File::from_bytes_no_includes(
        text,
        gix::config::file::Metadata::from(gix::config::Source::Local),
        Default::default(),
    ) else {
        return out;
    };
    if let Some(sections) = file.sections_by_name("submodule") {
        for s in sections {
            let path = s.value("path").map(|v| v.to_string());
            let url = s.value("url").map(|v| v.to_string());
            if let (Some(p), Some(u)) = (path, url) {
                out.insert(p, u);
            }
        }
    }
    out
}

/// Places `sub` (another tree's files) at `at`.
pub fn graft(files: &mut Files, at: &str, sub: Files) {
    let at = at.trim_matches('/');
    for (p, f) in sub {
        let path = if at.is_empty() {
            p
        } else {
            format!("{at}/{p}")
        };
        files.insert(path.clone(), FileEntry { path, ..f });
    }
}

/// Copies `from_path` of an included artifact to `to_path` (Flux's `include`), replacing
/// what is there.
pub fn include(files: &mut Files, included: &Files, from_path: &str, to_path: &str) {
    let from = from_path.trim_matches('/');
    let to = to_path.trim_matches('/');
    if !to.is_empty() {
        let under = format!("{to}/");
        files.retain(|p, _| p != to && !p.starts_with(&under));
    }
    for (p, f) in included {
        let rest = if from.is_empty() {
            Some(p.as_str())
        } else {
            p.strip_prefix(&format!("{from}/"))
        };
        if let Some(rest) = rest {
            let path = if to.is_empty() {
                rest.to_string()
            } else {
                format!("{to}/{rest}")
            };
            files.insert(path.clone(), FileEntry { path, ..f.clone() });
        }
    }
}

/// Applies Flux's ignore rules: `.sourceignore` files found in the tree (root first, then
/// directories in name order) and `spec.ignore`, or the defaults when there are neither.
pub fn apply_ignore(files: &mut Files, spec_ignore: Option<&str>) {
    let mut patterns = Vec::new();
    // BTreeMap order puts "a/.sourceignore" before "a/b/.sourceignore"; the root file
    // (no '/') must come first.
    let mut ignore_files: Vec<&FileEntry> = files
        .values()
        .filter(|f| f.path == IGNORE_FILE || f.path.ends_with(&format!("/{IGNORE_FILE}")))
        .collect();
    ignore_files.sort_by_key(|f| (f.path.matches('/').count() > 0, f.path.clone()));
    for f in ignore_files {
        let domain: Vec<String> = f
            .path
            .rsplit_once('/')
            .map(|(d, _)| d.split('/').map(str::to_string).collect())
            .unwrap_or_default();
        patterns.extend(read_patterns(&String::from_utf8_lossy(&f.data), &domain));
    }
    if let Some(spec) = spec_ignore {
        patterns.extend(read_patterns(spec, &[]));
    }
    let matcher = Matcher::flux(patterns);
    files.retain(|p, _| !matcher.is_excluded(p, false));
}

/// Writes the canonical archive of `files` to `w`.
pub fn write_tar_gz(files: &Files, w: impl Write) -> std::io::Result<()> {
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(w, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for f in files.values() {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(f.data.len() as u64);
        h.set_mode(if f.executable { 0o755 } else { 0o644 });
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        tar.append_data(&mut h, &f.path, f.data.as_slice())?;
    }
    tar.into_inner()?.finish()?.flush()
}

/// Reads an archive written by [`write_tar_gz`] (or any tar.gz of regular files).
pub fn read_tar_gz(r: impl Read) -> std::io::Result<Files> {
    let mut files = Files::new();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(r));
    for entry in ar.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if path.split('/').any(|s| s == "..") || path.starts_with('/') {
            continue;
        }
        let executable = entry.header().mode()? & 0o111 != 0;
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        files.insert(
            path.clone(),
            FileEntry {
                path,
                executable,
                data,
            },
        );
    }
    Ok(files)
}

/// Writes `files` below `dir` (created as needed).
pub fn extract(files: &Files, dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for f in files.values() {
        let target = dir.join(&f.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &f.data)?;
        let mode = if f.executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fe(p: &str, d: &str) -> (String, FileEntry) {
        (
            p.to_string(),
            FileEntry {
                path: p.into(),
                executable: false,
                data: d.as_bytes().to_vec(),
            },
        )
    }

    #[test]
    fn archive_is_canonical_and_round_trips() {
        let files: Files = [
            fe("b.yaml", "b"),
            fe("a/x.yaml", "x"),
            fe(&format!("{}long.yaml", "d/".repeat(60)), "l"),
        ]
        .into_iter()
        .collect();
        let mut one = Vec::new();
        write_tar_gz(&files, &mut one).unwrap();
        let mut two = Vec::new();
        let rev: Files = files.clone().into_iter().rev().collect();
        write_tar_gz(&rev, &mut two).unwrap();
        assert_eq!(one, two);
        assert_eq!(read_tar_gz(one.as_slice()).unwrap(), files);
    }

    #[test]
    fn links_resolve_inside_only() {
        assert_eq!(resolve_link("a/b/l", "../c"), Some("a/c".into()));
        assert_eq!(resolve_link("l", "../../etc/passwd"), None);
        assert_eq!(resolve_link("l", "/etc/passwd"), None);
    }

    #[test]
    fn include_replaces_target_dir() {
        let mut files: Files = [fe("app/a.yaml", "a"), fe("vendor/old.yaml", "o")]
            .into_iter()
            .collect();
        let inc: Files = [fe("deploy/x.yaml", "x"), fe("README.md", "r")]
            .into_iter()
            .collect();
        include(&mut files, &inc, "deploy", "vendor");
        assert!(files.contains_key("vendor/x.yaml"));
        assert!(!files.contains_key("vendor/old.yaml"));
        assert!(!files.contains_key("vendor/README.md"));
        assert!(files.contains_key("app/a.yaml"));
    }

    #[test]
    fn sourceignore_scoped_to_its_directory() {
        let mut files: Files = [
            fe("apps/.sourceignore", "*.txt\n"),
            fe("apps/n.txt", ""),
            fe("n.txt", ""),
            fe("logo.png", ""),
        ]
        .into_iter()
        .collect();
        apply_ignore(&mut files, None);
        assert!(!files.contains_key("apps/n.txt"));
        assert!(files.contains_key("n.txt"));
        // A .sourceignore replaces the defaults, as in Flux.
        assert!(files.contains_key("logo.png"));
        let mut d: Files = [fe("logo.png", ""), fe(".gitignore", "")]
            .into_iter()
            .collect();
        apply_ignore(&mut d, None);
        assert!(d.is_empty());
    }
}
