"""Resemblyzer's embed_utterance in numpy + librosa, its checkpoint read without torch: the
reference the voice encoder is checked against (`python voice_encoder.py pretrained.pt a.wav …`
prints each file's embedding)."""
import pickle, sys, struct
import numpy as np, librosa

class U(pickle.Unpickler):
    def find_class(self, mod, name):
        if name == '_rebuild_tensor_v2':
            return lambda st, off, size, stride, *a: ('T', st[2], off, size, stride)
        if name == 'OrderedDict':
            import collections; return collections.OrderedDict
        if name.endswith('Storage'): return name
        return super().find_class(mod, name)
    def persistent_load(self, pid): return pid

def load(path):
    f = open(path, 'rb')
    for _ in range(3): pickle.load(f)
    obj = U(f).load(); keys = pickle.load(f)
    st = {}
    for k in keys:
        n, = struct.unpack('<q', f.read(8)); st[k] = np.frombuffer(f.read(4*n), dtype='<f4')
    out = {}
    for name, (_, key, off, size, stride) in obj['model_state'].items():
        out[name] = np.lib.stride_tricks.as_strided(st[key][off:], shape=size, strides=[4*s for s in stride]).astype(np.float64)
    return out

W = load(sys.argv[1])
def sig(x): return 1/(1+np.exp(-x))
def forward(mels):  # (P, T, 40)
    x = mels.astype(np.float64)
    for l in range(3):
        wih, whh = W[f'lstm.weight_ih_l{l}'], W[f'lstm.weight_hh_l{l}']
        b = W[f'lstm.bias_ih_l{l}'] + W[f'lstm.bias_hh_l{l}']
        P, T, _ = x.shape
        h = np.zeros((P, 256)); c = np.zeros((P, 256)); seq = np.zeros((P, T, 256))
        for t in range(T):
            g = x[:, t] @ wih.T + h @ whh.T + b
            i, f, gg, o = np.split(g, 4, axis=1)
            c = sig(f)*c + sig(i)*np.tanh(gg); h = sig(o)*np.tanh(c); seq[:, t] = h
        x = seq
    e = np.maximum(h @ W['linear.weight'].T + W['linear.bias'], 0)
    return e / np.linalg.norm(e, axis=1, keepdims=True)

def slices(n):
    n_frames = int(np.ceil((n + 1) / 160)); step = int(np.round(16000 / 1.3 / 160))
    steps = max(1, n_frames - 160 + step + 1)
    mel = [(i, i+160) for i in range(0, steps, step)]
    last = mel[-1]; cov = (n - last[0]*160) / (160*160)
    if cov < 0.75 and len(mel) > 1: mel = mel[:-1]
    return mel

def embed(wav):
    rms = np.sqrt(np.mean((wav * 32767) ** 2)); d = -30 - 20*np.log10(rms/32767)
    if d > 0: wav = wav * 10 ** (d/20)
    sl = slices(len(wav)); end = sl[-1][1]*160
    if end >= len(wav): wav = np.pad(wav, (0, end - len(wav)))
    mel = librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400, hop_length=160, n_mels=40).T
    e = forward(np.array([mel[a:b] for a, b in sl])).mean(0)
    return e / np.linalg.norm(e)

for path in sys.argv[2:]:
    wav, _ = librosa.load(path, sr=None)
    print(path, ' '.join('%.6f' % v for v in embed(wav.astype(np.float32))))
