//! Files under one directory that are never reached through a symbolic link. Every path
//! component is opened relative to its parent with `O_NOFOLLOW`, so a link anywhere below the
//! root, planted before or during a call, makes the call fail instead of leaving the
//! directory; only regular files are read (a FIFO or device is refused, never opened for a
//! blocking read). The root itself is the operator's path and may be a link.

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// Why a local operation failed.
#[derive(Debug)]
pub enum LocalError {
    /// Nothing at that path.
    NotFound,
    /// A symbolic link, or something that is not a regular file or directory, is in the way.
    Refused(&'static str),
    /// Any other I/O error.
    Io(io::Error),
}

impl From<Errno> for LocalError {
    fn from(e: Errno) -> Self {
        match e {
            Errno::NOENT => LocalError::NotFound,
            // O_NOFOLLOW on a link gives ELOOP (ENOTDIR or EMLINK on some systems when
            // O_DIRECTORY is set as well).
            Errno::LOOP | Errno::MLINK => LocalError::Refused("a symbolic link is in the path"),
            Errno::NOTDIR => LocalError::Refused("a path component is not a directory"),
            other => LocalError::Io(other.into()),
        }
    }
}

impl From<io::Error> for LocalError {
    fn from(e: io::Error) -> Self {
        LocalError::Io(e)
    }
}

/// A file found by [`LocalDir::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name in the directory.
    pub name: String,
    /// Modification time, Unix ms.
    pub modified_ms: i64,
}

/// One directory tree.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

impl LocalDir {
    /// The tree at `root`, created when `create` is set and it is missing.
    pub fn open(root: &Path, create: bool) -> io::Result<Self> {
        if create {
            std::fs::create_dir_all(root)?;
        }
        Ok(LocalDir {
            root: root.to_path_buf(),
        })
    }

    /// Opens the directory `dirs` below the root, creating missing ones when `create` is set.
    fn walk(&self, dirs: &[&str], create: bool) -> Result<OwnedFd, LocalError> {
        let mut fd = rustix::fs::open(
            &self.root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        for name in dirs {
            check_name(name)?;
            let opened = match rustix::fs::openat(&fd, *name, DIR_FLAGS, Mode::empty()) {
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&fd, *name, Mode::from_raw_mode(0o750)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    rustix::fs::openat(&fd, *name, DIR_FLAGS, Mode::empty())
                }
                other => other,
            };
            fd = opened.map_err(|e| explain(&fd, name, e))?;
        }
        Ok(fd)
    }

    /// Opens the regular file at `parts` for reading.
    fn open_file(&self, parts: &[&str]) -> Result<std::fs::File, LocalError> {
        let (name, dirs) = parts.split_last().ok_or(LocalError::NotFound)?;
        check_name(name)?;
        let dir = self.walk(dirs, false)?;
        // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        let fd = rustix::fs::openat(
            &dir,
            *name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .map_err(|e| explain(&dir, name, e))?;
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Err(LocalError::Refused("not a regular file"));
        }
        // Back to blocking reads for the file itself.
        rustix::fs::fcntl_setfl(&fd, OFlags::empty())?;
        Ok(std::fs::File::from(fd))
    }

    /// The whole file at `parts`.
    pub fn read(&self, parts: &[&str]) -> Result<Vec<u8>, LocalError> {
        let mut file = self.open_file(parts)?;
        let mut out = Vec::new();
        file.read_to_end(&mut out)?;
        Ok(out)
    }

    /// The size of the file at `parts`.
    pub fn size(&self, parts: &[&str]) -> Result<u64, LocalError> {
        let file = self.open_file(parts)?;
        Ok(file.metadata()?.len())
    }

    /// Writes `bytes` to `parts` atomically (a temporary file renamed into place), creating
    /// directories as needed.
    pub fn write(&self, parts: &[&str], bytes: &[u8]) -> Result<(), LocalError> {
        let (name, dirs) = parts.split_last().ok_or(LocalError::NotFound)?;
        check_name(name)?;
        let dir = self.walk(dirs, true)?;
        let tmp = format!(".{name}.{}.tmp", uuid::Uuid::now_v7().simple());
        let fd = rustix::fs::openat(
            &dir,
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o640),
        )?;
        let mut file = std::fs::File::from(fd);
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_data())
            .map_err(LocalError::from)
            .and_then(|()| Ok(rustix::fs::renameat(&dir, tmp.as_str(), &dir, *name)?));
        if written.is_err() {
            let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
        }
        written
    }

    /// Removes the file (or link) at `parts`; absent is fine.
    pub fn remove(&self, parts: &[&str]) -> Result<(), LocalError> {
        let Some((name, dirs)) = parts.split_last() else {
            return Ok(());
        };
        check_name(name)?;
        let dir = match self.walk(dirs, false) {
            Ok(dir) => dir,
            Err(LocalError::NotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        match rustix::fs::unlinkat(&dir, *name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The entries of the directory `parts` that are not directories (files, and links, which
    /// are listed so that they can be removed), with their modification times.
    pub fn list(&self, parts: &[&str]) -> Result<Vec<Entry>, LocalError> {
        let dir = match self.walk(parts, false) {
            Ok(dir) => dir,
            Err(LocalError::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&dir)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().to_str() else {
                continue;
            };
            if name == "." || name == ".." {
                continue;
            }
            let stat = match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(e.into()),
            };
            if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
                continue;
            }
            out.push(Entry {
                name: name.to_string(),
                modified_ms: stat.st_mtime as i64 * 1000 + stat.st_mtime_nsec as i64 / 1_000_000,
            });
        }
        Ok(out)
    }

    /// Whether the root can be opened.
    pub fn check(&self) -> Result<(), LocalError> {
        self.walk(&[], false).map(|_| ())
    }
}

/// The error of opening `name` in `dir`, saying so when it is a symbolic link (which
/// `O_NOFOLLOW` reports as ELOOP, or with `O_DIRECTORY` as ENOTDIR).
fn explain(dir: &OwnedFd, name: &str, e: Errno) -> LocalError {
    if matches!(e, Errno::LOOP | Errno::NOTDIR | Errno::MLINK) {
        if let Ok(stat) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink {
                return LocalError::Refused("a symbolic link is in the path");
            }
        }
    }
    e.into()
}

/// A single path component: not empty, not `.` or `..`, no separator or NUL.
fn check_name(name: &str) -> Result<(), LocalError> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(LocalError::Refused("invalid path component"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::CWD;
    use std::os::unix::fs::symlink;

    #[test]
    fn round_trip_and_listing() {
        let t = tempfile::tempdir().unwrap();
        let d = LocalDir::open(&t.path().join("root"), true).unwrap();
        d.write(&["a", "b", "c.wav"], b"RIFF").unwrap();
        assert_eq!(d.read(&["a", "b", "c.wav"]).unwrap(), b"RIFF");
        assert_eq!(d.size(&["a", "b", "c.wav"]).unwrap(), 4);
        let listed = d.list(&["a", "b"]).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "c.wav");
        assert!(listed[0].modified_ms > 1_600_000_000_000);
        d.remove(&["a", "b", "c.wav"]).unwrap();
        d.remove(&["a", "b", "c.wav"]).unwrap();
        assert!(matches!(
            d.read(&["a", "b", "c.wav"]),
            Err(LocalError::NotFound)
        ));
        assert!(d.list(&["nothing"]).unwrap().is_empty());
    }

    #[test]
    fn links_anywhere_below_the_root_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.wav"), b"secret").unwrap();
        let root = t.path().join("root");
        let d = LocalDir::open(&root, true).unwrap();
        d.write(&["in", "real.wav"], b"real").unwrap();
        symlink(outside.join("secret.wav"), root.join("in/file-link.wav")).unwrap();
        symlink(&outside, root.join("dir-link")).unwrap();
        symlink(root.join("in/real.wav"), root.join("in/inner-link.wav")).unwrap();
        for parts in [
            &["in", "file-link.wav"][..],
            &["dir-link", "secret.wav"][..],
            &["in", "inner-link.wav"][..],
        ] {
            assert!(
                matches!(d.read(parts), Err(LocalError::Refused(_))),
                "{parts:?}"
            );
            assert!(matches!(d.size(parts), Err(LocalError::Refused(_))));
        }
        assert!(matches!(
            d.write(&["dir-link", "new.wav"], b"x"),
            Err(LocalError::Refused(_))
        ));
        assert!(!outside.join("new.wav").exists());
        // Removing a link removes the link, never its target.
        d.remove(&["in", "file-link.wav"]).unwrap();
        assert!(outside.join("secret.wav").exists());
        assert!(matches!(
            d.remove(&["dir-link", "secret.wav"]),
            Err(LocalError::Refused(_))
        ));
        assert!(outside.join("secret.wav").exists());
        // The root may be reached through a link: it is the operator's path.
        let via = t.path().join("via");
        symlink(&root, &via).unwrap();
        assert_eq!(
            LocalDir::open(&via, false)
                .unwrap()
                .read(&["in", "real.wav"])
                .unwrap(),
            b"real"
        );
        for bad in ["..", ".", ""] {
            assert!(matches!(d.read(&[bad, "x"]), Err(LocalError::Refused(_))));
        }
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let t = tempfile::tempdir().unwrap();
        let d = LocalDir::open(t.path(), false).unwrap();
        rustix::fs::mknodat(
            CWD,
            t.path().join("pipe"),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(matches!(d.read(&["pipe"]), Err(LocalError::Refused(_))));
    }
}
