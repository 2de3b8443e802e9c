"""Scores `stenograph transcribe --speakers auto|N` (N: the call's number of speakers) on the calls of assemble_calls.py: DER of
the transcript's segments (10 ms frames, best speaker mapping, without and with a 0.25 s
collar round reference turn edges) and the share of words attributed right (words whose
midpoint lies in exactly one reference turn). Prints a Markdown table row per call and mode.

    python score_calls.py CALL.wav ...     (STENOGRAPH: the CLI, default `stenograph`)"""
import json, os, sys, itertools, subprocess, numpy as np, time
CLI = os.environ.get('STENOGRAPH', 'stenograph')
def der(ref, hyp, collar=0.0):
    T = int(max([e for _,e,_ in ref]+[e for _,e,_ in hyp]+[0])*100)+1
    R = {}; H = {}
    for s,e,l in ref: R.setdefault(l, np.zeros(T,bool))[int(s*100):int(e*100)] = True
    for s,e,l in hyp: H.setdefault(l, np.zeros(T,bool))[int(s*100):int(e*100)] = True
    score = np.ones(T, bool)
    if collar:
        for s,e,_ in ref:
            for b in (s, e): score[max(0,int((b-collar)*100)):int((b+collar)*100)] = False
    nref = sum(R.values()).astype(int); nhyp = sum(H.values()).astype(int) if H else np.zeros(T,int)
    rl, hl = list(R), list(H); best = 0
    for perm in itertools.permutations(rl + [None]*max(0,len(hl)-len(rl)), len(hl)):
        best = max(best, sum((H[h] & R[r] & score).sum() for h,r in zip(hl,perm) if r is not None))
    tot = (nref*score).sum(); miss = (np.maximum(nref-nhyp,0)*score).sum(); fa = (np.maximum(nhyp-nref,0)*score).sum()
    conf = (np.minimum(nref,nhyp)*score).sum() - best
    return 100*(miss+fa+conf)/tot, 100*conf/tot
rows = []
for wav in sys.argv[1:]:
    ref = json.load(open(wav.replace('.wav','.json')))
    for n in ['auto', str(len(set(l for _,_,l in ref)))]:
        t0 = time.time()
        out = subprocess.run([CLI,'transcribe','--speakers',n,'-f','verbose_json','--word-timestamps',wav],capture_output=True,text=True).stdout
        secs = time.time()-t0
        d = json.loads(out)
        segs = d['segments']
        hyp = [(s['start'], s['end'], s.get('speaker')) for s in segs]
        def spk(w):
            m=(w['start']+w['end'])/2
            c=[s for s in segs if s['start']-0.05 <= m <= s['end']+0.05]
            return c[0].get('speaker') if c else None
        pairs = []
        for w in d.get('words', []):
            m = (w['start']+w['end'])/2
            c = [l for s,e,l in ref if s <= m <= e]
            if len(c) == 1: pairs.append((c[0], spk(w)))
        hs = sorted(set(h for _,h in pairs), key=str); rs = sorted(set(r for r,_ in pairs)); best = 0
        for perm in itertools.permutations(rs + [None]*max(0,len(hs)-len(rs)), len(hs)):
            m = dict(zip(hs, perm)); best = max(best, sum(m[h]==r for r,h in pairs))
        d0, c0 = der(ref, hyp); d25, c25 = der(ref, hyp, 0.25)
        print(f'| {wav.split("/")[-1][:-4]} | {n} | {len(d.get("speakers",[]))} | {d0:.1f} % | {d25:.1f} % | {c25:.1f} % | {best}/{len(pairs)} ({100*best/max(1,len(pairs)):.1f} %) | {secs:.1f} |', flush=True)
