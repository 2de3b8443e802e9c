// Hotwords: rare names spelled as listed, in calls, batches and live streams; bad lists refused.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { before, test } from 'node:test'

import { DEFAULT_MODEL, Transcriber } from '../index.mjs'
import { pcm, speak, words } from './helpers.mjs'

const NAMES =
  'Good morning, this is Siobhan Kowalczyk from Zyxtera. I wanted to follow up on the ' +
  'Quantivo renewal with Mister Okonkwo before Thursday. Our competitor Brightmesh offered ' +
  'Nakamura Logistics a lower price, but Stenograph still wins on accuracy.'
const TERMS = [
  'Siobhan Kowalczyk', 'Zyxtera', 'Quantivo', 'Okonkwo', 'Brightmesh', 'Nakamura Logistics',
  'Stenograph',
]

const spelled = (text) => {
  const said = words(text).join(' ')
  return TERMS.filter((t) => said.includes(words(t).join(' '))).length
}

let t
let clip

before(async () => {
  t = await Transcriber.load(DEFAULT_MODEL)
  clip = speak('names.wav', NAMES)
})

test('listed names come out spelled', async () => {
  const plain = await t.transcribe(clip)
  const biased = await t.transcribe(clip, { hotwords: TERMS })
  assert.ok(spelled(plain.text) <= 1, plain.text)
  assert.ok(spelled(biased.text) >= 3, biased.text)
  const [batched] = await t.transcribeBatch([readFileSync(clip)], { hotwords: TERMS })
  assert.ok(spelled(batched.text) >= 3, batched.text)
})

test('a live stream takes them too', async () => {
  const { samples, sampleRate } = pcm(clip)
  const s = t.stream({ hotwords: TERMS })
  const events = []
  for (let i = 0; i < samples.length; i += sampleRate / 10) {
    events.push(...(await s.push(samples.subarray(i, i + sampleRate / 10), sampleRate)))
  }
  events.push(...(await s.finish()))
  const finals = events.filter((e) => e.type === 'final').map((e) => e.text).join(' ')
  assert.ok(spelled(finals) >= 3, finals)
})

test('bad lists are refused', async () => {
  const invalid = (p, pattern) =>
    assert.rejects(p, (e) => {
      assert.equal(e.code, 'ERR_STENOGRAPH_INVALID_ARGUMENT')
      assert.match(e.message, pattern)
      return true
    })
  await invalid(t.transcribe(clip, { hotwords: ['Acme, Inc.'] }), /comma/)
  await invalid(t.transcribe(clip, { hotwords: ['x'.repeat(65)] }), /longer than 64/)
  const many = Array.from({ length: 60 }, (_, i) => `Xqzvyl${i}Wbrkt Pqoxz${i}`)
  await invalid(t.transcribe(clip, { hotwords: many }), /tokens/)
  await assert.rejects(t.transcribe(clip, { hotwords: 'Zyxtera' }), TypeError)
})
