"""Two-party calls from LibriSpeech test-other speakers: turns of 1-10 s cut from their
utterances, 0.2-1.2 s gaps, about one turn in eight starting 0.5 s over the last; clean and
telephone (8 kHz, 300-3400 Hz, noise 20 dB under the speech). Each call is written as
callN-clean.wav / callN-phone.wav with its reference turns in callN-*.json.

    python assemble_calls.py LIBRISPEECH_DIR OUT_DIR

LIBRISPEECH_DIR holds <speaker>/<speaker>-<chapter>-<utterance>.flac, as
resemble-ai/Resemblyzer's audio_data/librispeech_test-other does (CC BY 4.0). Needs numpy,
scipy, librosa and soundfile."""
import numpy as np, librosa, soundfile as sf, random, json, glob, os, sys, scipy.signal as ss
R = 16000
src_dir, out_dir = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
spk = {}
for f in sorted(glob.glob(os.path.join(src_dir, '**', '*.flac'), recursive=True)):
    spk.setdefault(os.path.basename(f).split('-')[0], []).append(librosa.load(f, sr=R)[0])
pairs = [('1688','2033'), ('3080','3331'), ('367','2609'), ('1998','533'), ('2414','3005')]  # M-M, F-F, F-M, F-F, M-M
def call(a, b, seed):
    rnd = random.Random(seed)
    src = {s: np.concatenate(spk[s]) for s in (a, b)}
    pos = {a: 0, b: 0}
    out = np.zeros(0, np.float32); ref = []
    who = a
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
        who = b if who == a else a
    return out, ref
def phone(x, seed):
    y = librosa.resample(x, orig_sr=R, target_sr=8000)
    sos = ss.butter(4, [300, 3400], btype='band', fs=8000, output='sos'); y = ss.sosfilt(sos, y)
    rng = np.random.default_rng(seed); n = np.cumsum(rng.standard_normal(len(y))) ; n = n - ss.savgol_filter(n, 101, 1)
    n = n / np.sqrt(np.mean(n**2)) * np.sqrt(np.mean(y**2)) * 0.1
    return librosa.resample((y + n).astype(np.float32), orig_sr=8000, target_sr=R)
for i, (a, b) in enumerate(pairs):
    x, ref = call(a, b, i)
    for kind, y in (('clean', x), ('phone', phone(x, i))):
        name = os.path.join(out_dir, f'call{i}-{kind}')
        sf.write(name + '.wav', y, R, subtype='PCM_16'); json.dump(ref, open(name + '.json', 'w'))
    print(i, a, b, f'{len(x)/R:.0f} s', len(ref), 'turns')
