// Concurrency stress through the Node.js binding: the Rust stress (benches/src/bin/stress.rs)
// with concurrent promises.
//
//   node stress.mjs [--threads N] [--seconds S] [--model NAME] CLIP...
//
// N async loops share one Transcriber for S seconds, each running a random mix of good clips
// (the text must equal the clip's sequential transcript), bad inputs (the right error code),
// silence (empty text), bad options and calls aborted through an AbortSignal after a random
// delay (aborted, or finished with the right text). Exits 1 on any wrong result, 3 when no call
// completes for a minute (a deadlock).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'

const require = createRequire(import.meta.url)
const { Transcriber } = require('../../bindings-node/index.js')

const { values: o, positionals: paths } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '600' },
    model: { type: 'string', default: 'tiny.en' },
  },
})
if (paths.length === 0) {
  console.error('usage: stress.mjs [--threads N] [--seconds S] [--model NAME] CLIP...')
  process.exit(2)
}
const KINDS = ['clip', 'empty', 'not_audio', 'header_only', 'silence', 'bad_language', 'cancelled']

const t = await Transcriber.load(o.model)
const clips = paths.map((p) => readFileSync(p))
const expected = []
for (const c of clips) expected.push((await t.transcribe(c)).text)
if (!expected.every((e) => e.trim())) {
  console.error(`stress: a clip gave no reference text: ${JSON.stringify(expected)}`)
  process.exit(1)
}

const counts = new Map()
const failures = []
const start = Date.now()
let progress = start
let stop = false

async function wantError(kind, promise, code) {
  let tr
  try {
    tr = await promise
  } catch (e) {
    if (e.code === code) return code
    throw new Error(`${kind}: expected ${code}, got ${e.code}: ${e.message}`)
  }
  throw new Error(`${kind}: expected ${code}, got a transcript ${JSON.stringify(tr.text)}`)
}

async function one(kind, rng) {
  const n = Math.floor(rng() * clips.length)
  switch (kind) {
    case 'clip': {
      const { text } = await t.transcribe(clips[n])
      if (text !== expected[n]) throw new Error(`clip ${n}: ${JSON.stringify(text)} != ${JSON.stringify(expected[n])}`)
      return 'ok'
    }
    case 'empty':
      return wantError(kind, t.transcribe(new Uint8Array(0)), 'ERR_STENOGRAPH_EMPTY_INPUT')
    case 'not_audio':
      return wantError(kind, t.transcribe(Buffer.from('This is a text file, not a recording.')), 'ERR_STENOGRAPH_UNKNOWN_FORMAT')
    case 'header_only':
      return wantError(kind, t.transcribe(clips[n].subarray(0, 44)), 'ERR_STENOGRAPH_CORRUPT')
    case 'silence': {
      const { text } = await t.transcribe({ samples: new Float32Array(32000), sampleRate: 16000 })
      if (text !== '') throw new Error(`silence gave ${JSON.stringify(text)}`)
      return 'ok'
    }
    case 'bad_language':
      return wantError(kind, t.transcribe(clips[n], { language: 'xx' }), 'ERR_STENOGRAPH_INVALID_ARGUMENT')
    default: {
      const ac = new AbortController()
      const timer = setTimeout(() => ac.abort(), rng() * 400)
      try {
        const { text } = await t.transcribe(clips[n], { signal: ac.signal })
        if (text !== expected[n]) throw new Error(`aborted clip ${n}: ${JSON.stringify(text)} != ${JSON.stringify(expected[n])}`)
        return 'finished first'
      } catch (e) {
        if (e.code === 'ERR_STENOGRAPH_CANCELLED' && e.name === 'AbortError') return 'cancelled'
        throw e
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

async function loop(seed) {
  let s = seed * 2654435761
  const rng = () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
  while (!stop) {
    const kind = rng() < 0.5 ? KINDS[Math.floor(rng() * KINDS.length)] : 'clip'
    try {
      const how = await one(kind, rng)
      counts.set(`${kind}: ${how}`, (counts.get(`${kind}: ${how}`) ?? 0) + 1)
    } catch (e) {
      failures.push(`${kind}: ${e.message}`)
    }
    progress = Date.now()
  }
}

const watchdog = setInterval(() => {
  const now = Date.now()
  if (now - progress > 60_000) {
    console.error(`stress: no call completed for ${Math.round((now - progress) / 1000)} s: deadlock`)
    process.exit(3)
  }
  if (now - start >= Number(o.seconds) * 1000) stop = true
}, 200)
await Promise.all(Array.from({ length: Number(o.threads) }, (_, i) => loop(i + 1)))
clearInterval(watchdog)

const elapsed = (Date.now() - start) / 1000
for (const [what, n] of [...counts].sort()) console.log(`${what.padEnd(32)} ${String(n).padStart(6)}`)
for (const f of failures.slice(0, 20)) console.log(`FAILED ${f}`)
const calls = [...counts.values()].reduce((a, b) => a + b, 0) + failures.length
console.log(
  `node: ${o.threads} threads, ${calls} calls in ${elapsed.toFixed(0)} s (${(calls / elapsed).toFixed(1)} calls/s), ` +
    `${failures.length} wrong: ${failures.length ? 'FAILED' : 'ok'}`,
)
process.exit(failures.length ? 1 : 0)
