//! Which worker runs which camera, and what a reload changes. Pure: the supervisor applies the
//! result. Assignment is stable: a camera that a reload leaves unchanged stays in its worker,
//! so its pipeline, ring generation and frames are untouched.

use crate::config::{CameraEntry, Config};
use std::collections::BTreeMap;
use std::fmt;

/// A worker's identity: one named by cameras' `worker` key, or one of the packed ones.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkerKey {
    /// Packed: cameras without a `worker` key, at most `cameras_per_worker` each.
    Auto(u32),
    Named(String),
}

impl fmt::Display for WorkerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto(n) => write!(f, "#{n}"),
            Self::Named(name) => f.write_str(name),
        }
    }
}

/// Camera name -> its worker.
pub type Assignment = BTreeMap<String, WorkerKey>;

/// Assigns `config`'s cameras to workers, keeping every camera of `previous` whose entry is
/// unchanged (`old` holds those entries) where it was.
pub fn assign(
    config: &Config,
    previous: &Assignment,
    old: &BTreeMap<String, CameraEntry>,
) -> Assignment {
    let per_worker = config.daemon.cameras_per_worker.max(1) as usize;
    let mut result = Assignment::new();
    let mut load: BTreeMap<u32, usize> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for entry in &config.cameras {
        let name = &entry.camera.name;
        if let Some(worker) = &entry.worker {
            result.insert(name.clone(), WorkerKey::Named(worker.clone()));
            continue;
        }
        match previous.get(name) {
            Some(WorkerKey::Auto(n)) if old.get(name) == Some(entry) => {
                *load.entry(*n).or_default() += 1;
                result.insert(name.clone(), WorkerKey::Auto(*n));
            }
            _ => unplaced.push(name.clone()),
        }
    }
    for name in unplaced {
        let n = (0..)
            .find(|n| load.get(n).copied().unwrap_or(0) < per_worker)
            .expect("some worker has room");
        *load.entry(n).or_default() += 1;
        result.insert(name, WorkerKey::Auto(n));
    }
    result
}

/// What a reload does, camera by camera.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Cameras to start (new, or changed and restarted), with their worker.
    pub start: Vec<(String, WorkerKey)>,
    /// Cameras to stop, with the worker running them (removed, or changed).
    pub stop: Vec<(String, WorkerKey)>,
    /// Of `stop`: the cameras gone from the config, whose rings are removed.
    pub removed: Vec<String>,
    pub unchanged: usize,
}

/// The per-camera difference between the running config and a new one.
pub fn diff(
    old: &BTreeMap<String, CameraEntry>,
    old_assignment: &Assignment,
    new: &Config,
    new_assignment: &Assignment,
) -> Changes {
    let mut changes = Changes::default();
    for (name, entry) in old {
        let before = &old_assignment[name];
        match new.cameras.iter().find(|e| &e.camera.name == name) {
            None => {
                changes.stop.push((name.clone(), before.clone()));
                changes.removed.push(name.clone());
            }
            Some(now) if now != entry || new_assignment[name] != *before => {
                changes.stop.push((name.clone(), before.clone()));
                changes
                    .start
                    .push((name.clone(), new_assignment[name].clone()));
            }
            Some(_) => changes.unchanged += 1,
        }
    }
    for entry in &new.cameras {
        let name = &entry.camera.name;
        if !old.contains_key(name) {
            changes
                .start
                .push((name.clone(), new_assignment[name].clone()));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretSource;
    use std::path::Path;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("t.toml"), &SecretSource::default()).unwrap()
    }

    fn cams(names: &[(&str, &str)]) -> String {
        let mut t = String::from("[daemon]\ncameras_per_worker = 2\n");
        for (name, url) in names {
            t += &format!("[[camera]]\nname = \"{name}\"\nurl = \"{url}\"\n");
        }
        t
    }

    fn by_name(c: &Config) -> BTreeMap<String, CameraEntry> {
        c.cameras
            .iter()
            .map(|e| (e.camera.name.clone(), e.clone()))
            .collect()
    }

    #[test]
    fn packs_in_order_and_honours_named_workers() {
        let c = config(
            &(cams(&[("a", "test:"), ("b", "test:"), ("c", "test:")])
                + "[[camera]]\nname = \"usb\"\nurl = 0\nworker = \"webcams\"\n"),
        );
        let a = assign(&c, &Assignment::new(), &BTreeMap::new());
        assert_eq!(a["a"], WorkerKey::Auto(0));
        assert_eq!(a["b"], WorkerKey::Auto(0));
        assert_eq!(a["c"], WorkerKey::Auto(1));
        assert_eq!(a["usb"], WorkerKey::Named("webcams".into()));
    }

    #[test]
    fn a_reload_touches_only_added_removed_and_changed_cameras() {
        let old = config(&cams(&[
            ("a", "test:"),
            ("b", "test:"),
            ("c", "test:"),
            ("d", "test:"),
        ]));
        let old_assignment = assign(&old, &Assignment::new(), &BTreeMap::new());
        // b removed, c changed, e added; a and d unchanged.
        let new = config(&cams(&[
            ("a", "test:"),
            ("c", "test:ball"),
            ("d", "test:"),
            ("e", "test:"),
        ]));
        let new_assignment = assign(&new, &old_assignment, &by_name(&old));
        assert_eq!(new_assignment["a"], old_assignment["a"]);
        assert_eq!(new_assignment["d"], old_assignment["d"]);
        let changes = diff(&by_name(&old), &old_assignment, &new, &new_assignment);
        assert_eq!(changes.unchanged, 2);
        assert_eq!(changes.removed, ["b"]);
        let stopped: Vec<_> = changes.stop.iter().map(|(n, _)| n.as_str()).collect();
        let started: Vec<_> = changes.start.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(stopped, ["b", "c"]);
        assert_eq!(started, ["c", "e"]);
        // The freed places are reused: no worker holds more than two cameras.
        let mut load = BTreeMap::new();
        for w in new_assignment.values() {
            *load.entry(w.clone()).or_insert(0) += 1;
        }
        assert!(load.values().all(|&n| n <= 2), "{new_assignment:?}");
    }

    #[test]
    fn the_same_config_changes_nothing() {
        let c = config(&cams(&[("a", "test:"), ("b", "test:"), ("c", "test:")]));
        let a = assign(&c, &Assignment::new(), &BTreeMap::new());
        let again = assign(&c, &a, &by_name(&c));
        assert_eq!(a, again);
        let changes = diff(&by_name(&c), &a, &c, &again);
        assert_eq!(
            changes,
            Changes {
                unchanged: 3,
                ..Changes::default()
            }
        );
    }
}
