// An OpenAI-compatible transcription service on node:http with Stenograph in-process.
//
//   STENOGRAPH_MODEL=tiny.en PORT=8000 node server.mjs
//
// POST /v1/audio/transcriptions takes OpenAI's multipart form (file, model, language, prompt,
// response_format = json|text|srt|vtt|verbose_json, temperature, timestamp_granularities[]) and
// answers in OpenAI's shapes, errors included (an error's `code` is the library's own name of
// the failure, e.g. `unknown_format`, the same as the FastAPI example's). One model serves every
// request; a client that disconnects cancels its transcription. Multipart parsing is the
// platform's (Request.formData). Translations need a multilingual model: with an English-only
// one (the default, tiny.en) /v1/audio/translations answers 400 `model_not_multilingual`.
import { createServer } from 'node:http'
import { Readable } from 'node:stream'

import { DEFAULT_MODEL, Transcriber, contentType } from 'stenograph'

const MODEL = process.env.STENOGRAPH_MODEL ?? DEFAULT_MODEL
const MAX_UPLOAD_BYTES = Number(process.env.STENOGRAPH_MAX_UPLOAD_MB ?? 25) * 1024 * 1024
const FORMATS = new Set(['json', 'text', 'srt', 'vtt', 'verbose_json'])

class ApiError extends Error {
  constructor(status, message, type, param = null, code = null) {
    super(message)
    Object.assign(this, { status, type, param, code })
  }
}

function send(res, status, body, type = 'application/json') {
  const data = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(data) })
  res.end(data)
}

function sendError(res, e) {
  if (!(e instanceof ApiError)) {
    // The library's code without Node's prefix: `ERR_STENOGRAPH_UNKNOWN_FORMAT` → `unknown_format`.
    const code = e.code?.startsWith('ERR_STENOGRAPH_') ? e.code.slice(15).toLowerCase() : null
    if (e.category === 'decode') e = new ApiError(400, e.message, 'invalid_request_error', 'file', code)
    else if (e.category === 'invalid_argument') e = new ApiError(400, e.message, 'invalid_request_error', null, code)
    else if (e.category === 'cancelled') e = new ApiError(499, e.message, 'cancelled', null, code)
    else e = new ApiError(500, e.message ?? String(e), 'server_error', null, code)
  }
  send(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } })
}

// The request body as a web stream that fails past the upload limit.
function limitedBody(req) {
  let seen = 0
  return Readable.toWeb(req).pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        seen += chunk.byteLength
        if (seen > MAX_UPLOAD_BYTES) controller.error(new Error('too large'))
        else controller.enqueue(chunk)
      },
    }),
  )
}

const tooLarge = () =>
  new ApiError(413, `file is larger than the ${MAX_UPLOAD_BYTES >> 20} MB limit`,
    'invalid_request_error', 'file', 'file_too_large')

async function readForm(req) {
  if (Number(req.headers['content-length'] ?? 0) > MAX_UPLOAD_BYTES + 64 * 1024) throw tooLarge()
  const request = new Request('http://local/', {
    method: 'POST',
    headers: req.headers,
    body: limitedBody(req),
    duplex: 'half',
  })
  try {
    return await request.formData()
  } catch (e) {
    if (e?.cause?.message === 'too large' || e?.message === 'too large') throw tooLarge()
    throw new ApiError(400, 'the body must be multipart/form-data', 'invalid_request_error')
  }
}

async function transcribe(t, req, res, task) {
  if (task === 'translate' && !t.multilingual)
    throw new ApiError(400, `the model served here (${MODEL}) is English-only and cannot translate; ` +
      'run the service with a multilingual model (STENOGRAPH_MODEL=base, small, …)',
      'invalid_request_error', 'model', 'model_not_multilingual')
  const form = await readForm(req)
  const file = form.get('file')
  if (!(file instanceof Blob)) throw new ApiError(400, 'file: a file upload is required', 'invalid_request_error', 'file', 'invalid_value')
  const model = form.get('model')
  if (model !== 'whisper-1' && model !== MODEL)
    throw new ApiError(400, `model '${model}' is not served here; use 'whisper-1' or '${MODEL}'`,
      'invalid_request_error', 'model', 'model_not_found')
  const format = form.get('response_format') ?? 'json'
  if (!FORMATS.has(format))
    throw new ApiError(400, `response_format must be one of ${[...FORMATS].sort().join(', ')}`,
      'invalid_request_error', 'response_format', 'invalid_value')
  const temperature = Number(form.get('temperature') ?? 0)
  if (!Number.isFinite(temperature))
    throw new ApiError(400, 'temperature must be a number', 'invalid_request_error', 'temperature', 'invalid_value')
  const granularities = form.getAll('timestamp_granularities[]')
  if (granularities.some((g) => g !== 'word' && g !== 'segment'))
    throw new ApiError(400, "timestamp_granularities[] takes 'word' and/or 'segment'",
      'invalid_request_error', 'timestamp_granularities', 'invalid_value')

  const abort = new AbortController()
  res.on('close', () => res.writableFinished || abort.abort())
  const tr = await t.transcribe(Buffer.from(await file.arrayBuffer()), {
    language: form.get('language') || undefined,
    initialPrompt: form.get('prompt') || undefined,
    temperature,
    wordTimestamps: granularities.includes('word'),
    task,
    signal: abort.signal,
  })
  return send(res, 200, tr.render(format), contentType(format))
}

export async function start(port = 0) {
  const t = await Transcriber.load(MODEL)
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url, 'http://local').pathname
      if (req.method === 'GET' && path === '/health') return send(res, 200, { status: 'ok', model: t.model })
      if (req.method === 'POST' && path === '/v1/audio/transcriptions') return await transcribe(t, req, res, 'transcribe')
      if (req.method === 'POST' && path === '/v1/audio/translations') return await transcribe(t, req, res, 'translate')
      throw new ApiError(404, `no route for ${req.method} ${path}`, 'invalid_request_error')
    } catch (e) {
      if (!res.headersSent) sendError(res, e)
    }
  })
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  return server
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await start(Number(process.env.PORT ?? 8000))
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
}
