//! The inputs of `check` and `fix`: files, directories searched recursively for manifests (in
//! sorted order, so output is stable), and `-` for stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::InputError;

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

fn is_manifest(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, found)?;
        } else if is_manifest(&path) {
            found.push(path);
        }
    }
    Ok(())
}

/// Expands the command line's paths into inputs; what cannot be used is an error naming it.
pub fn collect(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        if name == "-" {
            inputs.push(Input {
                name,
                source: Source::Stdin,
            });
        } else if path.is_dir() {
            let mut found = Vec::new();
            match walk(path, &mut found) {
                Err(e) => errors.push(InputError::file(
                    &name,
                    format!("cannot read directory: {e}"),
                )),
                Ok(()) if found.is_empty() => errors.push(InputError::file(
                    &name,
                    "no *.yaml, *.yml or *.json files in this directory",
                )),
                Ok(()) => inputs.extend(found.into_iter().map(|p| Input {
                    // `check .` names files as `routes/a.yaml`, not `./routes/a.yaml`.
                    name: p.strip_prefix(".").unwrap_or(&p).display().to_string(),
                    source: Source::File(p),
                })),
            }
        } else if path.exists() {
            inputs.push(Input {
                name,
                source: Source::File(path.clone()),
            });
        } else {
            errors.push(InputError::file(&name, "no such file or directory"));
        }
    }
    (inputs, errors)
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

/// Replaces a file's contents atomically: a temporary file beside it, then a rename.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.meshgate-{}.tmp", std::process::id()));
    std::fs::write(&temp, text)?;
    if let Ok(metadata) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&temp, metadata.permissions());
    }
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
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
        let (inputs, errors) = collect(&[
            dir.path().to_path_buf(),
            dir.path().join("empty"),
            dir.path().join("nope.yaml"),
        ]);
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
}
