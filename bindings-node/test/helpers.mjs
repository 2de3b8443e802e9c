// Speech made at test time with espeak-ng, and small WAV helpers.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const SENTENCES = [
  'Please call the customer back before noon tomorrow.',
  'The meeting has been moved to Thursday afternoon.',
  'I would like to cancel my subscription and get a refund.',
]

export const dir = mkdtempSync(join(tmpdir(), 'stenograph-node-'))

export function speak(name, text, voice = 'en-us') {
  const path = join(dir, name)
  execFileSync('espeak-ng', ['-v', voice, '-s', '140', '-w', path, text])
  return path
}

export function words(text) {
  return text
    .split(/\s+/)
    .map((w) => w.replace(/[.,?!;:"']/g, '').toLowerCase())
    .filter(Boolean)
}

// The 16-bit PCM samples and rate of a mono WAV file written by espeak-ng.
export function pcm(path) {
  const b = readFileSync(path)
  let off = 12
  let rate = 0
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4)
    const size = b.readUInt32LE(off + 4)
    if (id === 'fmt ') rate = b.readUInt32LE(off + 12)
    if (id === 'data') {
      const n = Math.min(size, b.length - off - 8) / 2
      const out = new Float32Array(n)
      for (let i = 0; i < n; i++) out[i] = b.readInt16LE(off + 8 + 2 * i) / 32768
      return { samples: out, sampleRate: rate }
    }
    off += 8 + size + (size & 1)
  }
  throw new Error(`no data chunk in ${path}`)
}

// About two minutes of speech (long enough to be cancelled mid-way on a fast machine): the
// sentences repeated with half-second pauses.
export function longSpeech(paths) {
  const parts = paths.map(pcm)
  const rate = parts[0].sampleRate
  const pause = new Float32Array(rate / 2)
  const seq = []
  for (let i = 0; i < 12; i++) for (const p of parts) seq.push(p.samples, pause)
  const total = seq.reduce((n, a) => n + a.length, 0)
  const out = new Float32Array(total)
  let at = 0
  for (const a of seq) {
    out.set(a, at)
    at += a.length
  }
  return { samples: out, sampleRate: rate }
}
