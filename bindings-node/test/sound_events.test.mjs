// Sound events: noise gives no text, every mode keeps the speech, an unknown mode is refused.
import assert from 'node:assert/strict'
import { before, test } from 'node:test'

import { DEFAULT_MODEL, Transcriber } from '../index.mjs'
import { SENTENCES, speak, words } from './helpers.mjs'

let t
let clip

before(async () => {
  t = await Transcriber.load(DEFAULT_MODEL)
  clip = speak('sound-events.wav', SENTENCES[0])
})

/** Brown noise: a random walk with its slow drift taken out, 0.2 peak. */
function brownNoise (seconds, rate = 16000) {
  let seed = 7
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648 - 0.5
  }
  const out = new Float32Array(seconds * rate)
  let walk = 0
  let drift = 0
  for (let i = 0; i < out.length; i++) {
    walk += random()
    drift += (walk - drift) / 400
    out[i] = walk - drift
  }
  const peak = out.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
  return out.map((v) => (0.2 * v) / peak)
}

test('noise gives no text', async () => {
  for (const vad of [true, false]) {
    const tr = await t.transcribe({ samples: brownNoise(8), sampleRate: 16000 }, { vad })
    assert.equal(tr.text, '', `vad ${vad}: ${tr.text}`)
  }
})

test('every mode keeps the speech', async () => {
  const plain = words((await t.transcribe(clip)).text)
  for (const soundEvents of ['drop', 'keep', 'suppress']) {
    const got = words((await t.transcribe(clip, { soundEvents })).text)
    const found = plain.filter((w) => got.includes(w)).length
    assert.ok(found >= 0.9 * plain.length, `${soundEvents}: ${got} vs ${plain}`)
  }
})

test('an unknown mode is refused', async () => {
  await assert.rejects(t.transcribe(clip, { soundEvents: 'mute' }), (e) => {
    assert.equal(e.code, 'ERR_STENOGRAPH_INVALID_ARGUMENT')
    assert.match(e.message, /sound events/)
    return true
  })
  await assert.rejects(t.transcribe(clip, { soundEvents: true }), TypeError)
})
