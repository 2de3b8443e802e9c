"""Calls assembled from LibriSpeech speakers: turns of 1-10 s cut from their utterances,
0.2-1.2 s gaps, about one turn in eight starting 0.5 s over the last; clean and telephone
(8 kHz, 300-3400 Hz, noise 20 dB under the speech). Each call is written as
callN-clean.wav / callN-phone.wav with its reference turns in callN-*.json.

    python assemble_calls.py LIBRISPEECH_DIR OUT_DIR [--parties K --calls N --seed S]

LIBRISPEECH_DIR holds <speaker>-<chapter>-<utterance>.flac files (in any sub-folders), as
resemble-ai/Resemblyzer's audio_data/librispeech_test-other and
audio_data/librispeech_train-clean-100 do (CC BY 4.0). Without --parties, the five fixed
two-party calls of the README (test-other speakers: M-M, F-F, F-M, F-F, M-M); with it, N calls
of K speakers drawn at random (seeded), each call as long as its speakers' speech lasts (at
most 150 s), the next speaker of each turn drawn among the others with speech left. Needs numpy, scipy,
librosa and soundfile."""
import numpy as np, librosa, soundfile as sf, random, json, glob, os, argparse, scipy.signal as ss
R = 16000
ap = argparse.ArgumentParser()
ap.add_argument('src'); ap.add_argument('out')
ap.add_argument('--parties', type=int); ap.add_argument('--calls', type=int, default=5)
ap.add_argument('--seed', type=int, default=0)
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
spk = {}
for f in sorted(glob.glob(os.path.join(args.src, '**', '*.flac'), recursive=True)):
    spk.setdefault(os.path.basename(f).split('-')[0], []).append(librosa.load(f, sr=R)[0])
if args.parties:
    rnd = random.Random(args.seed)
    groups = [rnd.sample(sorted(spk), args.parties) for _ in range(args.calls)]
else:
    groups = [('1688','2033'), ('3080','3331'), ('367','2609'), ('1998','533'), ('2414','3005')]
def call(group, seed):
    rnd = random.Random(seed)
    src = {s: np.concatenate(spk[s]) for s in group}
    pos = {s: 0 for s in group}
    out = np.zeros(0, np.float32); ref = []
    who = group[0]
    left = lambda s: len(src[s]) - pos[s] >= R
    while len(out) < 150 * R:
        n = int(rnd.uniform(1.0, 10.0) * R)
        x = src[who][pos[who]:pos[who] + n]; pos[who] += n
        if len(x) < R: break
        x = x / (np.sqrt(np.mean(x**2)) + 1e-9) * 0.05
        if rnd.random() < 0.12 and len(out) > R:
            start = len(out) - int(0.5 * R)
        else:
            start = len(out) + int(rnd.uniform(0.2, 1.2) * R)
        end = start + len(x)
        if end > len(out): out = np.concatenate([out, np.zeros(end - len(out), np.float32)])
        out[start:end] += x
        ref.append((start / R, end / R, who))
        others = [s for s in group if s != who]
        if len(group) > 2:
            others = [s for s in others if left(s)] or others
            who = rnd.choice(others)
        else:
            who = others[0]
    return out, ref
def phone(x, seed):
    y = librosa.resample(x, orig_sr=R, target_sr=8000)
    sos = ss.butter(4, [300, 3400], btype='band', fs=8000, output='sos'); y = ss.sosfilt(sos, y)
    rng = np.random.default_rng(seed); n = np.cumsum(rng.standard_normal(len(y))) ; n = n - ss.savgol_filter(n, 101, 1)
    n = n / np.sqrt(np.mean(n**2)) * np.sqrt(np.mean(y**2)) * 0.1
    return librosa.resample((y + n).astype(np.float32), orig_sr=8000, target_sr=R)
for i, group in enumerate(groups):
    x, ref = call(group, args.seed + i)
    for kind, y in (('clean', x), ('phone', phone(x, i))):
        name = os.path.join(args.out, f'call{i}-{kind}')
        sf.write(name + '.wav', y, R, subtype='PCM_16'); json.dump(ref, open(name + '.json', 'w'))
    print(i, ' '.join(group), f'{len(x)/R:.0f} s', len(ref), 'turns', flush=True)
