#!/usr/bin/env bash
# Regenerates every audio file under media/ from scratch: the opening and closing chimes
# and the three demo bulletins of the "Tháng hành động vì trẻ em 2026" demo station.
#
# Uses only espeak-ng, sox and ffmpeg (Debian packages espeak-ng, sox, ffmpeg). The output
# is byte-for-byte reproducible on the same tool versions: sox runs with -R (fixed dither
# seed), ffmpeg with bitexact flags and no timestamps. Running it twice changes nothing.
# See media/README.md for what each file is and where its text comes from.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
demo="$here/demo"

for tool in espeak-ng sox ffmpeg; do
    command -v "$tool" >/dev/null || { echo "make-media: $tool not found" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Start from nothing: remove every file this script produces.
rm -f "$here/chime.wav" "$here/chime-end.wav"
rm -rf "$demo"
mkdir -p "$demo"

# sox with repeatable dither, quiet, 48 kHz mono 16-bit unless an effect says otherwise.
soxr() { sox -R -V1 "$@"; }
# ffmpeg without banners, timestamps or encoder-version strings.
ffq() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

# ---------------------------------------------------------------------------------------
# Chimes: three bell-like notes (fundamental + a softer octave partial), each with a short
# attack and a long logarithmic decay, entering 0.5 s apart and overlapping.
# ---------------------------------------------------------------------------------------

# note FREQ OUT: one 1.0 s bell note at 48 kHz. The decay curve is drawn over 2.5 s and
# then cut at 1.0 s with a 50 ms linear tail, so it rings instead of clicking.
note() {
    local f="$1" out="$2" oct
    oct="$(awk -v f="$f" 'BEGIN { printf "%.2f", 2 * f }')"
    soxr -n -r 48000 -c 1 -b 16 "$work/fund.wav" synth 2.5 sine "$f"
    soxr -n -r 48000 -c 1 -b 16 "$work/oct.wav" synth 2.5 sine "$oct"
    soxr -m -v 0.8 "$work/fund.wav" -v 0.25 "$work/oct.wav" "$work/raw.wav" \
        fade q 0.006 fade l 0 2.5 2.494
    soxr "$work/raw.wav" "$out" trim 0 1.0 fade t 0 1.0 0.05
}

# chime OUT F1 F2 F3: the three notes at 0.0, 0.5 and 1.0 s; 2.0 s in all, peak -6 dBFS.
chime() {
    local out="$1"
    note "$2" "$work/n1.wav"
    note "$3" "$work/n2.wav"
    note "$4" "$work/n3.wav"
    soxr "$work/n2.wav" "$work/n2p.wav" pad 0.5 0.5
    soxr "$work/n3.wav" "$work/n3p.wav" pad 1.0 0
    soxr "$work/n1.wav" "$work/n1p.wav" pad 0 1.0
    soxr -m -v 1 "$work/n1p.wav" -v 1 "$work/n2p.wav" -v 1 "$work/n3p.wav" \
        -r 48000 -c 1 -b 16 "$out" gain -n -6
}

# Opening chime: ascending C5 E5 G5. Closing chime: descending G5 E5 C5.
chime "$here/chime.wav" 523.25 659.26 783.99
chime "$here/chime-end.wav" 783.99 659.26 523.25

# ---------------------------------------------------------------------------------------
# Demo bulletins, spoken by espeak-ng (Northern Vietnamese voice, 130 words/min).
# Texts come from /work/shared/seeds/000_f56180672949215a.txt (slogans of the 2026 plan);
# "111" is written out as "một một một" so the hotline is read digit by digit.
# ---------------------------------------------------------------------------------------

# speak TEXT OUT: espeak-ng to 22.05 kHz WAV, leading and trailing silence trimmed.
speak() {
    espeak-ng -v vi -s 130 -w "$work/tts.wav" "$1"
    soxr "$work/tts.wav" "$2" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
}

# 1. MP3 as the province sends it: 44.1 kHz mono, 64 kb/s CBR, ID3v2.3 title tag,
#    peak -1 dBFS (hot, like a mastered bulletin).
speak "Đài truyền thanh phường xin thông báo: Tổng đài một một một - Luôn lắng nghe và bảo vệ trẻ em." \
    "$work/c1.wav"
soxr "$work/c1.wav" "$work/c1m.wav" gain -n -1 pad 0.3 0.3
ffq -i "$work/c1m.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact \
    -ar 44100 -ac 1 -c:a libmp3lame -b:a 64k \
    -id3v2_version 3 -write_id3v1 0 \
    -metadata title="Tổng đài 111 - Luôn lắng nghe và bảo vệ trẻ em" \
    -metadata artist="Đài truyền thanh phường (demo)" \
    "$demo/tong-dai-111.mp3"

# 2. M4A (AAC-LC) as a phone voice recorder makes it: 48 kHz mono, 64 kb/s, half a second
#    of silence before speaking, recorded quietly (peak -12 dBFS) so loudness gain matters.
speak "Hưởng ứng Tháng hành động vì trẻ em năm 2026: Trẻ em hạnh phúc hôm nay - Đất nước phồn vinh ngày mai." \
    "$work/c2.wav"
soxr "$work/c2.wav" "$work/c2m.wav" gain -n -12 pad 0.5 0.4
ffq -i "$work/c2m.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact \
    -ar 48000 -ac 1 -c:a aac -b:a 64k -movflags +faststart \
    "$demo/tre-em-hanh-phuc.m4a"

# 3. WAV as a studio exports it, kept small: 16 kHz mono signed 16-bit PCM, peak -3 dBFS.
speak "Bảo vệ trẻ em trên môi trường mạng là trách nhiệm của mọi người." "$work/c3.wav"
soxr "$work/c3.wav" -r 16000 -c 1 -b 16 -e signed-integer "$demo/bao-ve-tre-em-tren-mang.wav" \
    gain -n -3 pad 0.15 0.1

echo "make-media: wrote"
(cd "$here" && ls -l chime.wav chime-end.wav demo/)
