//! `loa export` and `loa import`: the demo station moved to a fresh box comes out the
//! same, and importing twice changes nothing.

use std::path::Path;

use crate::support::{loa, repo, run, write_config};

fn ok(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The manifest without its export time.
fn manifest(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("station.toml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("exported_at"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_station_exported_and_imported_twice_comes_out_the_same() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let config_a = write_config(a.path(), "seed_demo = true\n");
    let config_b = write_config(b.path(), "");
    let (config_a, config_b) = (config_a.to_str().unwrap(), config_b.to_str().unwrap());
    // Seed the demo station on box A (from the repo, where its media is shipped).
    ok(&loa()
        .current_dir(repo())
        .args(["--config", config_a, "next", "--count", "1"])
        .output()
        .unwrap());
    let export_a = a.path().join("export");
    let out = ok(&run(&[
        "--config",
        config_a,
        "export",
        export_a.to_str().unwrap(),
    ]));
    assert!(out.contains("campaign(s)"), "{out}");
    let text = manifest(&export_a);
    assert!(text.contains("Tháng hành động vì trẻ em 2026"), "{text}");
    assert!(text.contains("[[programmes]]"), "{text}");

    let out = ok(&run(&[
        "--config",
        config_b,
        "import",
        export_a.to_str().unwrap(),
    ]));
    assert!(out.contains("0 already here"), "{out}");
    let out = ok(&run(&[
        "--config",
        config_b,
        "import",
        export_a.to_str().unwrap(),
    ]));
    assert!(
        out.contains("0 clip(s) added") && out.contains("0 created, 0 updated"),
        "the second import changes nothing: {out}"
    );
    let export_b = b.path().join("export");
    ok(&run(&[
        "--config",
        config_b,
        "export",
        export_b.to_str().unwrap(),
    ]));
    assert_eq!(manifest(&export_b), text);
    let media = |d: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(d.join("media"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    assert_eq!(media(&export_a), media(&export_b));
}

#[test]
fn a_tampered_export_is_refused_with_the_file_named() {
    let a = tempfile::tempdir().unwrap();
    let config = write_config(a.path(), "");
    let config = config.to_str().unwrap();
    let clip = repo().join("tests/fixtures/speech-22k-mono.flac");
    ok(&run(&["--config", config, "add", clip.to_str().unwrap()]));
    let export = a.path().join("export");
    ok(&run(&[
        "--config",
        config,
        "export",
        export.to_str().unwrap(),
    ]));
    // Swap the original for another good file: its hash no longer matches the manifest.
    let stored = std::fs::read_dir(export.join("media"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(repo().join("tests/fixtures/speech-48k-mono.ogg"), &stored).unwrap();
    let b = tempfile::tempdir().unwrap();
    let config_b = write_config(b.path(), "");
    let o = run(&[
        "--config",
        config_b.to_str().unwrap(),
        "import",
        export.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not match its sha256"), "{err}");
}
