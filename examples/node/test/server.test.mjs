// The service end to end with the real tiny.en: every response format and OpenAI-shaped errors.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

process.env.STENOGRAPH_MAX_UPLOAD_MB = '2'
const { start } = await import('../server.mjs')

const SENTENCE = 'Please call the customer back before noon tomorrow.'
const words = (s) => s.split(/\s+/).map((w) => w.replace(/[.,?!]/g, '').toLowerCase()).filter(Boolean)

let server
let base
let wav

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stenograph-api-'))
  const path = join(dir, 'call.wav')
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '140', '-w', path, SENTENCE])
  wav = readFileSync(path)
  server = await start(0)
  base = `http://127.0.0.1:${server.address().port}/v1/audio`
})

after(() => server.close())

function post(fields = {}, file = wav, route = 'transcriptions') {
  const form = new FormData()
  if (file) form.set('file', new Blob([file], { type: 'audio/wav' }), 'call.wav')
  form.set('model', 'whisper-1')
  for (const [k, v] of Object.entries(fields)) {
    if (Array.isArray(v)) for (const x of v) form.append(k, x)
    else form.set(k, v)
  }
  return fetch(`${base}/${route}`, { method: 'POST', body: form })
}

test('json and text', async () => {
  let r = await post()
  assert.equal(r.status, 200)
  assert.equal(r.headers.get('content-type'), 'application/json')
  assert.deepEqual(words((await r.json()).text), words(SENTENCE))
  r = await post({ response_format: 'text' })
  assert.match(r.headers.get('content-type'), /^text\/plain/)
  assert.deepEqual(words(await r.text()), words(SENTENCE))
})

test('subtitles and verbose_json with words', async () => {
  let r = await post({ response_format: 'srt' })
  assert.match(r.headers.get('content-type'), /^application\/x-subrip/)
  assert.match(await r.text(), /^1\n00:00:/)
  r = await post({ response_format: 'vtt' })
  assert.match(await r.text(), /^WEBVTT/)
  r = await post({ response_format: 'verbose_json', language: 'en', 'timestamp_granularities[]': ['word', 'segment'] })
  const body = await r.json()
  assert.equal(body.task, 'transcribe')
  assert.equal(body.language, 'english')
  assert.ok(body.duration > 2)
  assert.deepEqual(body.words.slice(0, 2).map((w) => w.word.toLowerCase()), ['please', 'call'])
})

test('errors in OpenAI shape', async () => {
  const error = async (r, status, param = null) => {
    assert.equal(r.status, status)
    const { error: e } = await r.json()
    assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type'])
    assert.ok(e.message)
    assert.equal(e.param, param)
    return e
  }
  assert.equal((await error(await post({ model: 'gpt-4' }), 400, 'model')).code, 'model_not_found')
  await error(await post({ response_format: 'xml' }), 400, 'response_format')
  await error(await post({ temperature: 'hot' }), 400, 'temperature')
  await error(await post({}, null), 400, 'file')
  assert.equal((await error(await post({}, Buffer.alloc(0)), 400, 'file')).code, 'empty_input')
  assert.equal((await error(await post({}, Buffer.from('text '.repeat(400))), 400, 'file')).code, 'unknown_format')
  assert.equal((await error(await post({}, Buffer.alloc(3 * 1024 * 1024)), 413, 'file')).code, 'file_too_large')
  assert.equal((await error(await post({ language: 'fr' }), 400)).code, 'invalid_argument')
  assert.equal((await error(await post({}, wav, 'translations'), 400, 'model')).code, 'model_not_multilingual')
})
