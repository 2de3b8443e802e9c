// The Node.js package with the real tiny.en: inputs, options, formats, errors, the event loop,
// AbortSignal, concurrency and memory.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { before, describe, test } from 'node:test'

import { inspect } from 'node:util'

import { DEFAULT_MODEL, Transcriber, contentType, fetchModel } from '../index.mjs'
import { SENTENCES, longSpeech, pcm, speak, words } from './helpers.mjs'

let t
let clips
let long

before(async () => {
  t = await Transcriber.load(DEFAULT_MODEL)
  clips = SENTENCES.map((s, i) => speak(`s${i}.wav`, s))
  long = longSpeech(clips)
})

describe('inputs and results', () => {
  test('a path gives a typed transcript', async () => {
    const tr = await t.transcribe(clips[0])
    assert.deepEqual(words(tr.text), words(SENTENCES[0]))
    assert.equal(tr.language, 'en')
    assert.equal(tr.languageProbability, 1)
    assert.ok(tr.duration > 2 && tr.duration < 6, `${tr.duration}`)
    const [seg] = tr.segments
    assert.equal(seg.id, 0)
    assert.ok(seg.start >= 0 && seg.start < seg.end && seg.end <= tr.duration + 0.01)
    assert.ok(seg.tokens.length > 0 && seg.avgLogprob < 0 && seg.avgLogprob > -2)
    assert.deepEqual(seg.words, [])
    assert.equal(t.model, 'tiny.en')
    assert.equal(t.multilingual, false)
  })

  test('Buffer, Uint8Array and samples give the same words', async () => {
    const file = readFileSync(clips[0])
    const { samples, sampleRate } = pcm(clips[0])
    const stereo = new Float32Array(samples.length * 2)
    samples.forEach((x, i) => {
      stereo[2 * i] = x
      stereo[2 * i + 1] = -x // cancelling channels
    })
    for (const input of [
      file,
      new Uint8Array(file),
      { samples, sampleRate },
      { samples: stereo, sampleRate, channels: 2 },
    ]) {
      const tr = await t.transcribe(input)
      assert.deepEqual(words(tr.text), words(SENTENCES[0]))
    }
  })

  test('options, callbacks and formats', async () => {
    const progress = []
    const segments = []
    const tr = await t.transcribe(clips[0], {
      language: 'en',
      wordTimestamps: true,
      beamSize: 5,
      onProgress: (p) => progress.push(p),
      onSegment: (s) => segments.push(s),
    })
    const all = tr.segments.flatMap((s) => s.words)
    assert.deepEqual(
      all.slice(0, 3).map((w) => w.word.trim().toLowerCase()),
      ['please', 'call', 'the'],
    )
    for (const w of all) assert.ok(w.start <= w.end && w.probability > 0 && w.probability <= 1)
    await new Promise((r) => setImmediate(r)) // callbacks are queued to this thread
    assert.equal(progress.at(-1), 100)
    assert.deepEqual(
      segments.map((s) => s.text),
      tr.segments.map((s) => s.text),
    )
    assert.match(tr.toSrt(), /^1\n00:00:/)
    assert.match(tr.toVtt(), /^WEBVTT/)
    assert.match(tr.toTsv(), /^start\tend\ttext\n/)
    const json = JSON.parse(JSON.stringify(tr))
    assert.equal(json.text, tr.text)
    assert.equal(json.language, 'english')
    assert.equal(json.words.length, all.length)
    const split = await t.transcribe(clips[0], { maxSegmentChars: 12 })
    assert.ok(split.segments.length >= 3)
  })

  test('a batch returns one transcript per input, in order', async () => {
    const out = await t.transcribeBatch([...clips, readFileSync(clips[0])])
    assert.deepEqual(
      out.map((tr) => words(tr.text)),
      [...SENTENCES, SENTENCES[0]].map(words),
    )
  })

  test('silence gives empty text', async () => {
    const tr = await t.transcribe({ samples: new Float32Array(16000 * 5), sampleRate: 16000 })
    assert.equal(tr.text, '')
    assert.deepEqual(tr.segments, [])
    assert.equal(tr.duration, 5)
  })
})

describe('errors', () => {
  // The core's code, Node-style, and its category: the same names Python and C give.
  const rejects = (promise, code, category) =>
    assert.rejects(promise, (e) => {
      assert.ok(e instanceof Error)
      assert.equal(e.code, code)
      assert.equal(e.category, category)
      assert.ok(e.message.length > 0)
      return true
    })

  test('bad audio', async () => {
    const file = readFileSync(clips[0])
    await rejects(t.transcribe(Buffer.alloc(0)), 'ERR_STENOGRAPH_EMPTY_INPUT', 'decode')
    await rejects(t.transcribe(Buffer.from('plain text, not audio '.repeat(50))), 'ERR_STENOGRAPH_UNKNOWN_FORMAT', 'decode')
    await rejects(t.transcribe(file.subarray(0, 44)), 'ERR_STENOGRAPH_CORRUPT', 'decode')
    const cut = await t.transcribe(file.subarray(0, file.length >> 1))
    assert.ok(cut.duration > 0.5 && cut.duration < 3)
    assert.equal(cut.warnings.length, 1)
    assert.match(cut.warnings[0], /^truncated/)
    const [batched] = await t.transcribeBatch([file.subarray(0, file.length >> 1)])
    assert.deepEqual(batched.warnings, cut.warnings)
    const noise = Buffer.from(file)
    for (let i = 44; i < noise.length; i++) noise[i] = (i * 7919) % 251
    assert.equal((await t.transcribe(noise)).text, '')
    await rejects(t.transcribe('/nonexistent/call.wav'), 'ERR_STENOGRAPH_IO', 'io')
    await rejects(t.transcribe({ samples: new Float32Array(100), sampleRate: 0 }), 'ERR_OUT_OF_RANGE', 'invalid_argument')
  })

  test('bad options and models', async () => {
    const invalid = (p) => rejects(p, 'ERR_STENOGRAPH_INVALID_ARGUMENT', 'invalid_argument')
    await invalid(t.transcribe(clips[0], { task: 'sing' }))
    await invalid(t.transcribe(clips[0], { language: 'fr' }))
    await invalid(t.transcribe(clips[0], { language: 'english' }))
    await invalid(t.transcribe(clips[0], { languages: ['de', 'fr'] }))
    await invalid(t.transcribe(clips[0], { languages: ['en', 'english'] }))
    await invalid(t.transcribe(clips[0], { temperature: 3 }))
    await invalid(t.transcribe(clips[0], { temperature: NaN }))
    await rejects(Transcriber.load('tiny.xx'), 'ERR_STENOGRAPH_UNKNOWN_MODEL', 'model')
    await rejects(Transcriber.load('/nonexistent.bin'), 'ERR_STENOGRAPH_MODEL_NOT_FOUND', 'model')
    await invalid(Transcriber.load('tiny.en', { device: 'tpu' }))
    await rejects(Transcriber.load('tiny.en', { device: 'gpu:0' }), 'ERR_STENOGRAPH_DEVICE', 'device')
  })

  test('wrong argument types reject with a TypeError, never throw', async () => {
    const wrongType = async (call) => {
      let promise
      assert.doesNotThrow(() => { promise = call() })
      await assert.rejects(promise, (e) => {
        assert.ok(e instanceof TypeError, e)
        assert.equal(e.code, 'ERR_INVALID_ARG_TYPE')
        assert.equal(e.category, 'invalid_argument')
        assert.doesNotMatch(e.message, /rust|String|Either|napi/)
        return true
      })
    }
    await wrongType(() => t.transcribe(42))
    await wrongType(() => t.transcribe(null))
    await wrongType(() => t.transcribe({ samples: [0, 0, 0], sampleRate: 16000 }))
    await wrongType(() => t.transcribe({ samples: new Float64Array(10), sampleRate: 16000 }))
    await wrongType(() => t.transcribe(new Float32Array(10)))
    await wrongType(() => t.transcribe({ samples: new Float32Array(10), sampleRate: '16000' }))
    await wrongType(() => t.transcribe(clips[0], { language: 5 }))
    await wrongType(() => t.transcribe(clips[0], { languages: 'en,de' }))
    await wrongType(() => t.transcribe(clips[0], { beamSize: '5' }))
    await wrongType(() => t.transcribe(clips[0], { onProgress: 'log' }))
    await wrongType(() => t.transcribe(clips[0], 'en'))
    await wrongType(() => t.transcribeBatch(clips[0]))
    await wrongType(() => t.transcribeBatch([clips[0], 7]))
    await wrongType(() => Transcriber.load(7))
    await wrongType(() => Transcriber.load('tiny.en', { device: 0 }))
    await wrongType(() => fetchModel({}))
  })

  test('numbers are whole and in range, never wrapped or truncated', async () => {
    const invalid = (p) =>
      assert.rejects(p, (e) => {
        assert.ok(e instanceof RangeError, e)
        assert.equal(e.code, 'ERR_OUT_OF_RANGE')
        assert.equal(e.category, 'invalid_argument')
        assert.doesNotMatch(e.message, /rust|u32|f64|usize/i)
        return true
      })
    const samples = new Float32Array(16000)
    for (const sampleRate of [-1, 2 ** 40, NaN, Infinity, 16000.5, 0]) {
      await invalid(t.transcribe({ samples, sampleRate }))
    }
    await invalid(t.transcribe({ samples, sampleRate: 16000, channels: 0 }))
    for (const beamSize of [-1, 2.5, 9, 2 ** 40]) {
      await invalid(t.transcribe(clips[0], { beamSize }))
    }
    await invalid(t.transcribe(clips[0], { maxSegmentChars: 0 }))
    await invalid(t.transcribeBatch([clips[0]], { beamSize: 1.5 }))
    for (const maxConcurrent of [-1, 0, 1.5, 2 ** 40]) {
      await invalid(Transcriber.load('tiny.en', { maxConcurrent }))
    }
    await invalid(Transcriber.load('tiny.en', { threadsPerCall: -2 }))
  })
})

describe('callbacks that throw', () => {
  test('reject the call with what they threw, and the process goes on', async () => {
    const boom = new Error('progress callback failed')
    await assert.rejects(
      t.transcribe(long, { onProgress: () => { throw boom } }),
      (e) => e === boom,
    )
    await assert.rejects(
      t.transcribe(long, { onSegment: () => { throw new TypeError('bad segment') } }),
      (e) => e instanceof TypeError && e.message === 'bad segment',
    )
    await assert.rejects(
      t.transcribeBatch([clips[0], clips[1]], { onProgress: () => { throw boom } }),
      (e) => e === boom,
    )
    // A callback that returns something is fine, and the transcriber still works.
    const tr = await t.transcribe(clips[0], { onProgress: () => 42, onSegment: async () => 'x' })
    assert.ok(tr.text.length > 0)
  })
})

describe('inputs and helpers', () => {
  test('ArrayBuffer file bytes and Int16Array samples', async () => {
    const file = readFileSync(clips[0])
    const expected = (await t.transcribe(file)).text
    const ab = file.buffer.slice(file.byteOffset, file.byteOffset + file.length)
    assert.equal((await t.transcribe(ab)).text, expected)
    // The WAV's own 16-bit samples (espeak-ng writes 22.05 kHz mono after a 44-byte header).
    const rate = file.readUInt32LE(24)
    const i16 = new Int16Array(file.buffer.slice(file.byteOffset + 44, file.byteOffset + file.length - (file.length - 44) % 2))
    assert.deepEqual(words((await t.transcribe({ samples: i16, sampleRate: rate })).text), words(expected))
  })

  test('fetchModel resolves to the cached file; console.log shows the fields', async () => {
    const path = await fetchModel(DEFAULT_MODEL)
    assert.ok(readFileSync(path).length > 1e6, path)
    await assert.rejects(fetchModel('tiny.xx'), (e) => e.code === 'ERR_STENOGRAPH_UNKNOWN_MODEL')
    const tr = await t.transcribe(clips[0])
    const shown = inspect(tr)
    assert.match(shown, /^Transcript \{/)
    assert.ok(shown.includes(JSON.stringify(tr.text).slice(1, 20)), shown)
    assert.match(shown, /language: 'en'/)
  })
})

describe('close', () => {
  test('waits for background work and refuses later calls', async () => {
    const t2 = await Transcriber.load(DEFAULT_MODEL)
    assert.equal(t2.closed, false)
    const ac = new AbortController()
    const call = t2.transcribe(long, { signal: ac.signal })
    setTimeout(() => ac.abort(), 300)
    await assert.rejects(call, { name: 'AbortError' })
    await t2.close()
    assert.equal(t2.closed, true)
    await assert.rejects(t2.transcribe(clips[0]), (e) => e.code === 'ERR_STENOGRAPH_INVALID_ARGUMENT' && /closed/.test(e.message))
    await t2.close()
  })
})

describe('the core vocabulary', () => {
  test('options, formats and content types come from the core', async () => {
    const a = await t.transcribe(clips[0], { language: 'EN', beamSize: 1, initialPrompt: 'Acme' })
    const b = await t.transcribe(clips[0], { language: 'auto', beamSize: 0 })
    assert.equal(a.language, 'en')
    const c = await t.transcribe(clips[0], { languages: ['de', 'EN'] })
    assert.equal(c.language, 'en')
    assert.equal(c.text, b.text)
    assert.equal(a.task, 'transcribe')
    assert.deepEqual(a.warnings, [])
    assert.equal(b.text.length > 0, true)
    assert.equal(a.render('srt'), a.toSrt())
    assert.equal(a.render('vtt'), a.toVtt())
    assert.equal(a.render('tsv'), a.toTsv())
    assert.deepEqual(JSON.parse(a.render('json')), { text: a.text })
    assert.deepEqual(JSON.parse(a.render('verbose_json')), a.toJSON())
    assert.equal(contentType('srt'), 'application/x-subrip')
    assert.equal(contentType('verbose_json'), 'application/json')
    assert.throws(() => a.render('docx'), (e) => e.code === 'ERR_STENOGRAPH_INVALID_ARGUMENT')
    assert.ok(a.segments.every((s) => s.temperature === 0))
  })
})

describe('the event loop, cancellation and concurrency', () => {
  test('timers keep firing while a transcription runs', async () => {
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    const started = performance.now()
    await t.transcribe(long)
    const elapsed = performance.now() - started
    clearInterval(timer)
    assert.ok(ticks > elapsed / 10 / 3, `${ticks} ticks in ${elapsed} ms`)
  })

  test('AbortSignal cancels within a second', async () => {
    const ac = new AbortController()
    const call = t.transcribe(long, { signal: ac.signal })
    await new Promise((r) => setTimeout(r, 500))
    const at = performance.now()
    ac.abort()
    await assert.rejects(call, (e) => e.name === 'AbortError' && e.code === 'ERR_STENOGRAPH_CANCELLED')
    assert.ok(performance.now() - at < 1000, `${performance.now() - at} ms`)
    await assert.rejects(t.transcribe(clips[0], { signal: AbortSignal.abort() }), { name: 'AbortError' })
  })

  test('concurrent calls share one model and match sequential ones', async () => {
    const sequential = []
    for (const c of clips) sequential.push((await t.transcribe(c)).text)
    const all = await Promise.all([...clips, ...clips, ...clips].map((c) => t.transcribe(c)))
    assert.deepEqual(
      all.map((tr) => tr.text),
      [...sequential, ...sequential, ...sequential],
    )
  })

  test('CommonJS require gives the same binding', () => {
    const require = createRequire(import.meta.url)
    assert.equal(require('../index.js').Transcriber, Transcriber)
  })
})
