#!/bin/sh
# generate.sh produces the spoken prompts of the PIN IVR once; the outputs are
# committed and embedded in the binary (see prompts.go). Re-run it only to change
# a prompt's wording, then commit the .s16 files it writes.
#
# Needs espeak-ng (Debian espeak-ng 1.51) and ffmpeg. Each prompt is spoken by
# espeak-ng's British English voice (en-gb) at 150 words per minute, then converted to
# 16 kHz mono signed 16-bit little-endian raw PCM without a header (ffmpeg's
# default resampler), silence at the ends left as espeak-ng made it.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { # say NAME TEXT
	espeak-ng -v en-gb -s 150 -w "$tmp/$1.wav" "$2"
	ffmpeg -v error -y -i "$tmp/$1.wav" -ar 16000 -ac 1 -f s16le -acodec pcm_s16le "$1.s16"
}

say enter_pin "Please enter the conference PIN, followed by the pound key."
say enter_host_pin "Please enter the host PIN, followed by the pound key. Guests, press the pound key."
say wrong_pin "That PIN is not valid. Please try again."
say joining "You are joining the meeting."
say wait_for_host "Please wait. The meeting will begin when the host joins."
say goodbye "Goodbye."
