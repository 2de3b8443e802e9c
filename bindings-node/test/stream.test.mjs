// Live transcription from Node.js: pushes in order off the event loop, `for await` and
// listeners, commits without silence endpointing, AbortSignal, and bad pushes refused.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'

import { DEFAULT_MODEL, Transcriber } from '../index.mjs'
import { SENTENCES, pcm, speak, words } from './helpers.mjs'

let t
let call

// The sentences with `pause` seconds of silence around each, as 16-bit samples.
function conversation(paths, pause) {
  const parts = paths.map(pcm)
  const rate = parts[0].sampleRate
  const gap = new Float32Array(Math.round(rate * pause))
  const seq = [gap]
  for (const p of parts) seq.push(p.samples, gap)
  const out = new Int16Array(seq.reduce((n, a) => n + a.length, 0))
  let at = 0
  for (const a of seq) {
    for (let i = 0; i < a.length; i++) out[at + i] = Math.round(a[i] * 32767)
    at += a.length
  }
  return { samples: out, sampleRate: rate }
}

function pieces(samples, size) {
  const out = []
  for (let i = 0; i < samples.length; i += size) out.push(samples.subarray(i, i + size))
  return out
}

before(async () => {
  t = await Transcriber.load(DEFAULT_MODEL)
  call = conversation(SENTENCES.map((s, i) => speak(`live${i}.wav`, s)), 1.0)
})

describe('live streams', () => {
  test('for await gets turns, partials and finals while pushes run in order', async () => {
    const s = t.stream({ wordTimestamps: true })
    const seen = []
    const reading = (async () => {
      for await (const ev of s) seen.push(ev)
    })()
    // Not awaited one by one: the calls still run in the order they were made.
    const calls = pieces(call.samples, 2205).map((p) => s.push(p, call.sampleRate))
    calls.push(s.finish())
    await Promise.all(calls)
    await reading
    const kinds = seen.map((e) => e.type)
    const finals = seen.filter((e) => e.type === 'final')
    assert.equal(kinds.filter((k) => k === 'speech_started').length, SENTENCES.length, kinds.join(','))
    assert.equal(finals.length, SENTENCES.length, kinds.join(','))
    assert.ok(kinds.includes('partial'), 'partial text while speaking')
    for (const p of seen.filter((e) => e.type === 'partial')) {
      assert.equal(typeof p.unstable, 'string', JSON.stringify(p))
      assert.ok(p.text.endsWith(p.delta), JSON.stringify(p))
    }
    SENTENCES.forEach((said, i) => {
      const heard = new Set(words(finals[i].text))
      const hits = words(said).filter((w) => heard.has(w)).length
      assert.ok(hits >= words(said).length - 2, `${finals[i].text} / ${said}`)
      assert.ok(finals[i].segments.every((seg) => seg.words.length > 0))
      assert.ok(finals[i].start < finals[i].end)
    })
    const starts = seen.filter((e) => e.type === 'speech_started').map((e) => e.at)
    assert.deepEqual(starts, [...starts].sort((a, b) => a - b))
    assert.ok(Math.abs(s.duration - call.samples.length / call.sampleRate) < 0.05)
  })

  test('listeners get each kind, then end', async () => {
    const s = t.stream({ partialIntervalMs: 0 })
    const got = { speech_started: 0, speech_stopped: 0, final: 0, partial: 0, event: 0, end: 0 }
    for (const k of Object.keys(got)) s.on(k, () => got[k]++)
    for (const p of pieces(call.samples, 4410)) await s.push(p, call.sampleRate)
    await s.finish()
    assert.equal(got.final, SENTENCES.length)
    assert.equal(got.speech_started, SENTENCES.length)
    assert.equal(got.partial, 0, 'partialIntervalMs: 0 gives no partials')
    assert.equal(got.event, got.speech_started + got.speech_stopped + got.final)
    assert.equal(got.end, 1)
  })

  test('without silence endpointing, commit ends the turn; clear drops it', async () => {
    const s = t.stream({ endOnSilence: false, partialIntervalMs: 0 })
    const bytes = Buffer.from(call.samples.buffer, call.samples.byteOffset, call.samples.byteLength)
    // Two sentences and their pauses, as 16-bit PCM bytes: one turn, nothing final yet.
    const rate = call.sampleRate
    const two = bytes.subarray(0, 2 * Math.floor(call.samples.length * 0.6))
    const pushed = await s.push(two, rate)
    assert.ok(!pushed.some((e) => e.type === 'final'))
    const committed = await s.commit()
    const finals = committed.filter((e) => e.type === 'final')
    assert.equal(finals.length, 1, JSON.stringify(committed.map((e) => e.type)))
    const heard = new Set(words(finals[0].text))
    assert.ok(['customer', 'meeting'].every((w) => heard.has(w)), finals[0].text)
    await s.push(bytes.subarray(two.length), rate)
    await s.clear()
    const rest = await s.finish()
    assert.ok(!rest.some((e) => e.type === 'final'), 'a cleared turn gives no text')
    assert.deepEqual(await s.commit().catch((e) => e.code), 'ERR_STENOGRAPH_INVALID_ARGUMENT')
  })

  test('an AbortSignal stops a decode in progress and ends iteration', async () => {
    const controller = new AbortController()
    const s = t.stream({ signal: controller.signal, endOnSilence: false, partialIntervalMs: 0 })
    // About 25 s of speech in one turn, committed: a decode of a full window, aborted.
    const long = new Int16Array(call.samples.length * 2)
    long.set(call.samples)
    long.set(call.samples, call.samples.length)
    // Settles with the error iteration ended with (read at the end).
    const iterating = (async () => {
      for await (const ev of s) void ev
    })().then(
      () => null,
      (e) => e,
    )
    await s.push(long.subarray(0, Math.min(long.length, 25 * call.sampleRate)), call.sampleRate)
    const committing = s.commit()
    setTimeout(() => controller.abort(), 20)
    await assert.rejects(committing, (e) => e.name === 'AbortError' && e.code === 'ERR_STENOGRAPH_CANCELLED')
    await assert.rejects(s.push(call.samples, call.sampleRate), (e) => e.name === 'AbortError')
    const ended = await iterating
    assert.equal(ended && ended.name, 'AbortError')
  })

  test('bad pushes and options are refused with typed errors', async () => {
    const s = t.stream()
    await assert.rejects(s.push('not audio'), TypeError)
    await assert.rejects(s.push(new Uint8Array(3)), (e) => e.code === 'ERR_STENOGRAPH_INVALID_ARGUMENT')
    await assert.rejects(s.push(new Int16Array(10), 0.5), RangeError)
    await assert.rejects(s.push(new Float32Array([0, NaN])), (e) => e.code === 'ERR_STENOGRAPH_INVALID_ARGUMENT')
    await s.push(new Int16Array(1600), 16000)
    await assert.rejects(s.push(new Int16Array(4800), 48000), /one rate/)
    // A refused call does not hold up the ones after it.
    await s.push(new Int16Array(1600), 16000)
    await s.finish()
    await assert.rejects(s.push(new Int16Array(1600)), /finished/)
    assert.throws(() => t.stream({ silenceMs: -5 }), RangeError)
    assert.throws(() => t.stream({ maxTurnMs: 60000 }), (e) => e.code === 'ERR_STENOGRAPH_INVALID_ARGUMENT')
    assert.throws(() => t.stream({ language: 'de' }), (e) => e.code === 'ERR_STENOGRAPH_INVALID_ARGUMENT')
    assert.throws(() => t.stream({ languages: ['de'] }), (e) => e.code === 'ERR_STENOGRAPH_INVALID_ARGUMENT')
    assert.throws(() => t.stream({ languages: 'de' }), (e) => e instanceof TypeError)
    assert.throws(() => t.stream({ threshold: 'high' }), TypeError)
    assert.throws(() => t.stream(5), TypeError)
  })
})
