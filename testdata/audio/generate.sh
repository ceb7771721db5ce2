#!/usr/bin/env bash
# Regenerates the small audio files in this folder (used by asr/features tests).
# Needs espeak-ng, sox and ffmpeg. Every file holds the same short utterance,
# so tests can compare decoders across formats. Total size is kept small.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The source: espeak-ng speech (22050 Hz), made mono 16 kHz 16-bit and 0.6 s
# long, plus a stereo version whose channels differ (speech left, a 440 Hz
# tone right) so a downmix that drops a channel is caught.
espeak-ng -w "$tmp/raw.wav" "seven one" 
sox "$tmp/raw.wav" -r 16000 -b 16 -c 1 speech16k.wav trim 0 0.6 norm -3
sox -n -r 16000 -b 16 -c 1 "$tmp/tone.wav" synth 0.6 sine 440 vol 0.3
sox -M speech16k.wav "$tmp/tone.wav" "$tmp/stereo.wav"

# WAV variants. wavpcm forces the plain (non-EXTENSIBLE) fmt chunk.
sox speech16k.wav -t wavpcm -e unsigned-integer -b 8 pcm_u8.wav
sox speech16k.wav -t wavpcm -e signed-integer -b 24 pcm_s24.wav trim 0 0.3
sox speech16k.wav -t wavpcm -e signed-integer -b 32 pcm_s32.wav trim 0 0.3
sox speech16k.wav -t wavpcm -e floating-point -b 32 float32.wav trim 0 0.3
sox speech16k.wav -t wavpcm -e floating-point -b 64 float64.wav trim 0 0.3
sox speech16k.wav -t wavpcm -e a-law alaw.wav
sox speech16k.wav -t wavpcm -e u-law ulaw.wav
# sox writes WAVE_FORMAT_EXTENSIBLE for more than 16 bits or 2 channels.
sox speech16k.wav -t wav -e signed-integer -b 24 ext_s24.wav trim 0 0.3
sox speech16k.wav -t wav -e floating-point -b 32 ext_float32.wav trim 0 0.3
sox "$tmp/stereo.wav" -t wavpcm -b 16 stereo_s16.wav trim 0 0.3
sox -M speech16k.wav "$tmp/tone.wav" speech16k.wav "$tmp/tone.wav" speech16k.wav "$tmp/tone.wav" \
    -t wav -b 16 ext_6ch_s16.wav trim 0 0.15
sox speech16k.wav -r 22050 -b 16 speech22k.wav trim 0 0.3
sox "$tmp/stereo.wav" -r 44100 -b 16 stereo44k.wav trim 0 0.2
sox speech16k.wav -r 8000 -b 16 speech8k.wav trim 0 0.3

# FLAC.
sox speech16k.wav -b 16 flac_s16.flac
sox "$tmp/stereo.wav" -b 24 -r 44100 flac_s24_stereo.flac trim 0 0.3

# Formats that are recognised by their magic bytes; MP3 is decoded too.
ffmpeg -loglevel error -y -i speech16k.wav -c:a libmp3lame -b:a 32k mp3_mono.mp3
ffmpeg -loglevel error -y -i "$tmp/stereo.wav" -ar 44100 -c:a libmp3lame -b:a 64k -t 0.3 mp3_stereo.mp3
ffmpeg -loglevel error -y -i speech16k.wav -c:a libvorbis -q:a 0 -t 0.3 vorbis.ogg
ffmpeg -loglevel error -y -i speech16k.wav -c:a libopus -b:a 12k -t 0.3 opus.opus
ffmpeg -loglevel error -y -i speech16k.wav -c:a aac -b:a 24k -t 0.3 aac.m4a
ffmpeg -loglevel error -y -i speech16k.wav -c:a libopus -b:a 12k -t 0.3 webm.webm
ffmpeg -loglevel error -y -i speech16k.wav -c:a aac -b:a 24k -t 0.3 -f adts adts.aac
sox speech16k.wav aiff.aiff trim 0 0.1
sox speech16k.wav sun.au trim 0 0.1
sox speech16k.wav wave64.w64 trim 0 0.1
ls -l
