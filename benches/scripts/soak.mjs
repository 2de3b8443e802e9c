// Soak through the Node.js binding: the Rust soak (benches/src/bin/soak.rs) call for call.
//
//   node --expose-gc [--min-semi-space-size=16 --max-semi-space-size=16] soak.mjs [--calls N] [--every K] [--warmup W] [--tolerance PCT] [--model NAME] CLIP...
//
// Prints one `node CALLS RSS_MIB` line per K calls and a verdict line; exits 1 when the RSS at
// the end exceeds the RSS after W calls by more than PCT percent, or a transcript changes.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'

const require = createRequire(import.meta.url)
const { Transcriber } = require('../../bindings-node/index.js')

const { values: o, positionals: clipsPaths } = parseArgs({
  allowPositionals: true,
  options: {
    calls: { type: 'string', default: '1000' },
    every: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '50' },
    tolerance: { type: 'string', default: '5' },
    model: { type: 'string', default: 'tiny.en' },
  },
})
const [calls, every, warmup, tolerance] = [o.calls, o.every, o.warmup, o.tolerance].map(Number)
if (clipsPaths.length === 0) {
  console.error('usage: soak.mjs [--calls N] [--every K] [--warmup W] [--tolerance PCT] [--model NAME] CLIP...')
  process.exit(2)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
// RSS after full collections, each given time for V8 to hand the freed pages back (it unmaps
// them on background threads, later still when the machine is busy).
const rssMib = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await sleep(100)
  }
  return process.memoryUsage().rss / 2 ** 20
}

const t = await Transcriber.load(o.model)
const clips = clipsPaths.map((p) => readFileSync(p))
const expected = clips.map(() => null)
let baseline = NaN
for (let call = 1; call <= calls; call++) {
  const n = (call - 1) % clips.length
  const { text } = await t.transcribe(clips[n], { wordTimestamps: true })
  if (expected[n] === null) {
    if (!text.trim()) {
      console.error(`soak: clip ${clipsPaths[n]} gave no text`)
      process.exit(1)
    }
    expected[n] = text
  } else if (text !== expected[n]) {
    console.error(`soak: call ${call}: ${JSON.stringify(text)} differs from ${JSON.stringify(expected[n])}`)
    process.exit(1)
  }
  if (call === warmup) baseline = await rssMib()
  if (call % every === 0 || call === calls) console.log(`node ${call} ${(await rssMib()).toFixed(1)}`)
}
const end = await rssMib()
const growth = ((end - baseline) / baseline) * 100
const ok = growth <= tolerance
console.log(
  `node: ${calls} calls, RSS ${baseline.toFixed(1)} MiB after ${warmup} calls, ${end.toFixed(1)} MiB ` +
    `at the end (${growth >= 0 ? '+' : ''}${growth.toFixed(2)}%, limit +${tolerance.toFixed(1)}%): ${ok ? 'ok' : 'FAILED'}`,
)
process.exit(ok ? 0 : 1)
