/* Live transcription with Stenograph's C API: pushes a WAV file (16-bit PCM) in 20 ms
 * pieces, as a call would arrive, and prints each event as it comes.
 *
 *   stream FILE.wav [MODEL]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stenograph.h"

static void on_event(const steno_stream_event *ev, void *user) {
    (void)user;
    switch (ev->kind) {
    case STENO_EVENT_TYPE_SPEECH_STARTED: printf("speech started at %.2f s\n", ev->at); break;
    case STENO_EVENT_TYPE_PARTIAL: printf("  ... %s [%s]\n", ev->text, ev->unstable); break;
    case STENO_EVENT_TYPE_SPEECH_STOPPED: printf("speech stopped at %.2f s\n", ev->at); break;
    case STENO_EVENT_TYPE_FINAL: printf("final [%.2f-%.2f] %s\n", ev->start, ev->end, ev->text); break;
    }
    fflush(stdout);
}

static int fail(const char *what, steno_status status) {
    char message[512];
    steno_last_error_message(message, sizeof message);
    fprintf(stderr, "%s: %s: %s\n", what, steno_status_name(status), message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FILE.wav [MODEL]\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    unsigned char header[44];
    /* A canonical 44-byte WAV header: 16-bit PCM, mono. */
    if (fread(header, 1, 44, f) != 44 || memcmp(header, "RIFF", 4) != 0 || header[34] != 16 || header[22] != 1) {
        fprintf(stderr, "%s: not a 16-bit mono PCM WAV file\n", argv[1]);
        fclose(f);
        return 1;
    }
    uint32_t rate = header[24] | header[25] << 8 | header[26] << 16 | (uint32_t)header[27] << 24;

    steno_transcriber *t = NULL;
    steno_status status = steno_transcriber_new(argc == 3 ? argv[2] : "tiny.en", "auto", &t);
    if (status != STENO_STATUS_OK) { fclose(f); return fail("loading the model", status); }
    steno_stream_options opts = steno_stream_options_default();
    steno_stream *s = NULL;
    status = steno_stream_new(t, &opts, on_event, NULL, &s);
    size_t piece = rate / 50;
    int16_t *buf = malloc(piece * sizeof *buf);
    size_t n;
    while (status == STENO_STATUS_OK && buf && (n = fread(buf, sizeof *buf, piece, f)) > 0)
        status = steno_stream_push_pcm_i16(s, buf, n, rate);
    if (status == STENO_STATUS_OK) status = steno_stream_finish(s);
    int rc = status == STENO_STATUS_OK ? 0 : fail(argv[1], status);
    free(buf);
    fclose(f);
    steno_stream_free(s);
    steno_transcriber_free(t);
    return rc;
}
