//! Notices when files change on disk by reading them on an interval and comparing contents.
//! Polling is deliberate: Kubernetes Secret and ConfigMap volumes swap a `..data` symlink and
//! never write the files themselves, which inotify watches on the files would miss.

use std::fs;
use std::path::PathBuf;

/// The contents of a set of files as last seen, or the error reading them gave.
#[derive(Debug)]
pub struct FileWatch {
    paths: Vec<PathBuf>,
    last: Result<Vec<Vec<u8>>, String>,
}

/// A change seen by [`FileWatch::poll`].
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// The files read, and at least one differs from before: the contents, in order.
    Contents(Vec<Vec<u8>>),
    /// The files can no longer be read (reported once until they change again).
    Unreadable(String),
}

impl FileWatch {
    /// Starts watching `paths`, taking their current contents as the baseline.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        let last = read_all(&paths);
        Self { paths, last }
    }

    /// The files, if anything about them changed since the last poll.
    pub fn poll(&mut self) -> Option<Change> {
        let now = read_all(&self.paths);
        if now == self.last {
            return None;
        }
        self.last = now.clone();
        Some(match now {
            Ok(contents) => Change::Contents(contents),
            Err(e) => Change::Unreadable(e),
        })
    }
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    paths
        .iter()
        .map(|p| fs::read(p).map_err(|e| format!("{}: {e}", p.display())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_a_symlink_swap_and_reports_errors_once() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = dir.path().join("..v1");
        let v2 = dir.path().join("..v2");
        fs::create_dir(&v1).unwrap();
        fs::create_dir(&v2).unwrap();
        fs::write(v1.join("tls.crt"), "one").unwrap();
        fs::write(v2.join("tls.crt"), "two").unwrap();
        let data = dir.path().join("..data");
        std::os::unix::fs::symlink("..v1", &data).unwrap();
        let file = dir.path().join("tls.crt");
        std::os::unix::fs::symlink("..data/tls.crt", &file).unwrap();

        let mut watch = FileWatch::new(vec![file.clone()]);
        assert_eq!(watch.poll(), None);
        // The kubelet's swap: a new symlink renamed over `..data`.
        let tmp = dir.path().join("..data_tmp");
        std::os::unix::fs::symlink("..v2", &tmp).unwrap();
        fs::rename(&tmp, &data).unwrap();
        assert_eq!(watch.poll(), Some(Change::Contents(vec![b"two".to_vec()])));
        assert_eq!(watch.poll(), None);
        fs::remove_file(&data).unwrap();
        assert!(matches!(watch.poll(), Some(Change::Unreadable(_))));
        assert_eq!(watch.poll(), None);
    }
}
