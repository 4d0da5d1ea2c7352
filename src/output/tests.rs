//! Tests of output specs, formats and the shared helpers.

use super::*;

#[test]
fn specs_parse_and_print_back() {
    let cases = [
        ("null", OutputSpec::Null),
        ("auto", OutputSpec::Auto),
        (" auto ", OutputSpec::Auto),
        ("alsa:default", OutputSpec::Alsa("default".to_owned())),
        (
            "alsa:plughw:CARD=Headphones,DEV=0",
            OutputSpec::Alsa("plughw:CARD=Headphones,DEV=0".to_owned()),
        ),
        (
            "wav:/tmp/out.wav",
            OutputSpec::Wav(PathBuf::from("/tmp/out.wav")),
        ),
    ];
    for (text, expected) in cases {
        let spec: OutputSpec = text.parse().unwrap();
        assert_eq!(spec, expected, "{text}");
        assert_eq!(spec.to_string(), text.trim(), "{text}");
    }
}

#[test]
fn bad_specs_say_what_is_expected() {
    let cases = [
        (
            "",
            "invalid output \"\": expected alsa:DEVICE, wav:PATH, null or auto",
        ),
        (
            "pulse",
            "invalid output \"pulse\": expected alsa:DEVICE, wav:PATH, null or auto",
        ),
        (
            "alsa:",
            "invalid output \"alsa:\": alsa needs a device, e.g. alsa:default",
        ),
        (
            "wav:",
            "invalid output \"wav:\": wav needs a path, e.g. wav:/tmp/loa.wav",
        ),
        (
            "Null",
            "invalid output \"Null\": expected alsa:DEVICE, wav:PATH, null or auto",
        ),
    ];
    for (text, message) in cases {
        let error = text.parse::<OutputSpec>().unwrap_err();
        assert_eq!(error.to_string(), message, "{text:?}");
    }
}

#[test]
fn formats_are_validated() {
    let cases = [
        (48_000, 2, true),
        (8_000, 1, true),
        (192_000, 8, true),
        (7_999, 2, false),
        (48_000, 0, false),
        (48_000, 9, false),
    ];
    for (sample_rate, channels, ok) in cases {
        let format = OutputFormat {
            sample_rate,
            channels,
        };
        assert_eq!(format.validate().is_ok(), ok, "{format}");
    }
}

#[test]
fn format_arithmetic_uses_whole_frames() {
    let format = OutputFormat::STEREO_48K;
    assert_eq!(format.samples_for(Duration::from_millis(20)), 1_920);
    assert_eq!(format.block_samples(), 1_920);
    assert_eq!(format.duration_of(96_000), Duration::from_secs(1));
    let odd = OutputFormat {
        sample_rate: 44_100,
        channels: 2,
    };
    assert_eq!(odd.samples_for(Duration::from_millis(1)), 88);
}

#[test]
fn null_and_wav_specs_open_and_auto_always_opens() {
    let format = OutputFormat {
        sample_rate: 8_000,
        channels: 1,
    };
    assert_eq!(OutputSpec::Null.open(format).unwrap().name(), "null");
    let path = std::env::temp_dir().join(format!("loa-spec-{}.wav", std::process::id()));
    let wav = OutputSpec::Wav(path.clone()).open(format).unwrap();
    assert_eq!(wav.name(), format!("wav:{}", path.display()));
    drop(wav);
    let _ = std::fs::remove_file(&path);
    let auto = OutputSpec::Auto.open(format).unwrap();
    assert!(auto.name() == "alsa:default" || auto.name() == "null (auto fallback)");
    let bad = OutputFormat {
        sample_rate: 1,
        channels: 1,
    };
    assert!(OutputSpec::Null.open(bad).is_err());
}

#[test]
fn error_chain_includes_sources_once() {
    let inner = std::io::Error::other("disk full");
    let error = OutputError::WavWrite {
        path: PathBuf::from("/tmp/x.wav"),
        source: hound::Error::IoError(inner),
    };
    assert_eq!(
        error_chain(&error),
        "cannot write wav file /tmp/x.wav: disk full"
    );
}
