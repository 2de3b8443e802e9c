#!/usr/bin/env bash
# Real recordings of what a call holds besides speech, for `nonspeech_report`: laughter, coughs,
# sneezes, screams, breath, sighs, a baby crying, footsteps (Scratch's sound library), hold music
# (Asterisk's music on hold), instrument solos and music loops. All come from Debian packages
# (licences in each package's copyright file: CC BY-SA 3.0 for Scratch's media and the Asterisk
# music, GPL for the rest), fetched with `apt-get download` and unpacked without installing.
#
#   scripts/nonspeech_corpus.sh DIR
#
# Crowd chatter and sung music are left out: their words are speech.
set -euo pipefail

dir=${1:?usage: scripts/nonspeech_corpus.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

packages=(scratch asterisk-moh-opsound-wav monsterz-data qabcs-data tkabber lmms-common)
(cd "$work" && apt-get download "${packages[@]}" >/dev/null 2>&1) || {
  echo "nonspeech_corpus: apt-get download ${packages[*]} failed (is apt's package index current? run apt-get update)" >&2
  exit 1
}
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
share=$work/root/usr/share

take() { # take SOURCE NAME
  cp "$1" "$dir/$2"
}
for f in "$share"/asterisk/moh/*.wav; do take "$f" "hold-music-$(basename "$f")"; done
for f in Cough-female.wav Cough-male.wav Laugh-female.wav Laugh-male1.wav Laugh-male2.wav \
  Laugh-male3.mp3 Sneeze-female.wav Sneeze-male.wav Scream-female.wav Scream-male1.wav \
  Scream-male2.mp3 BabyCry.mp3 Slurp.mp3 FingerSnap.wav Footsteps-1.wav Footsteps-2.mp3; do
  take "$share/scratch/Media/Sounds/Human/$f" "human-$f"
done
for f in Cave DripDrop Drum DrumMachine DrumSet1 DrumSet2 Eggs Garden GuitarChords1 GuitarChords2 \
  HipHop HumanBeatbox1 HumanBeatbox2 Jungle Medieval1 Medieval2 Techno Techno2 Triumph Xylo1 \
  Xylo2 Xylo3; do
  take "$share/scratch/Media/Sounds/Music Loops/$f.mp3" "music-loop-$f.mp3"
done
for f in accordion bagpipes cello clarinet drums flute grand_piano guitar harmonica organ \
  saxophone trumpet violin xylophone; do
  take "$share/qabcs/abcs/all/noises/$f.ogg" "instrument-$f.ogg"
done
take "$share/games/monsterz/sound/laugh.wav" human-laugh-monsterz.wav
take "$share/tkabber/sounds/default/sigh.wav" human-sigh.wav
take "$share/lmms/samples/misc/breath01.ogg" human-breath.ogg
echo "nonspeech_corpus: $(find "$dir" -maxdepth 1 -type f | wc -l) recordings in $dir" >&2
