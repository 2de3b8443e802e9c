// ES module entry: the same native binding as index.js.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const binding = require('./index.js')

export const { Transcriber, Transcript, LiveStream, DEFAULT_MODEL, GPU_BUILD, contentType, fetchModel } = binding
export default binding
