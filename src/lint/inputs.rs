//! The inputs of `check` and `fix`: files, directories searched recursively for manifests (in
//! sorted order, so output is stable), and `-` for stdin. Directories come from pull requests:
//! symbolic links found in them are skipped unless `--follow` is given, and followed ones are
//! searched once each (by device and inode), so a link loop neither repeats files nor hangs.
//! What `--exclude` matches inside a directory is left out, an excluded directory unsearched;
//! paths named on the command line are always read, as ripgrep reads them.

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::InputError;
use super::exclude::Exclude;

/// Where an input's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

/// One input, with the name reports use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The path as given or found, or `-`.
    pub name: String,
    /// Where to read it.
    pub source: Source,
}

/// What to do with symbolic links found while searching a directory. Links named on the
/// command line are always followed, as every Unix tool does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Symlinks {
    /// Leave them out, with a note for those that lead to a directory or carry a manifest's
    /// name: a link in a checked-out pull request can point anywhere on the machine.
    #[default]
    Skip,
    /// Follow them (`--follow`), each directory searched and each file taken once.
    Follow,
}

/// What a run reads: the command line's paths, and how the directories among them are
/// searched.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// Files, directories and `-`.
    pub paths: &'a [PathBuf],
    /// What to do with links found in directories.
    pub symlinks: Symlinks,
    /// What to leave out of directories.
    pub exclude: &'a Exclude,
}

/// The inputs of a run and what was left out of it.
#[derive(Debug, Default)]
pub struct Collected {
    /// The inputs, each file once, in command-line order then sorted directory order.
    pub inputs: Vec<Input>,
    /// Paths that could not be used.
    pub errors: Vec<InputError>,
    /// What was left unchecked on purpose (`path: skipped: why`), one line each. Files and
    /// directories reached twice are checked once, without a note: nothing goes unchecked.
    pub notes: Vec<String>,
}

/// A file or directory's identity: the same for every path that leads to it.
type Identity = (u64, u64);

fn identity(metadata: &std::fs::Metadata) -> Identity {
    (metadata.dev(), metadata.ino())
}

fn is_manifest(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

/// How reports name a path found under a directory: `check .` names files as `routes/a.yaml`,
/// not `./routes/a.yaml`.
fn display_name(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

/// Collects inputs, remembering the files taken so far.
struct Collector<'a> {
    symlinks: Symlinks,
    exclude: &'a Exclude,
    /// Manifests left out by `--exclude` in the directory being searched.
    excluded: usize,
    taken: HashSet<Identity>,
    collected: Collected,
}

impl Collector<'_> {
    /// Adds a file unless the same file is already an input (named twice, or reached again
    /// through a link): it is checked once, under its first name.
    fn take(&mut self, name: String, path: PathBuf, metadata: &std::fs::Metadata) {
        if self.taken.insert(identity(metadata)) {
            self.collected.inputs.push(Input {
                name,
                source: Source::File(path),
            });
        }
    }

    /// The entries of a directory, sorted; an unreadable one is an error naming it.
    fn entries(&mut self, dir: &Path) -> Vec<PathBuf> {
        let listed = std::fs::read_dir(dir).and_then(|entries| {
            entries
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<Vec<_>, _>>()
        });
        match listed {
            Ok(mut entries) => {
                entries.sort();
                entries
            }
            Err(e) => {
                self.collected.errors.push(InputError::file(
                    &display_name(dir),
                    format!("cannot read directory: {e}"),
                ));
                Vec::new()
            }
        }
    }

    /// Whether `--exclude` leaves out the entry at `path` (in the directory searched from
    /// `root`), a directory if `is_dir`.
    fn is_excluded(&mut self, root: &Path, path: &Path, is_dir: bool) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let relative = path.strip_prefix(root).unwrap_or(path);
        let components: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let components: Vec<&str> = components.iter().map(String::as_str).collect();
        let excluded = self.exclude.excludes(&components, is_dir);
        self.excluded += usize::from(excluded && (is_dir || is_manifest(path)));
        excluded
    }

    /// What an entry found in a directory searched from `root` is, after its link if links
    /// are followed; `None` when it is left out.
    fn resolve(&mut self, root: &Path, path: &Path) -> Option<std::fs::Metadata> {
        let name = display_name(path);
        let metadata = match std::fs::symlink_metadata(path) {
            Ok(metadata) => metadata,
            Err(e) => {
                self.collected
                    .errors
                    .push(InputError::file(&name, format!("cannot read: {e}")));
                return None;
            }
        };
        if !metadata.file_type().is_symlink() {
            return (!self.is_excluded(root, path, metadata.is_dir())).then_some(metadata);
        }
        let target = std::fs::metadata(path);
        // An excluded link is left out without a note, whatever it leads to.
        let leads_to_dir = target.as_ref().is_ok_and(|t| t.is_dir());
        if self.is_excluded(root, path, leads_to_dir) {
            return None;
        }
        match self.symlinks {
            Symlinks::Skip => {
                // Noted when it could hold manifests: what it leads to goes unchecked.
                if is_manifest(path) || leads_to_dir {
                    self.collected.notes.push(format!(
                        "{name}: skipped: symbolic link (--follow follows links)"
                    ));
                }
                None
            }
            Symlinks::Follow => match target {
                Ok(target) => Some(target),
                Err(e) => {
                    // A dangling link that is not named like a manifest is no input.
                    if is_manifest(path) {
                        self.collected.errors.push(InputError::file(
                            &name,
                            format!("cannot read: symbolic link to nothing: {e}"),
                        ));
                    }
                    None
                }
            },
        }
    }

    /// Searches a directory depth first in sorted order, each directory once (a followed link
    /// back up, or a second link to the same place, is not searched again), without recursion
    /// so that no tree is too deep for the stack. Returns the manifests found, taken before
    /// or not.
    fn search(&mut self, dir: &Path, metadata: &std::fs::Metadata) -> usize {
        let mut searched = HashSet::from([identity(metadata)]);
        let mut found = 0;
        let mut pending = vec![self.entries(dir).into_iter()];
        while let Some(entries) = pending.last_mut() {
            let Some(path) = entries.next() else {
                pending.pop();
                continue;
            };
            let Some(metadata) = self.resolve(dir, &path) else {
                continue;
            };
            if metadata.is_dir() {
                if searched.insert(identity(&metadata)) {
                    pending.push(self.entries(&path).into_iter());
                }
            } else if is_manifest(&path) {
                if metadata.is_file() {
                    found += 1;
                    self.take(display_name(&path), path, &metadata);
                } else {
                    // A FIFO or a device named like a manifest would block or never end.
                    self.collected
                        .errors
                        .push(InputError::file(&display_name(&path), "not a regular file"));
                }
            }
        }
        found
    }
}

/// Expands the command line's paths into inputs; what cannot be used is an error naming it.
/// `exclude` applies inside the directories named, to paths relative to each.
pub fn collect(paths: &[PathBuf], symlinks: Symlinks, exclude: &Exclude) -> Collected {
    let mut collector = Collector {
        symlinks,
        exclude,
        excluded: 0,
        taken: HashSet::new(),
        collected: Collected::default(),
    };
    for path in paths {
        let name = path.display().to_string();
        if name == "-" {
            collector.collected.inputs.push(Input {
                name,
                source: Source::Stdin,
            });
            continue;
        }
        // Named on the command line: followed if a link.
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(e) => {
                let message = if e.kind() == std::io::ErrorKind::NotFound {
                    "no such file or directory".to_string()
                } else {
                    format!("cannot read: {e}")
                };
                collector
                    .collected
                    .errors
                    .push(InputError::file(&name, message));
                continue;
            }
        };
        if !metadata.is_dir() {
            // Named files are read whatever they are: `<(...)` gives a pipe.
            collector.take(name, path.clone(), &metadata);
            continue;
        }
        let errors = collector.collected.errors.len();
        collector.excluded = 0;
        if collector.search(path, &metadata) == 0 && collector.collected.errors.len() == errors {
            // Nothing to check is a mistake, an --exclude that leaves nothing too.
            let message = if collector.excluded > 0 {
                "no *.yaml, *.yml or *.json files in this directory outside --exclude"
            } else {
                "no *.yaml, *.yml or *.json files in this directory"
            };
            collector
                .collected
                .errors
                .push(InputError::file(&name, message));
        }
    }
    collector.collected
}

/// Reads an input as UTF-8 text.
pub fn read(input: &Input) -> Result<String, InputError> {
    let bytes = match &input.source {
        Source::Stdin => {
            let mut buffer = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buffer)
                .map_err(|e| InputError::file(&input.name, format!("cannot read: {e}")))?;
            buffer
        }
        Source::File(path) => std::fs::read(path)
            .map_err(|e| InputError::file(&input.name, format!("cannot read: {e}")))?,
    };
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        InputError {
            file: input.name.clone(),
            line: Some(line),
            column: Some(column),
            message: "not UTF-8 text".into(),
        }
    })
}

/// Replaces a file's contents atomically: a temporary file beside it, then a rename. A symbolic
/// link is written through: the file it leads to is replaced, and the link stays a link.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or(Path::new("/"));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (temp, mut file) = create_temporary(dir, &name)?;
    let written = std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| {
            let permissions = std::fs::metadata(&target)?.permissions();
            std::fs::set_permissions(&temp, permissions)
        })
        .and_then(|()| std::fs::rename(&temp, &target));
    written.inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// A new file in `dir` for the text replacing `name`. Created exclusively: a file or link
/// already there under that name (a checkout can hold anything) is never opened or written.
fn create_temporary(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut attempt = 0;
    loop {
        let temp = dir.join(format!(
            ".{name}.meshgate-{}-{attempt}.tmp",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_searched_in_order_and_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        for file in ["b/c/z.yaml", "b/a.yml", "a.json", "notes.txt"] {
            std::fs::write(dir.path().join(file), "{}").unwrap();
        }
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        let Collected {
            inputs,
            errors,
            notes,
        } = collect(
            &[
                dir.path().to_path_buf(),
                dir.path().join("empty"),
                dir.path().join("nope.yaml"),
            ],
            Symlinks::Skip,
            &Exclude::default(),
        );
        assert!(notes.is_empty(), "{notes:?}");
        let names: Vec<String> = inputs
            .iter()
            .map(|i| {
                i.name
                    .strip_prefix(&dir.path().display().to_string())
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["/a.json", "/b/a.yml", "/b/c/z.yaml"]);
        assert_eq!(errors.len(), 2);
        assert!(errors[0].message.contains("no *.yaml"));
        assert!(errors[1].message.contains("no such file"));
    }

    /// The names of the inputs and the notes, relative to `dir`.
    fn relative(dir: &Path, collected: &Collected) -> (Vec<String>, Vec<String>) {
        let prefix = format!("{}/", dir.display());
        let names = collected
            .inputs
            .iter()
            .map(|i| i.name.replace(&prefix, ""))
            .collect();
        let notes = collected
            .notes
            .iter()
            .map(|n| n.replace(&prefix, ""))
            .collect();
        (names, notes)
    }

    #[test]
    fn links_found_in_directories_are_skipped_unless_followed_and_loops_end() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("base")).unwrap();
        std::fs::write(root.join("base/a.yaml"), "{}").unwrap();
        std::fs::write(dir.path().join("outside.yaml"), "{}").unwrap();
        symlink(".", root.join("base/loop")).unwrap();
        symlink("..", root.join("base/up")).unwrap();
        symlink("base", root.join("overlay")).unwrap();
        symlink("base/a.yaml", root.join("same.yaml")).unwrap();
        symlink("../outside.yaml", root.join("out.yaml")).unwrap();
        symlink("README.md", root.join("notes")).unwrap();

        let skipped = collect(
            std::slice::from_ref(&root),
            Symlinks::Skip,
            &Exclude::default(),
        );
        assert!(skipped.errors.is_empty(), "{:?}", skipped.errors);
        let link = "skipped: symbolic link (--follow follows links)";
        assert_eq!(
            relative(dir.path(), &skipped),
            (
                vec!["tree/base/a.yaml".to_string()],
                vec![
                    format!("tree/base/loop: {link}"),
                    format!("tree/base/up: {link}"),
                    format!("tree/out.yaml: {link}"),
                    format!("tree/overlay: {link}"),
                    format!("tree/same.yaml: {link}"),
                ]
            ),
            "a dangling link not named like a manifest is no input at all"
        );

        let followed = collect(
            std::slice::from_ref(&root),
            Symlinks::Follow,
            &Exclude::default(),
        );
        assert!(followed.errors.is_empty(), "{:?}", followed.errors);
        assert_eq!(
            relative(dir.path(), &followed),
            (
                vec!["tree/base/a.yaml".to_string(), "tree/out.yaml".to_string()],
                vec![]
            ),
            "the loops, the second link to base and the second name of a.yaml are left out"
        );
    }

    #[test]
    fn followed_links_that_lead_nowhere_or_to_devices_are_errors() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        symlink("missing.yaml", dir.path().join("dangling.yaml")).unwrap();
        symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
        std::fs::write(dir.path().join("ok.yaml"), "{}").unwrap();
        let followed = collect(
            &[dir.path().to_path_buf()],
            Symlinks::Follow,
            &Exclude::default(),
        );
        let errors: Vec<String> = followed
            .errors
            .iter()
            .map(|e| {
                e.to_string()
                    .replace(&format!("{}/", dir.path().display()), "")
            })
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("dangling.yaml: cannot read: symbolic link to nothing:"),
            "{errors:?}"
        );
        assert_eq!(errors[1], "zero.yaml: not a regular file");
        assert_eq!(followed.inputs.len(), 1);
    }

    #[test]
    fn excluded_entries_are_left_out_and_excluded_directories_not_searched() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        for sub in ["charts/c", "overlays/dev", "overlays/prod", "base"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        for file in [
            "base/a.yaml",
            "base/a.tpl.yaml",
            "overlays/dev/d.yaml",
            "overlays/prod/p.yaml",
            "charts/c/x.yaml",
        ] {
            std::fs::write(root.join(file), "{}").unwrap();
        }
        // Were charts/ searched, this would be an error: a device named like a manifest.
        symlink("/dev/zero", root.join("charts/zero.yaml")).unwrap();
        let patterns = ["charts/", "*.tpl.yaml", "overlays/dev/*"];
        let exclude = Exclude::new(patterns.iter().map(|p| p.parse().unwrap()).collect()).unwrap();
        let collected = collect(std::slice::from_ref(&root), Symlinks::Follow, &exclude);
        assert!(collected.errors.is_empty(), "{:?}", collected.errors);
        assert_eq!(
            relative(dir.path(), &collected),
            (
                vec![
                    "repo/base/a.yaml".to_string(),
                    "repo/overlays/prod/p.yaml".to_string()
                ],
                vec![]
            )
        );
        // Named on the command line, an excluded file or directory is read all the same.
        let named = collect(
            &[root.join("base/a.tpl.yaml"), root.join("overlays/dev")],
            Symlinks::Skip,
            &exclude,
        );
        assert_eq!(
            relative(dir.path(), &named).0,
            ["repo/base/a.tpl.yaml", "repo/overlays/dev/d.yaml"]
        );
        // A directory whose every manifest is excluded is a mistake, said so.
        let everything = Exclude::new(vec!["*.yaml".parse().unwrap()]).unwrap();
        let none = collect(&[root.join("base")], Symlinks::Skip, &everything);
        assert_eq!(
            none.errors[0].message,
            "no *.yaml, *.yml or *.json files in this directory outside --exclude"
        );
    }

    #[test]
    fn a_file_named_twice_is_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "{}").unwrap();
        let collected = collect(
            &[file.clone(), dir.path().to_path_buf()],
            Symlinks::Skip,
            &Exclude::default(),
        );
        assert_eq!(
            relative(dir.path(), &collected),
            (vec!["a.yaml".to_string()], vec![])
        );
        assert!(collected.errors.is_empty(), "{:?}", collected.errors);
    }

    #[test]
    fn non_utf8_is_reported_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.yaml");
        std::fs::write(&path, b"a: 1\nb: caf\xe9\n").unwrap();
        let err = read(&Input {
            name: "latin1.yaml".into(),
            source: Source::File(path),
        })
        .unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(7)));
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn atomic_write_goes_through_a_link_and_never_through_a_planted_temporary() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("base")).unwrap();
        let target = dir.path().join("base/f.yaml");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("f.yaml");
        symlink("base/f.yaml", &link).unwrap();
        // A link where the first temporary file would go, as a checkout could hold.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        let planted = dir.path().join(format!(
            "base/.f.yaml.meshgate-{}-0.tmp",
            std::process::id()
        ));
        symlink(&victim, &planted).unwrap();

        write_atomically(&link, "new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(
            std::fs::read_dir(dir.path().join("base")).unwrap().count(),
            2
        );
    }
}
