//! Tests for `decode`: every committed fixture decodes to what ffprobe says, and every broken
//! fixture fails with the variant that names its problem.

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Durations are ffprobe's `format=duration`, except for the ADTS file, where ffprobe only
/// estimates from the bit rate (1.709266 s); its figure is the length ffmpeg decodes
/// (`ffmpeg -i FILE -f null -`, 80 896 frames: 1.8 s plus the AAC encoder's priming and
/// padding, which an ADTS stream cannot declare).
const GOOD: [(&str, u32, u16, &str, &str, f64); 8] = [
    ("speech-44k-stereo.mp3", 44_100, 2, "mp3", "mp3", 1.828571),
    (
        "speech-48k-stereo.m4a",
        48_000,
        2,
        "aac",
        "isomp4",
        1.800000,
    ),
    ("speech-44k-mono.aac", 44_100, 1, "aac", "aac", 1.834376),
    (
        "speech-22k-mono-s16.wav",
        22_050,
        1,
        "pcm_s16le",
        "wave",
        1.000000,
    ),
    (
        "speech-16k-mono-s24.wav",
        16_000,
        1,
        "pcm_s24le",
        "wave",
        1.000000,
    ),
    (
        "speech-12k-mono-f32.wav",
        12_000,
        1,
        "pcm_f32le",
        "wave",
        1.000000,
    ),
    ("speech-22k-mono.flac", 22_050, 1, "flac", "flac", 1.800000),
    ("speech-48k-mono.ogg", 48_000, 1, "vorbis", "ogg", 1.800000),
];

#[test]
fn every_supported_fixture_decodes_whole_with_ffprobes_duration() {
    for (name, rate, channels, codec, container, secs) in GOOD {
        let pcm = decode_file(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((pcm.sample_rate, pcm.channels), (rate, channels), "{name}");
        assert_eq!(pcm.samples.len() % usize::from(channels), 0, "{name}");
        let got = pcm.duration().as_secs_f64();
        assert!(
            (got - secs).abs() < 0.050,
            "{name}: {got} s, ffprobe {secs} s"
        );
        let peak = pcm.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(peak > 0.05 && peak <= 1.0, "{name}: peak {peak}");
        assert!(pcm.samples.iter().all(|s| s.is_finite()), "{name}");

        let decoder = Decoder::open(&fixture(name)).unwrap();
        assert_eq!(decoder.format().codec, codec, "{name}");
        assert_eq!(decoder.format().container, container, "{name}");
    }
}

#[test]
fn streaming_hands_out_the_same_samples_as_decode_file() {
    for name in [
        "speech-44k-stereo.mp3",
        "speech-48k-stereo.m4a",
        "speech-22k-mono.flac",
    ] {
        let whole = decode_file(&fixture(name)).unwrap();
        let mut streamed = Vec::new();
        let mut blocks = 0;
        let info = decode_streaming(&fixture(name), |block, rate, channels| {
            assert_eq!((rate, channels), (whole.sample_rate, whole.channels));
            assert!(!block.is_empty());
            blocks += 1;
            streamed.extend_from_slice(block);
        })
        .unwrap();
        assert!(blocks > 1, "{name}: one block means nothing was streamed");
        assert_eq!(streamed, whole.samples, "{name}");
        assert_eq!(info.frames, whole.frames() as u64, "{name}");
        assert_eq!(info.duration(), whole.duration(), "{name}");
    }
}

#[test]
fn broken_files_fail_with_the_variant_that_names_the_problem() {
    type Check = fn(&DecodeError) -> bool;
    let cases: [(&str, Check); 8] = [
        ("truncated.mp3", |e| {
            // ffmpeg decodes 1.07 s of it; symphonia stops at the last whole frame.
            matches!(e, DecodeError::Truncated { at, declared: Some(d), .. }
                if (at.as_secs_f64() - 1.05).abs() < 0.05 && (d.as_secs_f64() - 1.8).abs() < 0.01)
        }),
        ("truncated.m4a", |e| {
            matches!(e, DecodeError::Truncated { declared: Some(d), .. }
                if (d.as_secs_f64() - 1.82).abs() < 0.01)
        }),
        ("truncated-moov-last.m4a", |e| {
            matches!(e, DecodeError::Truncated { declared: None, .. })
        }),
        ("random.mp3", |e| matches!(e, DecodeError::NotAudio { .. })),
        ("text.wav", |e| matches!(e, DecodeError::NotAudio { .. })),
        ("empty.mp3", |e| matches!(e, DecodeError::Empty { .. })),
        ("video-only.mp4", |e| {
            matches!(e, DecodeError::NoAudioTrack { .. })
        }),
        (
            "speech-48k-mono.opus",
            |e| matches!(e, DecodeError::UnsupportedCodec { codec, .. } if codec == "Opus"),
        ),
    ];
    for (name, check) in cases {
        let err = decode_file(&fixture(name)).expect_err(name);
        assert!(check(&err), "{name}: {err:?}");
        let message = err.to_string();
        assert!(message.contains(name), "{name}: {message}");
        assert!(!message.ends_with('.'), "{name}: {message}");
        // The streaming API fails the same way.
        let streamed = decode_streaming(&fixture(name), |_, _, _| {}).expect_err(name);
        assert_eq!(streamed.to_string(), message, "{name}");
    }
}

#[test]
fn a_missing_file_is_an_open_error_keeping_the_io_error() {
    let err = decode_file(&fixture("no-such-file.mp3")).unwrap_err();
    let DecodeError::Open { source, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(source.kind(), io::ErrorKind::NotFound);
    assert!(std::error::Error::source(&err).is_some());
}

/// Writes a 16-bit PCM WAV by hand, so the test knows every sample the decoder must return.
fn write_wav_s16(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
    let data_len = u32::try_from(samples.len() * 2).unwrap();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&channels.to_le_bytes());
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    bytes.extend_from_slice(&(channels * 2).to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn pcm_samples_come_out_interleaved_and_scaled_to_unit_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ramp.wav");
    // Left channel climbs, right channel falls: a swapped or planar output would show.
    let samples: Vec<i16> = (0..10_000i32)
        .flat_map(|i| {
            let v = i16::try_from(i * 3 - 15_000).unwrap();
            [v, -v]
        })
        .collect();
    write_wav_s16(&path, 8_000, 2, &samples);
    let pcm = decode_file(&path).unwrap();
    assert_eq!(
        (pcm.sample_rate, pcm.channels, pcm.frames()),
        (8_000, 2, 10_000)
    );
    assert_eq!(pcm.duration(), Duration::from_millis(1_250));
    for (got, want) in pcm.samples.iter().zip(&samples) {
        assert!(
            (got - f32::from(*want) / 32_768.0).abs() < 1e-6,
            "{got} vs {want}"
        );
    }
}

#[test]
fn a_wav_with_a_header_but_no_samples_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent-header.wav");
    write_wav_s16(&path, 8_000, 1, &[]);
    let err = decode_file(&path).unwrap_err();
    assert!(matches!(err, DecodeError::Empty { .. }), "{err:?}");
}

#[test]
fn frames_to_duration_is_exact_for_common_rates() {
    let cases = [
        (44_100, 44_100, Duration::from_secs(1)),
        (22_050, 44_100, Duration::from_millis(500)),
        (1, 48_000, Duration::from_nanos(20_833)),
        (10, 0, Duration::ZERO),
    ];
    for (frames, rate, want) in cases {
        assert_eq!(frames_to_duration(frames, rate), want, "{frames} at {rate}");
    }
}

#[test]
fn an_mp3_behind_a_large_id3v2_tag_and_before_an_id3v1_tag_decodes_whole() {
    // Bulletins from the province carry ID3 tags, sometimes with cover art larger than the
    // probe's 1 MB scan depth; skipping them needs the id3v2/id3v1 features.
    let original = std::fs::read(fixture("speech-44k-stereo.mp3")).unwrap();
    let padding = 2 * 1024 * 1024u32;
    let syncsafe = |n: u32| {
        [
            (n >> 21) as u8 & 0x7f,
            (n >> 14) as u8 & 0x7f,
            (n >> 7) as u8 & 0x7f,
            n as u8 & 0x7f,
        ]
    };
    let mut bytes = b"ID3\x03\x00\x00".to_vec();
    bytes.extend_from_slice(&syncsafe(padding));
    bytes.resize(bytes.len() + padding as usize, 0);
    bytes.extend_from_slice(&original);
    let mut id3v1 = b"TAGT\xe1\xbb\x95ng \xc4\x91\xc3\xa0i 111".to_vec();
    id3v1.resize(128, 0);
    bytes.extend_from_slice(&id3v1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagged.mp3");
    std::fs::write(&path, bytes).unwrap();

    let tagged = decode_file(&path).unwrap();
    let plain = decode_file(&fixture("speech-44k-stereo.mp3")).unwrap();
    assert_eq!(tagged, plain);
}
