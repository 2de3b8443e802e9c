// Speakers by channel: a two-party call with one party per channel.
import assert from 'node:assert/strict'
import { before, test } from 'node:test'

import { DEFAULT_MODEL, Transcriber } from '../index.mjs'
import { SENTENCES, pcm, speak, words } from './helpers.mjs'

let t
let call

before(async () => {
  t = await Transcriber.load(DEFAULT_MODEL)
  // Party 0 says SENTENCES[0], then party 1 says SENTENCES[1]; each leaks into the other's
  // channel at -26 dB.
  const a = pcm(speak('party0.wav', SENTENCES[0]))
  const b = pcm(speak('party1.wav', SENTENCES[1]))
  const gap = a.sampleRate / 2
  const n = a.samples.length + gap + b.samples.length + gap
  const left = new Float32Array(n)
  const right = new Float32Array(n)
  left.set(a.samples, 0)
  right.set(b.samples, a.samples.length + gap)
  const samples = new Float32Array(2 * n)
  for (let i = 0; i < n; i++) {
    samples[2 * i] = left[i] + 0.05 * right[i]
    samples[2 * i + 1] = right[i] + 0.05 * left[i]
  }
  call = { samples, sampleRate: a.sampleRate, channels: 2 }
})

test('each channel is a speaker and leaks are not repeated', async () => {
  const tr = await t.transcribe(call, {
    speakers: 'channels',
    speakerNames: ['agent', 'customer'],
    wordTimestamps: true,
  })
  assert.deepEqual(tr.speakers, ['agent', 'customer'])
  const turns = tr.turns()
  assert.deepEqual(turns.map(([who]) => who), ['agent', 'customer'], JSON.stringify(turns))
  turns.forEach(([, said], i) => {
    const heard = new Set(words(said))
    const want = words(SENTENCES[i])
    assert.ok(want.filter((w) => heard.has(w)).length >= want.length - 2, said)
  })
  for (const s of tr.segments) {
    assert.ok(['agent', 'customer'].includes(s.speaker))
    for (const w of s.words) assert.equal(w.speaker, s.speaker)
  }
  assert.match(tr.render('vtt'), /<v customer>/)
  const plain = await t.transcribe(call)
  assert.deepEqual(plain.speakers, [])
  assert.ok(plain.segments.every((s) => s.speaker === undefined || s.speaker === null))
})

test('bad speaker options are rejected', async () => {
  const invalid = (p) => assert.rejects(p, (e) => e.code === 'ERR_STENOGRAPH_INVALID_ARGUMENT')
  await invalid(t.transcribe(call, { speakers: 'everyone' }))
  await invalid(t.transcribe(call, { speakers: 'channels', speakerNames: ['a', 'a'] }))
  await assert.rejects(t.transcribe(call, { speakerNames: 'agent,customer' }), TypeError)
})

test('voices in a mono call are told apart', async () => {
  const a = pcm(speak('voice0.wav', SENTENCES[0]))
  const b = pcm(speak('voice1.wav', SENTENCES[1], 'en-us+f3'))
  const gap = new Float32Array(a.sampleRate / 2)
  const parts = [a.samples, gap, b.samples, gap, a.samples, gap, b.samples]
  const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
  parts.reduce((at, p) => { samples.set(p, at); return at + p.length }, 0)
  for (const speakers of ['auto', '2']) {
    const tr = await t.transcribe({ samples, sampleRate: a.sampleRate }, { speakers })
    assert.equal(tr.speakers.length, 2, `${speakers}: ${tr.speakers}`)
    const said = (s) => tr.segments
      .filter((seg) => words(seg.text).slice(0, 2).join(' ') === words(s).slice(0, 2).join(' '))
      .map((seg) => seg.speaker)
    const first = said(SENTENCES[0])
    const second = said(SENTENCES[1])
    assert.ok(first.length && second.length && !first.some((x) => second.includes(x)),
      `${speakers}: ${JSON.stringify(tr.segments.map((s) => [s.speaker, s.text]))}`)
  }
})
